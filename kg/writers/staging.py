"""An export replaced as a whole: built in a staging folder, then swapped in under a journal, one build at a time.

`kg build` writes every file into `OUT/.kg-build-…/` (a reader of OUT sees only the previous export),
then commits: it writes `OUT/.kg-swap.json` naming the staging folder and the entries to move, renames
each entry into place (a directory such as `tables/` by moving the old one aside first), and removes the
journal. The renames take well under a millisecond; should a kill land between them, the journal says
what was being done, and `finish_swap` (run by the next build and by every command that reads an export)
completes it, so readers always see exactly the old export or exactly the new one. A staging folder without
a journal is a build that was stopped before its commit: it is removed. A lock file keeps two builds of
one folder from interleaving.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kg.errors import KgError

JOURNAL = ".kg-swap.json"
LOCK = ".kg-build.lock"
STAGING_PREFIX = ".kg-build-"


def finish_swap(out: Path) -> None:
    """Complete a swap a killed build had committed to (idempotent); nothing to do without a journal."""
    journal = out / JOURNAL
    if not journal.exists():
        return
    plan = json.loads(journal.read_text(encoding="utf-8"))
    stage = out / plan["staging"]
    for name in plan["entries"]:
        new, target = stage / name, out / name
        if not new.exists():
            continue  # already moved
        if new.is_dir() and target.exists():
            aside = stage / f".old-{name}"
            shutil.rmtree(aside, ignore_errors=True)
            target.replace(aside)
        new.replace(target)
    journal.unlink()
    shutil.rmtree(stage, ignore_errors=True)


def settled(out: Path) -> Path:
    """OUT, with a swap a killed build had committed to completed first (when the folder can be written)."""
    with contextlib.suppress(OSError):
        finish_swap(out)
    return out


def _remove_abandoned_stages(out: Path) -> None:
    for leftover in out.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def staged_export(out: Path) -> Iterator[Path]:
    """A staging folder to build the export into; on success its entries replace OUT's, as a whole.

    The caller writes the manifest last into the staging folder; the manifest is moved last too.
    """
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KgError(f"another kg build is writing {out}/; wait for it to finish, or build into another --out") \
                from None
        finish_swap(out)
        _remove_abandoned_stages(out)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        try:
            yield stage
            entries = sorted((p.name for p in stage.iterdir() if p.name != "manifest.json"), key=str) + ["manifest.json"]
            commit = out / f"{JOURNAL}.tmp"
            commit.write_text(json.dumps({"staging": stage.name, "entries": entries}), encoding="utf-8")
            os.replace(commit, out / JOURNAL)  # the commit point
            finish_swap(out)
        finally:
            if not (out / JOURNAL).exists():
                shutil.rmtree(stage, ignore_errors=True)
