"""N-Triples, the export's base file: unique lines, sorted by the build's engine, written once; every other
RDF format is formatted from its lines as they are written (`kg.writers.rdf_files`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from kg.writers.files import Hashed, replace_atomically
from kg.writers.lines import SORT_BYTES, changed, sorted_ranges, text_batches, write_buffer


def write_sorted_lines(connection: duckdb.DuckDBPyConnection, lines: str, path: Path, scratch: Path,
                       sort_bytes: int = SORT_BYTES,
                       each: Callable[[pa.LargeStringArray], None] = lambda lines: None) -> tuple[int, str]:
    """The unique lines of a query (column `line`), sorted by code point, to `path`; returns how many, and
    the file's SHA-256. `each` is handed every batch of lines written, in order.

    The lines are stored once (in a temporary table: kept in memory up to the engine's limit, spilled to its
    scratch files beyond it; twice as fast to fill as a table of the on-disk database) and sorted range by
    range (`kg.writers.lines.sorted_ranges`: many ranges are first written apart into Parquet under
    `scratch` in one pass), so the memory a sort needs stays bounded however many lines there are. Repeats,
    adjacent once sorted, are dropped with a vectorised comparison of each line with the one before it (a
    hash DISTINCT of every line needs far more memory than sorting)."""
    connection.execute(f"CREATE OR REPLACE TEMP TABLE lines_to_sort AS SELECT line FROM ({lines})")
    temporary = replace_atomically(path)
    count = 0
    previous = None
    with open(temporary, "wb") as file:
        handle = Hashed(file)
        for lines_in_range in sorted_ranges(connection, "lines_to_sort", "line", scratch / "line-ranges", sort_bytes):
            for column in text_batches(lines_in_range):
                if not len(column):
                    continue
                new = changed(column, previous)
                unique = column if pc.all(new).as_py() else column.filter(new)
                write_buffer(unique, handle)
                each(unique)
                count += len(unique)
                previous = column[-1].as_py()
    connection.execute("DROP TABLE lines_to_sort")
    shutil.rmtree(scratch / "line-ranges", ignore_errors=True)
    temporary.replace(path)
    return count, handle.sha256.hexdigest()
