"""Writing export files safely: a temporary sibling renamed over the target, scratch space next to it."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Protocol


def replace_atomically(path: Path) -> Path:
    """The temporary sibling a writer fills before it is renamed over `path` (no half-written exports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(path.name + ".tmp")


def write_atomically(path: Path, data: bytes | str) -> Path:
    """Write a whole file under a temporary name, then rename it into place: readers never see half a file."""
    temporary = replace_atomically(path)
    if isinstance(data, str):
        temporary.write_text(data, encoding="utf-8")
    else:
        temporary.write_bytes(data)
    temporary.replace(path)
    return path


def write_json(data: object, path: Path) -> Path:
    return write_atomically(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def scratch_folder(near: Path) -> tempfile.TemporaryDirectory:
    """Scratch space next to the output (same disk, usually the roomiest place the user chose)."""
    near.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=".kg-build-", dir=near)


class Writable(Protocol):
    def write(self, data: bytes | memoryview, /) -> int: ...


class Hashed:
    """A file being written, and the SHA-256 of what has been written to it (for the manifest, without
    reading the file back)."""

    def __init__(self, handle: BinaryIO):
        self.handle, self.sha256 = handle, hashlib.sha256()

    def write(self, data: bytes | memoryview) -> int:
        self.sha256.update(data)
        return self.handle.write(data)


class Behind:
    """Writes handed to a thread of their own, in order, so that hashing and writing one batch overlaps the
    engine making the next (both release the GIL). At most `ahead` writes wait; `close` waits for all and
    returns the handle written to. The data must not change once handed over (Arrow buffers do not)."""

    def __init__(self, handle: Writable, ahead: int = 4):
        self.handle, self._ahead = handle, ahead
        self._thread = ThreadPoolExecutor(1, "kg-write")
        self._pending: deque[Future] = deque()

    def write(self, data: bytes | memoryview) -> int:
        self._pending.append(self._thread.submit(self.handle.write, data))
        while len(self._pending) > self._ahead:
            self._pending.popleft().result()
        return len(data)

    def close(self) -> Writable:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._thread.shutdown(cancel_futures=True)
        return self.handle
