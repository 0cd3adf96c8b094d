"""Files of lines made by the build's engine (DuckDB): each line a value of one text column.

Two things every such writer needs: writing a column's values as they lie in Arrow's buffers (no Python
string per line), and sorting a table that may be far larger than memory. The second is done range by
range: split points sampled from the sort key cut the table into ranges that each fit a bounded sort, and
the ranges, sorted one after another, are one sorted output. One global ORDER BY (or a window over one)
of tens of millions of rows runs out of DuckDB's memory limit; a range never does. A range is selected
by a condition on the key (`key_ranges`) or, for many ranges of a wide table, written apart in one
pass first (`partition_ranges`), so that the table is not scanned once per range (`sorted_ranges`
chooses).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

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


def changed(column: pa.Array, before: str | None) -> pa.BooleanArray:
    """Whether each value (none NULL) differs from the one before it, `before` being the value ahead of the
    column (None: none). The column is compared with itself shifted by one, as slices (no copy)."""
    head = pa.array([before is None or column[0].as_py() != before]) if len(column) else pa.array([], pa.bool_())
    if len(column) < 2:
        return head
    return pa.concat_arrays([head, pc.not_equal(column.slice(1), column.slice(0, len(column) - 1))])


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


SAMPLE_ROWS = 100_000
"""About how many rows the split points are taken from."""


def split_points(connection: duckdb.DuckDBPyConnection, table: str, key: str, weight: str,
                 budget: int = SORT_BYTES, where: str = "TRUE") -> list[Any]:
    """Values of `key` cutting the rows of `table` that match `where` into ranges, in key order, each
    weighing about `budget` (`weight`: an SQL expression, a row's weight); none when one range will do.

    The quantiles come from a sample of whole vectors of rows (DuckDB's `system` sampling: no per-row
    draw, about a hundredth of the time of a reservoir sample of single rows); any split points give
    the same output, only the ranges' sizes depend on them, and a range is sorted out of core anyway."""
    total, rows = connection.execute(f"SELECT coalesce(sum({weight}), 0), count(*) FROM {table} "
                                     f"WHERE {where}").fetchall()[0]
    ranges = max(1, -(-int(total) // budget))
    if ranges == 1:
        return []
    quantiles = ", ".join(str(k / ranges) for k in range(1, ranges))
    percent = min(100.0, 100.0 * SAMPLE_ROWS / rows)
    found = connection.execute(f"SELECT quantile_disc(sort_key, [{quantiles}]) FROM (SELECT {key} AS sort_key "
                               f"FROM {table} WHERE {where} USING SAMPLE {percent:.6f} PERCENT (system, 7))"
                               ).fetchall()[0][0]
    return sorted({value for value in found or () if value is not None})


def key_ranges(connection: duckdb.DuckDBPyConnection, table: str, key: str, weight: str,
               budget: int = SORT_BYTES, where: str = "TRUE") -> list[tuple[str, dict[str, Any]]]:
    """Conditions (SQL with its parameters) selecting each range of `split_points`, in key order.

    Rows with one key value fall in one range, so a sort that begins with `key` can run range by range.
    Each condition is a scan of the whole table: fine for a few ranges or a narrow table
    (`partition_ranges` writes many ranges of a wide one in one pass)."""
    return _conditions(key, split_points(connection, table, key, weight, budget, where))


def _conditions(key: str, splits: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    bounds = [None, *splits, None]
    conditions = []
    for low, high in zip(bounds, bounds[1:]):
        parts = [*([f"{key} >= $low"] if low is not None else []), *([f"{key} < $high"] if high is not None else [])]
        conditions.append((" AND ".join(parts) or "TRUE",
                           {name: value for name, value in (("low", low), ("high", high)) if value is not None}))
    return conditions


FILTERED_RANGES = 8
"""Up to this many ranges (2 GB of lines at `SORT_BYTES`, what the engine holds in memory by default), each
range of a text column is selected by a filter over the stored table (`sorted_ranges`): scans of a table in
memory cost less than writing the ranges apart. Beyond it the table spills to disk, and a scan per range
would read it again and again."""


def sorted_ranges(connection: duckdb.DuckDBPyConnection, table: str, column: str, folder: Path,
                  budget: int = SORT_BYTES) -> Iterator[duckdb.DuckDBPyRelation]:
    """The rows of `table`'s text `column`, sorted by it, as one query per range of at most about `budget`
    bytes, in order: ranges filtered from the table when few (`FILTERED_RANGES`), else written apart into
    `folder` first (`partition_ranges`)."""
    splits = split_points(connection, table, column, f"strlen({column})", budget)
    if len(splits) < FILTERED_RANGES:
        for condition, params in _conditions(column, splits):
            yield connection.sql(f"SELECT {column} FROM {table} WHERE {condition} ORDER BY {column}",
                                 params=params or None)
        return
    for source in partition_ranges(connection, table, column, splits, folder):
        yield connection.sql(f"SELECT {column} FROM {source} ORDER BY {column}")


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
