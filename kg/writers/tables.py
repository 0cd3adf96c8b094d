"""The export tables: CSV and Parquet per table, streamed in batches with fixed schemas."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from kg.tables import SCHEMAS
from kg.writers.files import replace_atomically


class TableFiles:
    """CSV and Parquet per table, written in batches of `batch_size` rows with fixed schemas: rows of a query
    (`add_query`, the work tables) or of Python (`add`, the feed and thread tables), in the order given."""

    def __init__(self, folder: Path, schemas: dict[str, pa.Schema] = SCHEMAS, batch_size: int = 50_000):
        self.folder = folder
        self.schemas = schemas
        self.batch_size = batch_size
        self.batches: dict[str, list[dict]] = {name: [] for name in schemas}
        self.rows: dict[str, int] = {name: 0 for name in schemas}
        self.stack = ExitStack()
        self.writers: dict[str, tuple] = {}

    def _writer(self, name: str) -> tuple:
        if name not in self.writers:
            csv_path = replace_atomically(self.folder / f"{name}.csv")
            parquet_path = replace_atomically(self.folder / f"{name}.parquet")
            self.writers[name] = (
                self.stack.enter_context(pa_csv.CSVWriter(str(csv_path), self.schemas[name],
                                                          write_options=pa_csv.WriteOptions(quoting_style="needed"))),
                self.stack.enter_context(pq.ParquetWriter(str(parquet_path), self.schemas[name])))
        return self.writers[name]

    def _write(self, name: str, rows: list[dict]) -> None:
        self._write_table(name, pa.Table.from_pylist(rows, schema=self.schemas[name]))

    def add_query(self, connection: duckdb.DuckDBPyConnection, name: str, query: str) -> None:
        """Stream a query's rows (in its order) into table `name`, in row groups of exactly `batch_size` rows,
        so that the files do not depend on how the engine happened to chunk its result."""
        pending: list[pa.RecordBatch] = []
        held = 0
        for batch in connection.sql(query).to_arrow_reader():
            pending.append(batch)
            held += len(batch)
            while held >= self.batch_size:
                table = pa.Table.from_batches(pending)
                self._write_table(name, table.slice(0, self.batch_size))
                rest = table.slice(self.batch_size)
                pending, held = rest.to_batches(), len(rest)
        if held or not self.rows[name]:
            self._write_table(name, pa.Table.from_batches(pending, schema=pending[0].schema) if pending
                              else pa.Table.from_pylist([], schema=self.schemas[name]))

    def _write_table(self, name: str, table: pa.Table) -> None:
        table = table.cast(self.schemas[name]).combine_chunks()
        for writer in self._writer(name):
            writer.write_table(table)
        self.rows[name] += len(table)

    def add(self, rows: Iterable[tuple[str, dict]]) -> None:
        for name, row in rows:
            batch = self.batches[name]
            batch.append(row)
            if len(batch) >= self.batch_size:
                self._write(name, batch)
                batch.clear()

    def close(self) -> list[Path]:
        """Finish every table (empty ones included) and return the files written."""
        for name, batch in self.batches.items():
            if batch or not self.rows[name]:
                self._write(name, batch)
        self.stack.close()
        written = []
        for name in self.schemas:
            for suffix in (".csv", ".parquet"):
                path = self.folder / f"{name}{suffix}"
                replace_atomically(path).replace(path)
                written.append(path)
        return written
