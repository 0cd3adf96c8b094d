"""RDF files (every registered `RdfWriter`), formatted from the N-Triples lines while `kg.nt` is written.

Each batch of sorted, unique lines is taken apart once (`kg.writers.triples.split`) in a thread of its own
and formatted by each writer in a thread of its own; pyarrow's kernels release the GIL, so the formatting
runs beside the engine sorting the next range. Batches stay in order (one thread per stage) and at most a
few are held at once.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa

from kg.writers.base import RdfWriter
from kg.writers.files import Hashed, replace_atomically
from kg.writers.lines import write_buffer
from kg.writers.triples import TripleBatch, split

IN_FLIGHT = 3
"""Batches taken apart or formatted at once, at most (each about a million lines)."""


class RdfFiles:
    """Open with the writers and their targets; `add` each batch of lines in order; `close` when all are in
    (the files are then moved into place). Leaving by an exception leaves no file behind."""

    def __init__(self, targets: list[tuple[RdfWriter, Path]], prefixes: dict[str, str]):
        self.targets, self.prefixes = targets, prefixes
        self._stack = ExitStack()
        self._temporaries = [replace_atomically(path) for _, path in targets]
        self._handles = [Hashed(self._stack.enter_context(open(t, "wb"))) for t in self._temporaries]
        self._splitter = self._stack.enter_context(ThreadPoolExecutor(1, "kg-split"))
        self._formatters = [self._stack.enter_context(ThreadPoolExecutor(1, f"kg-{w.name}")) for w, _ in targets]
        self._pending: deque[Future] = deque()
        self._before: tuple[str, str] | None = None
        self._written = False
        for (writer, _), handle in zip(targets, self._handles):
            handle.write(writer.header(prefixes).encode())

    def add(self, lines: pa.LargeStringArray) -> None:
        if not self.targets or not len(lines):
            return
        batch = self._splitter.submit(split, lines, self._before)
        for (writer, _), handle, formatter in zip(self.targets, self._handles, self._formatters):
            self._pending.append(formatter.submit(self._format, writer, batch, handle))
        while len(self._pending) > IN_FLIGHT * len(self.targets):
            self._pending.popleft().result()
        subject, predicate, _ = lines[-1].as_py().split(" ", 2)
        self._before, self._written = (subject, predicate), True

    def _format(self, writer: RdfWriter, batch: Future[TripleBatch], handle: Hashed) -> None:
        write_buffer(writer.pieces(batch.result(), self.prefixes).cast(pa.large_string()), handle)

    def close(self) -> dict[Path, str]:
        """Finish every file; returns each one's SHA-256, taken as it was written."""
        while self._pending:
            self._pending.popleft().result()
        for (writer, _), handle in zip(self.targets, self._handles):
            handle.write(writer.footer(not self._written).encode())
        self._stack.close()
        for temporary, (_, path) in zip(self._temporaries, self.targets):
            temporary.replace(path)
        return {path: handle.sha256.hexdigest() for (_, path), handle in zip(self.targets, self._handles)}

    def __enter__(self) -> RdfFiles:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is not None:
            self._stack.close()
            for temporary in self._temporaries:
                temporary.unlink(missing_ok=True)
