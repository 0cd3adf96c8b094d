"""Files of lines made by the build's engine (DuckDB): each line a value of one text column.

Two things every such writer needs: writing a column's values as they lie in Arrow's buffers (no Python
string per line), and sorting a table that may be far larger than memory. The second is done range by
range: split points sampled from the sort key cut the table into ranges that each fit a bounded sort, and
the ranges, sorted one after another, are one sorted output. One global ORDER BY (or a window over one)
of tens of millions of rows runs out of DuckDB's memory limit; a range never does. A range is selected
by a condition on the key (`key_ranges`) or, for many ranges of a wide table, written apart in one
pass first (`partition_ranges`), so that the table is not scanned once per range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from kg.writers.files import Writable

SORT_BYTES = 256 << 20
"""About how much a range sorted at once may hold (its rows' weight, in bytes)."""


def text_batches(relation: duckdb.DuckDBPyRelation) -> Iterator[pa.LargeStringArray]:
    """A query's single text column, batch by batch, in the query's order."""
    for batch in relation.to_arrow_reader():
        column = batch.column(0)
        if column.null_count:
            raise ValueError("a line to write is NULL")
        yield column if pa.types.is_large_string(column.type) else column.cast(pa.large_string())


def write_buffer(column: pa.LargeStringArray, handle: Writable) -> None:
    """The lines' bytes as they lie in Arrow's data buffer."""
    if len(column):
        offsets = memoryview(column.buffers()[1]).cast("q")[column.offset:column.offset + len(column) + 1]
        handle.write(memoryview(column.buffers()[2])[offsets[0]:offsets[-1]])


def write_columns(connection: duckdb.DuckDBPyConnection, query: str, outs: Sequence[Writable],
                  params: dict[str, Any] | None = None) -> int:
    """Write each text column of a query (each value a whole line) to its file of `outs`, in the query's
    order. Returns the rows written."""
    rows = 0
    for batch in connection.sql(query, params=params or None).to_arrow_reader():
        for number, out in enumerate(outs):
            column = batch.column(number)
            if column.null_count:
                raise ValueError("a line to write is NULL")
            write_buffer(column if pa.types.is_large_string(column.type) else column.cast(pa.large_string()), out)
        rows += batch.num_rows
    return rows


def split_points(connection: duckdb.DuckDBPyConnection, table: str, key: str, weight: str,
                 budget: int = SORT_BYTES, where: str = "TRUE") -> list[Any]:
    """Values of `key` cutting the rows of `table` that match `where` into ranges, in key order, each
    weighing about `budget` (`weight`: an SQL expression, a row's weight); none when one range will do."""
    total = connection.execute(f"SELECT coalesce(sum({weight}), 0) FROM {table} WHERE {where}").fetchall()[0][0]
    ranges = max(1, -(-int(total) // budget))
    if ranges == 1:
        return []
    quantiles = ", ".join(str(k / ranges) for k in range(1, ranges))
    found = connection.execute(f"SELECT quantile_disc(sort_key, [{quantiles}]) FROM (SELECT {key} AS sort_key "
                               f"FROM {table} WHERE {where}) USING SAMPLE 100000 ROWS (reservoir, 7)").fetchall()
    return sorted(set(found[0][0]))


def key_ranges(connection: duckdb.DuckDBPyConnection, table: str, key: str, weight: str,
               budget: int = SORT_BYTES, where: str = "TRUE") -> list[tuple[str, dict[str, Any]]]:
    """Conditions (SQL with its parameters) selecting each range of `split_points`, in key order.

    Rows with one key value fall in one range, so a sort that begins with `key` can run range by range.
    Each condition is a scan of the whole table: fine for a few ranges or a narrow table
    (`partition_ranges` writes many ranges of a wide one in one pass)."""
    bounds = [None, *split_points(connection, table, key, weight, budget, where), None]
    conditions = []
    for low, high in zip(bounds, bounds[1:]):
        parts = [*([f"{key} >= $low"] if low is not None else []), *([f"{key} < $high"] if high is not None else [])]
        conditions.append((" AND ".join(parts) or "TRUE",
                           {name: value for name, value in (("low", low), ("high", high)) if value is not None}))
    return conditions


def _text(value: str) -> str:
    """A DuckDB string literal (DuckDB reads backslashes as themselves; `kg.sqltext.text` is for both engines)."""
    return "'" + value.replace("'", "''") + "'"


def _range_of(column: str, splits: list[str], low: int, high: int) -> str:
    """The number of `column`'s range among ranges low…high: a balanced CASE tree over the split points, so
    a row costs about log2(ranges) comparisons."""
    if low == high:
        return str(low)
    middle = (low + high) // 2
    return (f"CASE WHEN {column} < {_text(splits[middle])} THEN {_range_of(column, splits, low, middle)} "
            f"ELSE {_range_of(column, splits, middle + 1, high)} END")


def partition_ranges(connection: duckdb.DuckDBPyConnection, table: str, column: str, splits: list[str],
                     folder: Path) -> list[str]:
    """Write the rows of `table` (text `column` only), in one pass, into one Parquet folder per range of
    `splits` under `folder`; returns, in key order, an SQL source for each range's rows."""
    connection.execute("SET partitioned_write_flush_threshold = 20000")  # buffers per range stay small
    connection.execute(f"COPY (SELECT {column}, {_range_of(column, splits, 0, len(splits))} AS range FROM {table}) "
                       f"TO {_text(str(folder))} (FORMAT parquet, PARTITION_BY (range), ROW_GROUP_SIZE 20000)")
    return [f"read_parquet({_text(str(folder / f'range={k}' / '*.parquet'))})"
            for k in range(len(splits) + 1) if (folder / f"range={k}").exists()]
