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
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kg.errors import KgError

JOURNAL = ".kg-swap.json"
LOCK = ".kg-build.lock"
STAGING_PREFIX = ".kg-build-"
OLD_PREFIX = ".kg-old-"


def finish_swap(out: Path) -> Path | None:
    """Complete a swap a killed build had committed to (idempotent); nothing to do without a journal.
    Returns the folder now holding the previous export's entries (`OUT/.kg-old-…`), for the caller to
    remove, or None."""
    journal = out / JOURNAL
    if not journal.exists():
        return None
    plan = json.loads(journal.read_text(encoding="utf-8"))
    stage = out / plan["staging"]
    for name in plan["entries"]:
        new, target = stage / name, out / name
        if not new.exists():
            continue  # already moved
        if target.exists():
            aside = stage / f".old-{name}"
            if aside.is_dir():
                shutil.rmtree(aside, ignore_errors=True)
            target.replace(aside)
        new.replace(target)
    journal.unlink()  # killed from here on, the stage is a leftover the next build removes
    old = out / (OLD_PREFIX + stage.name.removeprefix(STAGING_PREFIX))
    stage.replace(old)
    return old


def remove_later(folder: Path) -> None:
    """Remove `folder` in a detached process, so the caller need not wait for the disk to free it; where no
    process can be started, remove it now."""
    try:
        subprocess.Popen([sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)",
                          str(folder)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)


def settled(out: Path) -> Path:
    """OUT, with a swap a killed build had committed to completed first (when the folder can be written)."""
    with contextlib.suppress(OSError):
        old = finish_swap(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return out


def _remove_leftovers(out: Path) -> None:
    """Staging folders of builds stopped before their commit, and previous exports not yet removed."""
    for leftover in [*out.glob(f"{STAGING_PREFIX}*"), *out.glob(f"{OLD_PREFIX}*")]:
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
        _remove_leftovers(out)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        try:
            yield stage
            entries = sorted((p.name for p in stage.iterdir() if p.name != "manifest.json"), key=str) + ["manifest.json"]
            commit = out / f"{JOURNAL}.tmp"
            commit.write_text(json.dumps({"staging": stage.name, "entries": entries}), encoding="utf-8")
            os.replace(commit, out / JOURNAL)  # the commit point
            old = finish_swap(out)
            if old is not None:
                remove_later(old)
        finally:
            if not (out / JOURNAL).exists():
                shutil.rmtree(stage, ignore_errors=True)
