"""N-Triples, the export's base file: unique lines, sorted by the build's engine, written once; every other
RDF format is serialised from it."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow as pa

from kg.writers.files import replace_atomically


def write_column(connection: duckdb.DuckDBPyConnection, query: str, handle: BinaryIO) -> int:
    """Write a query's single text column (each value a whole line) to `handle`, in the query's order, by
    copying Arrow's string buffers: no Python string per line. Returns the lines written."""
    lines = 0
    for batch in connection.sql(query).to_arrow_reader():
        column = batch.column(0)
        if column.null_count:
            raise ValueError(f"a line of {query[:60]!r}… is NULL")
        if not pa.types.is_large_string(column.type):
            column = column.cast(pa.large_string())
        if len(column):
            offsets = memoryview(column.buffers()[1]).cast("q")[column.offset:column.offset + len(column) + 1]
            handle.write(memoryview(column.buffers()[2])[offsets[0]:offsets[-1]])
        lines += len(column)
    return lines


def write_sorted_lines(connection: duckdb.DuckDBPyConnection, lines: str, path: Path) -> int:
    """The unique lines of a query (column `line`), sorted by code point, to `path`; returns how many."""
    temporary = replace_atomically(path)
    with open(temporary, "wb") as handle:
        count = write_column(connection, f"SELECT DISTINCT line FROM ({lines}) ORDER BY line", handle)
    temporary.replace(path)
    return count
