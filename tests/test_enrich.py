"""Enrichment over real HTTP against the local OpenAlex server and offline from a snapshot."""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import DEMO, PAGES, REAL, WORLD
from kg.enrich import EnrichOptions, Enricher
from kg.feeds import read_inputs
from kg.openalex import OpenAlexAPI, Snapshot
from kg.store import Store
from oaserver import Faults

TRUTH = [json.loads(line) for line in (WORLD / "truth.jsonl").read_text().splitlines()]


def pages():
    return read_inputs([str(p) for p in PAGES], year=2025).papers


def enrich(source, store_path, papers, **options):
    with Store(store_path) as store:
        summary = Enricher(source, store, EnrichOptions(**options)).run(papers)
    return summary


def api(server, **kwargs):
    return OpenAlexAPI(server.url, api_key="test-key-123", rate=1000, backoff=0.01, timeout=1, **kwargs)


def snapshot_of(store_path):
    """Everything a build reads from the store, in a comparable form."""
    with Store(store_path) as store:
        works = {w["id"]: w for w in store.works()}
        resolutions = {k: (r.work_id, r.method, r.status) for k, r in store.resolutions().items()}
        return works, resolutions, store.aliases(), store.roles()


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, world_server):
    """A fault-free enrichment of the four pages over HTTP, shared by the comparisons below."""
    world_server.reset()
    world_server.faults = Faults()
    path = tmp_path_factory.mktemp("ref") / "store.sqlite"
    client = api(world_server)
    summary = enrich(client, path, pages())
    return path, summary, dict(world_server.log.counts), client.stats


def test_matching_against_truth(reference_run):
    path, summary, _counts, _stats = reference_run
    with Store(path) as store:
        resolutions = store.resolutions()
        entries = store.feed_entries()
    truth = {(t["feed_file"], t["index"]): t for t in TRUTH}
    tp = fp = fn = 0
    for source, index, _line, key in entries:
        expected, got = truth[(source, index)], resolutions[key].work_id
        if got:
            tp += got in expected["work_ids"]
            fp += got not in expected["work_ids"]
            assert not (expected["case"] == "near_miss" and got not in expected["work_ids"])
        elif expected["work_ids"]:
            fn += 1
    assert len(entries) == 157
    assert tp / (tp + fp) >= 0.99 and tp / (tp + fn) >= 0.97


def test_request_counts_near_the_lower_bound(reference_run):
    path, summary, counts, stats = reference_run
    with Store(path) as store:
        feed_ids = {r.work_id for r in store.resolutions().values() if r.work_id}
        refs = {ref for wid in feed_ids for ref in store.referenced_works(wid)} - feed_ids
    merged = {json.loads(l)["old"] for l in (WORLD / "merged.jsonl").read_text().splitlines()}
    bound = 142 + math.ceil(len(refs) / 100)
    paid = counts["search"] + counts["list"]
    assert counts["search"] == 142
    assert paid <= 1.05 * bound, (counts, bound)
    assert counts["single"] == len(refs & merged)  # merged ids are followed by free single lookups
    assert stats.credits_usd == pytest.approx(counts["search"] * 0.001 + counts["list"] * 0.0001)


def test_second_run_sends_no_request(reference_run, server):
    path, *_ = reference_run
    before = snapshot_of(path)
    enrich(api(server), path, pages())
    assert sum(server.log.counts.values()) == 0 and not server.log.lines
    assert snapshot_of(path) == before


def test_merged_references_become_aliases(reference_run):
    path, *_ = reference_run
    merged = {json.loads(l)["old"]: json.loads(l)["new"] for l in (WORLD / "merged.jsonl").read_text().splitlines()}
    with Store(path) as store:
        aliases = store.aliases()
        stored = {w["id"] for w in store.works()}
    assert aliases and all(merged[old] == new for old, new in aliases.items())
    assert not set(aliases) & stored


def test_faults_end_with_the_same_store(reference_run, server, tmp_path):
    path, *_ = reference_run
    server.faults = Faults(fault_rate=0.10, seed=11, timeout_seconds=1.2)
    client = api(server, retries=10)
    enrich(client, tmp_path / "faulty.sqlite", pages())
    assert sum(server.log.faults.values()) > 10
    assert snapshot_of(tmp_path / "faulty.sqlite") == snapshot_of(path)


def test_spent_budget_keeps_everything_and_resumes(reference_run, server, tmp_path):
    path, *_ = reference_run
    store_path = tmp_path / "budget.sqlite"
    server.faults = Faults(daily_budget_usd=0.05)
    result = subprocess.run(
        [sys.executable, "-m", "kg", "enrich", *map(str, PAGES), "--year", "2025", "--openalex-url", server.url,
         "--store", str(store_path), "--out", str(tmp_path), "--rate", "1000"],
        capture_output=True, text=True, env={**os.environ, "OPENALEX_API_KEY": "budget-key-9"})
    assert result.returncode == 3, result.stderr
    assert "budget" in result.stderr and "rerun" in result.stderr and "Traceback" not in result.stderr
    with Store(store_path) as store:
        partial = len(store.resolutions())
    assert 40 <= partial < 142
    server.reset()
    server.faults = Faults()
    enrich(api(server), store_path, pages())
    assert server.log.counts["search"] == 142 - partial
    assert snapshot_of(store_path)[:3] == snapshot_of(path)[:3]
    for file in tmp_path.iterdir():
        assert b"budget-key-9" not in file.read_bytes()
    assert "budget-key-9" not in result.stderr + result.stdout


def test_kill_mid_run_then_rerun(reference_run, server, tmp_path):
    path, *_ = reference_run
    store_path = tmp_path / "killed.sqlite"
    server.faults = Faults(latency=0.02)
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "enrich", *map(str, PAGES), "--year", "2025", "--openalex-url", server.url,
         "--store", str(store_path), "--out", str(tmp_path), "--rate", "1000", "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while server.log.counts["search"] < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with Store(store_path) as store:
        assert 0 < len(store.resolutions()) < 142
    server.faults = Faults()
    enrich(api(server), store_path, pages())
    assert snapshot_of(store_path)[:3] == snapshot_of(path)[:3]


def test_snapshot_gives_the_same_resolutions_offline(reference_run, tmp_path):
    path, *_ = reference_run
    enrich(Snapshot(WORLD), tmp_path / "offline.sqlite", pages())
    online, offline = snapshot_of(path), snapshot_of(tmp_path / "offline.sqlite")
    assert {k: v[0] for k, v in offline[1].items()} == {k: v[0] for k, v in online[1].items()}


def test_citing_works_are_fetched_on_request(server, tmp_path):
    papers = [p for p in pages() if p.title.startswith("Parallelizing Linear Transformers")]
    enrich(api(server), tmp_path / "citing.sqlite", papers, citing=30)
    with Store(tmp_path / "citing.sqlite") as store:
        [feed_id] = [r.work_id for r in store.resolutions().values()]
        citing = list(store.works("citing"))
    assert 0 < len(citing) <= 30
    assert all(feed_id in w["referenced_works"] for w in citing)


def test_real_demo_feed_resolves_every_mapped_id(real_server, tmp_path):
    """Against the real records: the snapshot finds all; the API finds those OpenAlex can filter on."""
    mapped = {r["arxiv_id"].lower(): r["openalex_id"] for r in csv.DictReader((REAL / "arxiv_map.csv").open())}
    feed = read_inputs([str(DEMO / "demo-feed.txt")]).papers
    enrich(Snapshot(REAL), tmp_path / "snap.sqlite", feed)
    real_server.reset()
    enrich(api(real_server), tmp_path / "api.sqlite", feed)
    for name in ("snap.sqlite", "api.sqlite"):
        with Store(tmp_path / name) as store:
            resolved = {k.split(":", 1)[1]: r.work_id for k, r in store.resolutions().items() if r.work_id}
        expected = {a for a in (p.arxiv_id.lower() for p in feed) if a in mapped}
        if name == "api.sqlite":
            expected.discard("cond-mat/0201015")  # its only arXiv URL is a pdf_url, which OpenAlex cannot filter on
        assert expected <= set(resolved), expected - set(resolved)


def test_depth_two_follows_references_of_references(tmp_path):
    papers = [p for p in pages() if p.title.startswith("Parallelizing Linear Transformers")]
    enrich(Snapshot(WORLD), tmp_path / "deep.sqlite", papers, depth=2)
    with Store(tmp_path / "deep.sqlite") as store:
        first = {w["id"] for w in store.works("reference")}
        second = {w["id"] for w in store.works("reference2")}
        expected = {r for w in first for r in store.referenced_works(w)} | set(store.aliases().values())
    assert first and second
    assert second <= expected
