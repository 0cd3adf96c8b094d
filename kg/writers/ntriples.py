"""N-Triples, the export's base file: unique lines, sorted on disk, written once; every other RDF format is
serialised from it."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

from kg.writers.files import replace_atomically


class SortedLines:
    """Unique lines in sorted order, sorted on disk in runs of `run_size` lines (an external merge sort)."""

    def __init__(self, scratch: Path, run_size: int = 1_000_000):
        self.scratch = scratch
        self.run_size = run_size
        self.buffer: set[str] = set()
        self.runs: list[Path] = []

    def add(self, lines: Iterable[str]) -> None:
        self.buffer.update(lines)
        if len(self.buffer) >= self.run_size:
            self._spill()

    def _spill(self) -> None:
        run = self.scratch / f"run-{len(self.runs):05d}.nt"
        with open(run, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(sorted(self.buffer))
        self.runs.append(run)
        self.buffer.clear()

    def __iter__(self) -> Iterator[str]:
        if not self.runs:
            yield from sorted(self.buffer)
            return
        if self.buffer:
            self._spill()
        with ExitStack() as stack:
            files = [stack.enter_context(open(run, encoding="utf-8", newline="")) for run in self.runs]
            previous = None
            for line in heapq.merge(*files):
                if line != previous:
                    yield line
                    previous = line


def write_lines(lines: Iterable[str], path: Path) -> int:
    temporary = replace_atomically(path)
    count = 0
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        for line in lines:
            handle.write(line)
            count += 1
    temporary.replace(path)
    return count
