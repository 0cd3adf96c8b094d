"""Enrichment over real HTTP against the local OpenAlex and Hugging Face imitations, and offline from a snapshot."""

import csv
import datetime as dt
import json
import math
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEMO, PAGES, REAL, WORLD, kg
from kg.enrich import Enricher, EnrichOptions
from kg.export import build
from kg.feeds import read_inputs
from kg.sources.huggingface import HuggingFace
from kg.sources.local import Snapshot
from kg.sources.openalex import OpenAlexAPI
from kg.store import Store
from kg.tables import audit_rows
from oaserver import FAULT_KINDS, Faults, OpenAlexServer, Plan

TRUTH = [json.loads(line) for line in (WORLD / "truth.jsonl").read_text().splitlines()]
MERGED = {json.loads(line)["old"]: json.loads(line)["new"] for line in (WORLD / "merged.jsonl").read_text().splitlines()}


def pages():
    return read_inputs([str(p) for p in PAGES], year=2024).papers


def api(server, **kwargs):
    """A client with no pace of its own: only the server's throttling slows it down."""
    kwargs.setdefault("rate", math.inf)
    kwargs.setdefault("timeout", 2)
    return OpenAlexAPI(server.url, backoff=0.01, **kwargs)


RUN_AT = "2026-12-01T06:00:00+00:00"
"""Every run of these tests is recorded at this time (as SOURCE_DATE_EPOCH pins it on the command line), so
two projects built from the same answers can be compared byte for byte."""


def enrich(source, store_path, papers, hf=None, **options):
    options.setdefault("workers", 4)
    options.setdefault("run_at", RUN_AT)
    index = HuggingFace(hf.url, backoff=0.01) if hf is not None else None
    with Store(store_path) as store:
        return Enricher(source, store, EnrichOptions(**options), papers_index=index).run(papers)


def snapshot_of(store_path):
    """Everything a build reads from the store, in a comparable form."""
    with Store(store_path) as store:
        works = {w["id"]: w for w in store.works()}
        resolutions = {k: (r.work_id, r.method, r.status) for k, r in store.resolutions().items()}
        return works, resolutions, store.aliases(), store.roles()


def outputs(store_path, scratch):
    """What a user sees of a project: `kg matches --json` (as text) and `kg.nt` (as bytes), beside the store."""
    with Store(store_path) as store:
        matches = "\n".join(json.dumps(row, ensure_ascii=False) for row in audit_rows(store))
    build(store_path, scratch)
    return snapshot_of(store_path), matches, (scratch / "kg.nt").read_bytes()


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, world_server, hf_world_server):
    """The four pages, keyless, the server throttling at 10 req/s, 4 workers, no client-side rate limit."""
    world_server.reset()
    hf_world_server.reset()
    path = tmp_path_factory.mktemp("ref") / "store.sqlite"
    client = api(world_server)
    summary = enrich(client, path, pages(), hf=hf_world_server)
    return path, summary, world_server.log, client.stats


def test_matching_against_truth(reference_run):
    path, *_ = reference_run
    with Store(path) as store:
        resolutions = store.resolutions()
        entries = store.feed_entries()
    truth = {(t["feed_file"], t["index"]): t for t in TRUTH}
    tp = fp = fn = 0
    for entry in entries:
        expected, got = truth[(entry.feed, entry.index)], resolutions[entry.key].work_id
        if got:
            tp += got in expected["work_ids"]
            fp += got not in expected["work_ids"]
        elif expected["work_ids"]:
            fn += 1
    assert len(entries) == 157
    assert fp == 0 and fn == 0 and tp == 147


def test_free_first_spends_within_the_bound_despite_throttling(reference_run):
    """Server's own accounting ≤ 1.1 × (ceil(ids/100) + ceil(unique references/100) + 10 per title that neither
    Hugging Face nor autocomplete resolved); the throttle slowed kg down but never stopped it."""
    path, summary, log, stats = reference_run
    with Store(path) as store:
        resolutions = store.resolutions()
        feed_ids = {r.work_id for r in resolutions.values() if r.work_id}
        references = {ref for wid in feed_ids for ref in store.referenced_works(wid)} - feed_ids
    via_hf = [r for r in resolutions.values() if r.method.startswith("hf_")]
    paid_titles = [r for r in resolutions.values() if r.method == "search"]
    bound = math.ceil(142 / 100) + math.ceil(len(references) / 100) + 10 * len(paid_titles)
    assert log.throttled > 0 and stats.throttled == log.throttled
    assert len(via_hf) >= 120 and len(paid_titles) <= 12
    assert log.spent_credits <= 1.1 * bound, (log.spent_credits, bound)
    assert stats.spent_usd == pytest.approx(log.spent_credits * 0.0001)
    assert dict(stats.counts) == dict(log.counts)
    assert log.counts["search"] == len(paid_titles)


def test_every_resolution_records_its_evidence(reference_run):
    path, *_ = reference_run
    with Store(path) as store:
        resolutions = store.resolutions().values()
    for resolution in resolutions:
        if resolution.method.startswith("hf_"):
            assert resolution.evidence.startswith("arXiv ") and "Hugging Face" in resolution.evidence
        elif resolution.method == "autocomplete":
            assert "autocomplete" in resolution.evidence
        else:
            assert resolution.status == "not_in_openalex" and "not found in OpenAlex" in resolution.reason


def test_second_run_sends_no_request_to_either_service(reference_run, server, hf_server):
    path, *_ = reference_run
    before = snapshot_of(path)
    enrich(api(server), path, pages(), hf=hf_server)
    assert not server.log.lines and not hf_server.log.lines
    assert snapshot_of(path) == before


def test_merged_references_are_recorded_once_as_unknown(reference_run, server):
    """Merged ids answer 404 since 2026: the API cannot say what they became, so they are kept as missing."""
    path, summary, *_ = reference_run
    with Store(path) as store:
        missing = {r[0] for r in store.db.execute("SELECT id FROM missing")}
        stored = {w["id"] for w in store.works()}
        assert not store.aliases()
    assert missing and missing <= set(MERGED) and not missing & stored
    assert summary.missing_references == len(missing)


def test_snapshot_maps_merged_ids_the_api_cannot(tmp_path):
    papers = [p for p in pages() if p.title.startswith("Parallelizing Linear Transformers")]
    enrich(Snapshot(WORLD), tmp_path / "offline.sqlite", papers)
    with Store(tmp_path / "offline.sqlite") as store:
        aliases = store.aliases()
        stored = {w["id"] for w in store.works()}
    assert aliases and all(MERGED[old] == new for old, new in aliases.items())
    assert set(aliases.values()) <= stored


def test_faults_end_with_the_same_store(reference_run, server, hf_server, tmp_path):
    path, *_ = reference_run
    server.reset(Faults(fault_rate=0.10, seed=11, timeout_seconds=1.2, kinds=("500", "truncated", "badjson", "timeout")))
    enrich(api(server, retries=10), tmp_path / "faulty.sqlite", pages(), hf=hf_server)
    assert sum(server.log.faults.values()) > 3
    assert snapshot_of(tmp_path / "faulty.sqlite") == snapshot_of(path)


def test_budget_spent_mid_run_exits_3_and_resumes_after_the_day_resets(reference_run, reference_outputs, server,
                                                                        hf_server, tmp_path):
    """On the command line: exit 3 with the reset time, then the next day's rerun gives byte-identical
    `kg matches --json` and `kg.nt` (SOURCE_DATE_EPOCH pins the recorded run time, as for reproducible builds)."""
    path, *_ = reference_run
    server.reset(plan=Plan(keyless_credits=80))
    out = tmp_path / "out"
    args = ["enrich", *PAGES, "--year", "2024", "--openalex-url", server.url, "--hf-url", hf_server.url,
            "--out", out, "--rate", "1000"]
    pinned = {"SOURCE_DATE_EPOCH": str(int(dt.datetime.fromisoformat(RUN_AT).timestamp()))}
    stopped = kg(*args, env=pinned)
    assert stopped.returncode == 3, stopped.stderr
    message = stopped.stderr.strip().splitlines()[-1]
    assert "budget is spent" in message and "resets at" in message and "rerun the same command" in message
    assert "Traceback" not in stopped.stderr
    assert server.log.budget_refusals >= 1 and server.log.spent_credits <= 80
    with Store(out / "kg-store.sqlite") as store:
        assert 0 < len(store.resolutions()) < 142
    server.new_day()
    resumed = kg(*args, env=pinned)
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot_of(out / "kg-store.sqlite") == reference_outputs[0]
    matches = kg("matches", "--out", out, "--json")
    assert matches.returncode == 0, matches.stderr
    assert matches.stdout == kg("matches", "--store", path, "--json").stdout
    assert matches.stdout.rstrip("\n") == reference_outputs[1]
    assert kg("build", "--out", out).returncode == 0
    assert (out / "kg.nt").read_bytes() == reference_outputs[2]


def test_budget_flag_is_never_exceeded_with_four_workers(server, hf_server, tmp_path):
    server.reset(plan=Plan(throttle=False))
    client = api(server, budget_usd=0.0035)
    papers = [p for p in pages()]
    for paper in papers:
        paper.title = paper.title + " (a title nobody knows)"
    from kg.errors import BudgetExhausted
    with pytest.raises(BudgetExhausted, match="--budget"):
        enrich(client, tmp_path / "capped.sqlite", papers, workers=4)
    assert server.log.spent_credits <= 35
    assert client.stats.spent_usd <= 0.0035 + 1e-12


KILL_POINTS = {  # a moment inside each phase, told by what the servers have been asked so far
    "Hugging Face search": lambda oa, hf: hf.log.counts["search"] >= 40,
    "DOI and landing pages": lambda oa, hf: oa.log.counts["list"] >= 2,
    "autocomplete": lambda oa, hf: oa.log.counts["autocomplete"] >= 3,
    "paid search": lambda oa, hf: oa.log.counts["search"] >= 3,
    "references": lambda oa, hf: oa.log.counts["list"] >= 12,
}


@pytest.mark.parametrize("phase", list(KILL_POINTS))
def test_kill_in_any_phase_then_rerun_converges_to_the_same_store(phase, reference_run, server, hf_server, tmp_path):
    path, *_ = reference_run
    store_path = tmp_path / "killed.sqlite"
    server.reset(Faults(latency=0.05))
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "enrich", *map(str, PAGES), "--year", "2024", "--openalex-url", server.url,
         "--hf-url", hf_server.url, "--store", str(store_path), "--out", str(tmp_path), "--rate", "1000",
         "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not KILL_POINTS[phase](server, hf_server) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before the kill point"
    process.send_signal(signal.SIGKILL)
    process.wait()
    server.reset()
    enrich(api(server), store_path, pages(), hf=hf_server)
    assert snapshot_of(store_path) == snapshot_of(path)


@pytest.mark.parametrize("credits", [1, 3, 12, 60, 110])
def test_a_budget_spent_in_any_phase_then_a_new_day_ends_in_the_same_matches_and_graph(
        credits, reference_run, reference_outputs, server, hf_server, tmp_path):
    """1 credit stops among the DOI lookups, 3 among the landing pages, 12 at the first paid search,
    60 among the paid searches, 110 among the references."""
    from kg.errors import BudgetExhausted

    path, *_ = reference_run
    store_path = tmp_path / "budget.sqlite"
    server.reset(plan=Plan(keyless_credits=credits))
    with pytest.raises(BudgetExhausted):
        enrich(api(server), store_path, pages(), hf=hf_server)
    assert server.log.spent_credits <= credits
    server.new_day()
    server.plan = Plan()
    enrich(api(server), store_path, pages(), hf=hf_server)
    assert outputs(store_path, tmp_path / "resumed") == reference_outputs


@pytest.fixture(scope="module")
def reference_outputs(reference_run, tmp_path_factory):
    return outputs(reference_run[0], tmp_path_factory.mktemp("reference-export"))


def two_pages():
    return read_inputs([str(p) for p in PAGES[:2]], year=2024).papers


@pytest.fixture(scope="module")
def openalex_only(world_server, tmp_path_factory):
    """Two pages with OpenAlex alone (`--no-hf`), no faults, no throttling: what every faulty run must equal."""
    world_server.reset(plan=Plan(throttle=False))
    folder = tmp_path_factory.mktemp("openalex-only")
    enrich(api(world_server), folder / "store.sqlite", two_pages())
    counts = world_server.log.counts
    return outputs(folder / "store.sqlite", folder / "export"), sum(counts.values()), counts["list"] + counts["search"]


@pytest.mark.parametrize("kind", FAULT_KINDS)
@settings(max_examples=3, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(where=st.data())
def test_a_fault_anywhere_ends_in_the_same_matches_and_graph(kind, where, openalex_only, server, tmp_path_factory):
    """Whichever requests meet the fault (Hypothesis chooses), the project ends byte-identical to the undisturbed
    one; a budget refusal stops the run (exit 3 on the command line) and the next day's rerun completes it."""
    from kg.errors import BudgetExhausted

    reference, requests, lists = openalex_only
    at = where.draw(st.frozensets(st.integers(0, (lists if kind == "partial" else requests) - 1), min_size=1,
                                  max_size=3), label="faulty requests")
    folder = tmp_path_factory.mktemp(f"fault-{kind}")
    lists_only = ("/works?",) if kind == "partial" else ()  # only a list answer can be partial
    server.reset(Faults(at=at, kinds=(kind,), timeout_seconds=1.5, paths=lists_only), Plan(throttle=False))
    try:
        enrich(api(server, timeout=1), folder / "store.sqlite", two_pages())
    except BudgetExhausted:
        assert kind == "budget" and server.log.faults[kind] == 1
        server.reset(plan=Plan(throttle=False))
        enrich(api(server, timeout=1), folder / "store.sqlite", two_pages())
    else:
        reached = sum(1 for n in at if n < server.faulted_ordinal)
        assert server.log.faults[kind] == reached and (kind != "budget" or not reached)
    assert outputs(folder / "store.sqlite", folder / "export") == reference


def test_snapshot_gives_the_same_resolutions_offline(reference_run, tmp_path):
    path, *_ = reference_run
    enrich(Snapshot(WORLD), tmp_path / "offline.sqlite", pages())
    online, offline = snapshot_of(path), snapshot_of(tmp_path / "offline.sqlite")
    assert {k: v[0] for k, v in offline[1].items()} == {k: v[0] for k, v in online[1].items()}


def test_without_hugging_face_titles_fall_back_to_autocomplete_and_search(server, tmp_path):
    server.reset(plan=Plan(throttle=False))
    papers = [p for p in pages() if p.provenance[0].source == PAGES[-1].name]
    enrich(api(server), tmp_path / "nohf.sqlite", papers)
    with Store(tmp_path / "nohf.sqlite") as store:
        methods = {r.method for r in store.resolutions().values()}
    assert methods <= {"autocomplete", "search"} and "autocomplete" in methods
    assert server.log.counts["autocomplete"] == len(papers)


def test_citing_works_are_fetched_in_batches_and_uncited_works_cost_nothing(server, tmp_path):
    server.reset(plan=Plan(throttle=False))
    papers = [p for p in pages() if p.title.startswith(("Parallelizing Linear Transformers", "Gated Delta"))]
    enrich(api(server), tmp_path / "citing.sqlite", papers, citing=30)
    with Store(tmp_path / "citing.sqlite") as store:
        feed_ids = sorted({r.work_id for r in store.resolutions().values() if r.work_id})
        citing = list(store.works("citing"))
        cited = [w for w in feed_ids if (store.record(w) or {}).get("cited_by_count")]
    citing_calls = [line for line in server.log.lines if "cites" in line]
    assert cited and 0 < len(citing) <= 30 * len(cited)
    assert all(set(w["referenced_works"]) & set(feed_ids) for w in citing)
    assert len(citing_calls) >= 1 and all("per_page=200" in line and "cursor=" in line for line in citing_calls)
    server.reset(plan=Plan(throttle=False))
    enrich(api(server), tmp_path / "citing.sqlite", papers, citing=30)
    assert not server.log.lines


def test_works_with_cut_authorships_are_refetched_as_free_singletons(tmp_path):
    record = {"id": "https://openalex.org/W77", "title": "A paper with many authors", "publication_year": 2024,
              "authorships": [{"author": {"id": f"https://openalex.org/A{i}", "display_name": f"Author {i}"},
                               "author_position": "middle", "institutions": []} for i in range(150)],
              "referenced_works": [], "cited_by_count": 0}
    folder = tmp_path / "world"
    folder.mkdir()
    (folder / "works.jsonl").write_text(json.dumps(record) + "\n")
    feed = tmp_path / "feed.txt"
    feed.write_text("W77\n")
    with OpenAlexServer([folder], plan=Plan(throttle=False)) as server:
        enrich(api(server), tmp_path / "many.sqlite", read_inputs([str(feed)]).papers)
        assert server.log.counts == {"list": 1, "singleton": 1}
        with Store(tmp_path / "many.sqlite") as store:
            assert len(store.record("https://openalex.org/W77")["authorships"]) == 150
        server.reset(plan=Plan(throttle=False))
        enrich(api(server), tmp_path / "many.sqlite", read_inputs([str(feed)]).papers)
        assert not server.log.lines


def test_recent_papers_not_in_openalex_stay_pending_and_are_looked_for_again(server, tmp_path):
    server.reset(plan=Plan(throttle=False))
    feed = tmp_path / "new.json"
    feed.write_text(json.dumps([{"paper": {"id": "2611.99999", "title": "A paper OpenAlex has not indexed yet",
                                           "publishedAt": "2026-11-28T00:00:00.000Z",
                                           "submittedOnDailyAt": "2026-11-29T00:00:00.000Z"}}]))
    papers = read_inputs([str(feed)]).papers
    store_path = tmp_path / "pending.sqlite"
    import datetime as dt
    summary = enrich(api(server), store_path, papers, today=dt.date(2026, 11, 30))
    assert summary.pending == 1
    server.reset(plan=Plan(throttle=False))
    enrich(api(server), store_path, papers, today=dt.date(2026, 11, 30))
    assert not server.log.lines  # looked for less than a day ago
    with sqlite3.connect(store_path) as db:
        db.execute("UPDATE resolutions SET resolved_at='2026-11-01T00:00:00+00:00'")
    summary = enrich(api(server), store_path, papers, today=dt.date(2026, 11, 30))
    assert server.log.counts["list"] >= 1 and summary.pending == 1
    with sqlite3.connect(store_path) as db:
        db.execute("UPDATE resolutions SET resolved_at='2026-11-01T00:00:00+00:00'")
    summary = enrich(api(server), store_path, papers, today=dt.date(2027, 3, 1))  # no longer recent
    assert summary.pending == 0 and summary.unmatched[0][1].status == "not_in_openalex"


def test_dois_with_filter_syntax_are_looked_up_alone(server, tmp_path):
    """A DOI carrying ',' or '|' would inject a filter into its batch of 100: it is asked on its own instead."""
    server.reset(plan=Plan(throttle=False))
    dois = [w["doi"] for w in list(server.world.works.values())[:5] if w.get("doi")][:3]
    feed = tmp_path / "dois.txt"
    feed.write_text("\n".join(dois + ["10.9999/zzz,publication_year:1800"]) + "\n")
    summary = enrich(api(server), tmp_path / "dois.sqlite", read_inputs([str(feed)]).papers)
    assert summary.matched == len(dois)
    assert any("doi:10.9999" in line for line in server.log.lines)
    filters = [line for line in server.log.lines if "filter=" in line]
    assert not any("publication_year:1800" in line or "publication_year%3A1800" in line for line in filters)


def test_real_demo_feed_resolves_every_mapped_id(real_server, tmp_path):
    """Against the real records: the snapshot finds all; the API finds those OpenAlex can filter on."""
    mapped = {r["arxiv_id"].lower(): r["openalex_id"] for r in csv.DictReader((REAL / "arxiv_map.csv").open())}
    feed = read_inputs([str(DEMO / "demo-feed.txt")]).papers
    enrich(Snapshot(REAL), tmp_path / "snap.sqlite", feed)
    real_server.reset(plan=Plan(throttle=False))
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


def test_one_odd_entry_never_aborts_the_run(server, hf_server, tmp_path):
    """An id with a non-ASCII digit and a 10,000-character title are reported, and the rest is enriched."""
    server.reset(plan=Plan(throttle=False))
    ids = tmp_path / "ids.txt"
    ids.write_text("W\u0be6\n2406.00622\n")
    long = tmp_path / "long.json"
    long.write_text(json.dumps([{"paper": {"id": "not-an-id", "title": "word " * 2000}}]))
    papers = read_inputs([str(ids), str(long)]).papers
    summary = enrich(api(server), tmp_path / "odd.sqlite", papers, hf=hf_server)
    assert summary.papers == 3 and summary.matched == 1
    assert {r.status for _, r in summary.unmatched} == {"not_in_openalex"}
    assert all(len(line) < 8000 for line in server.log.lines + hf_server.log.lines)


def test_hugging_face_unreachable_is_one_warning_and_a_fallback_then_a_later_run_asks_again(reference_run, server,
                                                                                             hf_server, tmp_path):
    """No route to Hugging Face: kg says so once, resolves titles with OpenAlex's own free steps and its paid
    search, exits 0 with the same matches less what only Hugging Face found; the next run asks for those."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on: connection refused, as with no route
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/api"
    server.reset(plan=Plan(throttle=False))
    out = tmp_path / "out"
    page = [str(PAGES[-1])]
    args = ["enrich", *page, "--year", "2024", "--openalex-url", server.url, "--out", out, "--rate", "1000"]
    result = kg(*args, "--hf-url", dead)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "Hugging Face paper search failed" in warnings[0], result.stderr
    assert "OpenAlex autocomplete" in warnings[0] and "Traceback" not in result.stderr

    with Store(reference_run[0]) as store:
        reference = store.resolutions()
    with Store(out / "kg-store.sqlite") as store:
        degraded = store.resolutions()
    keys = {p.key for p in read_inputs(page, year=2024).papers}
    for key in keys:
        if degraded[key].work_id:
            assert degraded[key].work_id == reference[key].work_id, key
        else:
            assert reference[key].work_id is None or reference[key].method.startswith("hf_"), key
    only_hf = {k for k in keys if reference[k].work_id and not degraded[k].work_id}
    assert all(degraded[k].resolved_without == ["Hugging Face paper search"]
                           for k in keys if reference[k].method.startswith("hf_"))
    rows = [json.loads(line) for line in kg("matches", "--out", out, "--json").stdout.splitlines()]
    assert {r["title"] for r in rows if r["resolved_without"] == ["Hugging Face paper search"]} >= \
        {p.title for p in read_inputs(page, year=2024).papers if p.key in only_hf}

    hf_server.reset()  # Hugging Face is back: the papers only it could find are asked for again, and found
    again = kg(*args, "--hf-url", hf_server.url)
    assert again.returncode == 0 and "warning:" not in again.stderr, again.stderr
    with Store(out / "kg-store.sqlite") as store:
        healed = store.resolutions()
    assert {k: healed[k].work_id for k in keys} == {k: reference[k].work_id for k in keys}
    assert hf_server.log.counts["search"] >= len(only_hf)


def test_autocomplete_failing_falls_back_to_paid_search_with_one_warning(server, tmp_path):
    """Autocomplete answering 5xx past its retries: one warning, and the titles go to the paid search."""
    server.reset(plan=Plan(throttle=False), faults=Faults(fault_rate=1.0, kinds=("500",), paths=("/autocomplete",)))
    papers = [p for p in pages() if p.provenance[0].source == PAGES[-1].name]
    summary = enrich(api(server, retries=1), tmp_path / "noac.sqlite", papers)
    assert len(summary.warnings) == 1 and summary.warnings[0].startswith("OpenAlex autocomplete failed")
    with Store(tmp_path / "noac.sqlite") as store:
        resolutions = store.resolutions()
    assert {r.method for r in resolutions.values()} <= {"search"}
    assert sum(r.work_id is not None for r in resolutions.values()) >= len(papers) - 3
    assert all(r.resolved_without == ["OpenAlex autocomplete"] for r in resolutions.values())


def test_a_few_arxiv_ids_cost_one_landing_page_call_whatever_url_form_they_need(server, tmp_path):
    """Two ids whose works have no arXiv DOI (found by their landing page) and one OpenAlex does not know: one
    DOI call, then a single landing-page call asking every URL form, not one call per tier of forms (then the
    references, as always)."""
    ids = tmp_path / "ids.txt"
    ids.write_text("arXiv:2501.00122\narXiv:2402.00675\narXiv:2512.99999\n")
    server.reset(plan=Plan(throttle=False))
    enrich(api(server), tmp_path / "store.sqlite", read_inputs([str(ids)]).papers)
    landing = [line for line in server.log.lines if "landing_page_url" in line]
    assert len(landing) == 1 and "export.arxiv.org" in landing[0]
    assert sum("filter=doi:" in line for line in server.log.lines) == 1
    with Store(tmp_path / "store.sqlite") as store:
        methods = sorted((r.method, r.status) for r in store.resolutions().values())
    assert methods == [("arxiv_location", "matched"), ("arxiv_location", "matched"), ("identifier", "not_in_openalex")]
