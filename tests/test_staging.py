"""The export is replaced as a whole: kill a build at any moment and the folder holds the old export or the new."""

import fcntl
import hashlib
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from kg.errors import KgError
from kg.export import build
from kg.writers.staging import JOURNAL, LOCK, finish_swap, settled


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_state(out):
    """The manifest, after checking that every file it lists is there with the bytes it names."""
    manifest = json.loads((settled(out) / "manifest.json").read_text())
    for name, sha in manifest["files"].items():
        assert digest(out / name) == sha, f"{name} does not belong to the export its manifest describes"
    return manifest


@pytest.fixture(scope="module")
def two_stores(demo_export, tmp_path_factory):
    """The demo store, and a copy with a tenth of its works gone (so the two exports differ in every file)."""
    folder = tmp_path_factory.mktemp("stores")
    first, second = folder / "a.sqlite", folder / "b.sqlite"
    shutil.copy(demo_export / "kg-store.sqlite", first)
    shutil.copy(demo_export / "kg-store.sqlite", second)
    with sqlite3.connect(second) as db:
        db.execute("DELETE FROM works WHERE rowid % 10 = 0")
    return first, second


def test_a_build_killed_at_any_moment_leaves_the_old_or_the_new_export(two_stores, tmp_path):
    first, second = two_stores
    out = tmp_path / "export"
    old = build(first, out).to_json()
    new = build(second, tmp_path / "reference").to_json()
    assert old["files"]["kg.nt"] != new["files"]["kg.nt"]
    started = time.monotonic()
    build(second, tmp_path / "timing")
    duration = time.monotonic() - started + 1.5  # a fresh process also imports kg
    seen = set()
    rng = random.Random(7)
    for _ in range(8):
        process = subprocess.Popen([sys.executable, "-m", "kg", "build", "--store", str(second), "--out", str(out)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = export_state(out)
        assert state in (old, new)
        seen.add("new" if state == new else "old")
        if state == new:  # start the next round from the old export again
            build(first, out)
    assert "old" in seen


def test_a_swap_cut_short_is_completed_by_the_next_reader(two_stores, tmp_path):
    first, second = two_stores
    out = tmp_path / "export"
    build(first, out)
    new = build(second, tmp_path / "new")
    stage = out / ".kg-build-cut"
    shutil.copytree(tmp_path / "new", stage)
    entries = sorted(p.name for p in stage.iterdir() if p.name != "manifest.json") + ["manifest.json"]
    (out / JOURNAL).write_text(json.dumps({"staging": stage.name, "entries": entries}))
    (stage / "kg.nt").replace(out / "kg.nt")  # the kill came after the first rename
    assert export_state(out) == new.to_json()  # reading settles the swap first
    assert not (out / JOURNAL).exists() and not stage.exists()
    finish_swap(out)  # nothing left to do
    assert export_state(out) == new.to_json()


def test_two_builds_of_one_folder_do_not_interleave(two_stores, tmp_path):
    first, _ = two_stores
    out = tmp_path / "export"
    out.mkdir()
    with open(out / LOCK, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(KgError, match="another kg build is writing"):
            build(first, out)
    build(first, out)
    export_state(out)


def test_the_previous_export_is_removed_after_the_build_returns(two_stores, tmp_path):
    first, second = two_stores
    out = tmp_path / "export"
    build(first, out)
    old_nt = (out / "kg.nt").stat().st_ino
    new = build(second, out).to_json()
    assert export_state(out) == new  # in place as soon as build returns
    deadline = time.monotonic() + 30
    while list(out.glob(".kg-old-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(out.glob(".kg-old-*")), "the detached removal of the previous export did not finish"
    assert (out / "kg.nt").stat().st_ino != old_nt
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [LOCK]


def test_a_previous_export_left_behind_is_removed_by_the_next_build(two_stores, tmp_path):
    first, _ = two_stores
    out = tmp_path / "export"
    build(first, out)
    leftover = out / ".kg-old-killed"  # its removal was killed with the machine
    (leftover / "tables").mkdir(parents=True)
    (leftover / ".old-kg.nt").write_text("stale")
    build(first, out)
    assert not leftover.exists()
    export_state(out)
