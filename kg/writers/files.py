"""Writing export files safely: a temporary sibling renamed over the target, scratch space next to it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path


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
