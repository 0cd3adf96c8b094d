"""N-Triples, the export's base file: unique lines, sorted by the build's engine, written once; every other
RDF format is serialised from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from kg.writers.files import replace_atomically


def _text_batches(relation: duckdb.DuckDBPyRelation) -> Iterator[pa.LargeStringArray]:
    for batch in relation.to_arrow_reader():
        column = batch.column(0)
        if column.null_count:
            raise ValueError("a line to write is NULL")
        yield column if pa.types.is_large_string(column.type) else column.cast(pa.large_string())


def _write_buffer(column: pa.LargeStringArray, handle: BinaryIO) -> None:
    """The lines' bytes as they lie in Arrow's data buffer: no Python string per line."""
    if len(column):
        offsets = memoryview(column.buffers()[1]).cast("q")[column.offset:column.offset + len(column) + 1]
        handle.write(memoryview(column.buffers()[2])[offsets[0]:offsets[-1]])


def write_column(connection: duckdb.DuckDBPyConnection, query: str, handle: BinaryIO) -> int:
    """Write a query's single text column (each value a whole line) to `handle`, in the query's order.
    Returns the lines written."""
    lines = 0
    for column in _text_batches(connection.sql(query)):
        _write_buffer(column, handle)
        lines += len(column)
    return lines


def write_sorted_lines(connection: duckdb.DuckDBPyConnection, lines: str, path: Path,
                       sort_bytes: int = 256 << 20) -> int:
    """The unique lines of a query (column `line`), sorted by code point, to `path`; returns how many.

    The lines are stored once (in the engine's database, on disk), then sorted range by range, each range
    holding about `sort_bytes` of text between split points sampled from the lines: the memory a sort
    needs stays bounded however many lines there are, and the ranges, written in order, are one sorted
    file. Repeats, adjacent once sorted, are dropped with a vectorised comparison of each line with the
    one before it (a hash DISTINCT of every line needs far more memory than sorting)."""
    connection.execute(f"CREATE OR REPLACE TABLE lines_to_sort AS SELECT line FROM ({lines})")
    size = connection.execute("SELECT coalesce(sum(strlen(line)), 0) FROM lines_to_sort").fetchall()[0][0]
    ranges = max(1, -(-size // sort_bytes))
    splits: list[str] = []
    if ranges > 1:
        quantiles = ", ".join(str(k / ranges) for k in range(1, ranges))
        found = connection.execute(f"SELECT quantile_disc(line, [{quantiles}]) FROM lines_to_sort "
                                   "USING SAMPLE 100000 ROWS (reservoir, 7)").fetchall()[0][0]
        splits = sorted(set(found))
    bounds = [None, *splits, None]
    temporary = replace_atomically(path)
    count = 0
    previous = None
    with open(temporary, "wb") as handle:
        for low, high in zip(bounds, bounds[1:]):
            where = " AND ".join([*(["line >= $low"] if low is not None else []),
                                  *(["line < $high"] if high is not None else [])]) or "TRUE"
            query = connection.sql(f"SELECT line FROM lines_to_sort WHERE {where} ORDER BY line",
                                   params={k: v for k, v in (("low", low), ("high", high)) if v is not None})
            for column in _text_batches(query):
                if not len(column):
                    continue
                before = pa.concat_arrays([pa.array([previous], pa.large_string()), column.slice(0, len(column) - 1)])
                unique = column.filter(pc.fill_null(pc.not_equal(column, before), True))
                _write_buffer(unique, handle)
                count += len(unique)
                previous = column[-1].as_py()
    connection.execute("DROP TABLE lines_to_sort")
    temporary.replace(path)
    return count
