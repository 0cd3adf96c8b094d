"""End to end: a project followed day after day from the command line, against the test servers.

Day 1 reads two sample pages, day 2 the other two into the same folder; a third run with
`--refresh-after 0` picks up references OpenAlex added to a day-1 work in between.
"""

import json
import re
import sqlite3
from collections import Counter

import feedparser
import pytest

from conftest import PAGES, kg
from kg.feeds import read_inputs
from oaserver import Plan

LATE = "https://openalex.org/W6483222203"  # page 1's first paper; OpenAlex lists it without references at first


def keys(pages) -> set[str]:
    return {p.key for p in read_inputs([str(p) for p in pages], year=2024).papers}


def store_ids(out) -> set[str]:
    with sqlite3.connect(out / "kg-store.sqlite") as db:
        return {row[0] for row in db.execute("SELECT id FROM works")}


def threads_of(out) -> dict[str, set[str]]:
    return {t["id"]: set(t["papers"]) for t in json.loads((out / "threads.json").read_text())["threads"]}


def coverage_from_store(out) -> dict[str, int]:
    """The coverage figures, computed here straight from the store's tables and records."""
    with sqlite3.connect(out / "kg-store.sqlite") as db:
        status = dict(db.execute("SELECT key, status FROM resolutions"))
        work_of = dict(db.execute("SELECT key, work_id FROM resolutions WHERE work_id IS NOT NULL"))
        records = {w: json.loads(r) for w, r in db.execute("SELECT id, record FROM works")}
        papers = [k for (k,) in db.execute("SELECT key FROM feed_papers")]
    matched = [records[work_of[k]] for k in papers if k in work_of]
    authorships = [a for r in matched for a in r.get("authorships") or []]
    return {
        "feed_papers": len(papers),
        "matched": sum(status.get(k) == "matched" for k in papers),
        "pending": sum(status.get(k, "pending") == "pending" for k in papers),
        "with_references": sum(bool(r.get("referenced_works")) for r in matched),
        "with_abstract": sum(bool(r.get("abstract_inverted_index")) for r in matched),
        "authors": len(authorships),
        "authors_with_orcid": sum(bool((a.get("author") or {}).get("orcid")) for a in authorships),
    }


@pytest.fixture
def day(server, hf_server, tmp_path):
    out = tmp_path / "project"

    def run(*args):
        result = kg("run", *args, "--year", "2024", "--out", out, "--openalex-url", server.url,
                    "--hf-url", hf_server.url, "--rate", "1000")
        assert result.returncode == 0, result.stderr
        return result
    return out, run


def test_two_days_then_a_refresh(day, server):
    out, run = day
    server.reset(plan=Plan(throttle=False))
    server.world.revise(LATE, referenced_works=[])
    run(*PAGES[:2])
    day1_ids, day1_threads = store_ids(out), threads_of(out)
    assert LATE in day1_ids

    server.reset(plan=Plan(throttle=False))  # overnight OpenAlex filled in LATE's references
    result = run(*PAGES[2:])

    # Day 2 asked OpenAlex for no work it already had (LATE is not due for three days).
    asked = {f"https://openalex.org/{w}" for line in server.log.lines for w in re.findall(r"\bW\d+\b", line)}
    assert asked and not asked & day1_ids
    new = keys(PAGES[2:]) - keys(PAGES[:2])
    assert len(new) > 20

    # Threads that persist keep their ids.
    day2_threads = threads_of(out)
    kept = 0
    for tid, papers in day1_threads.items():
        holder = [t for t, p in day2_threads.items() if 2 * len(p & papers) > len(papers)]
        if holder:
            assert holder == [tid]
            kept += 1
    assert kept >= 1
    assert not set(day2_threads) - set(day1_threads) & {f"T{n}" for n in range(1, max(
        int(t[1:]) for t in day1_threads) + 1)}, "a new thread reused an old number"

    # `kg diff` and the report's first section list exactly day 2's new papers, each with its thread.
    diff = json.loads(kg("diff", "--out", out, "--json").stdout)
    assert {p["key"] for p in diff["new_papers"]} == new
    for paper in diff["new_papers"]:
        if paper["work_id"]:
            holder = [t for t, p in day2_threads.items() if paper["work_id"] in p]
            assert [paper["thread"]] == holder or (paper["thread"] is None and not holder)
    assert any(p["thread"] and p["evidence"] for p in diff["new_papers"])
    printed = kg("diff", "--out", out)
    assert printed.returncode == 0 and f"{len(new)} new feed papers" in printed.stdout
    assert f"{len(new)} new feed papers" in result.stderr
    report = (out / "report.html").read_text()
    changes = report[report.index('id="changes"'):report.index("<h2>Overview</h2>")]
    assert changes.count("<tr>") - changes.count("<thead><tr>") == len(new) + len(diff["threads"])

    digest = feedparser.parse((out / "digest.atom").read_bytes())
    assert not digest.bozo and len(digest.entries) == 2
    assert digest.entries[0].title.startswith("run 2") and f"{len(new)} new feed papers" in digest.entries[0].title

    manifest = json.loads((out / "manifest.json").read_text())["counts"]
    for name, value in coverage_from_store(out).items():
        assert manifest[f"coverage_{name}"] == value, name
    assert manifest["coverage_with_references"] < manifest["coverage_matched"]  # LATE, still without references

    # Day 3: nothing new in the feed, but LATE is due (--refresh-after 0) and now has its references.
    server.reset(plan=Plan(throttle=False))
    run(*PAGES[2:], "--refresh-after", "0")
    diff = json.loads(kg("diff", "--out", out, "--json").stdout)
    assert diff["new_papers"] == []
    refreshed = {r["work_id"]: r["added"] for r in diff["refreshed"]}
    gained = server.world.works[LATE.rsplit("/", 1)[1]]["referenced_works"]
    assert f"references 0 → {len(gained)}" in refreshed[LATE]
    cites = [line for line in (out / "kg.nt").read_text().splitlines()
             if line.startswith("<https://semopenalex.org/work/W6483222203> <http://purl.org/spar/cito/cites>")]
    assert len(cites) == len(set(gained))
    assert "references 0 →" in kg("diff", "--out", out).stdout
    assert len(feedparser.parse((out / "digest.atom").read_bytes()).entries) == 3


def test_a_rebuild_of_the_same_run_changes_nothing(day, server):
    out, run = day
    server.reset(plan=Plan(throttle=False))
    run(PAGES[3])
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix in (".json", ".atom", ".nt")}
    assert kg("build", "--out", out).returncode == 0
    for name, content in files.items():
        assert (out / name).read_bytes() == content, name
    assert Counter(json.loads(line)["status"] for line in kg("matches", "--out", out, "--json").stdout.splitlines())


def test_daily_follows_the_hugging_face_day(server, hf_server, tmp_path):
    server.reset(plan=Plan(throttle=False))
    out = tmp_path / "daily"
    result = kg("daily", "--date", "2024-11-06", "--out", out, "--openalex-url", server.url, "--hf-url", hf_server.url,
                "--rate", "1000")
    assert result.returncode == 0, result.stderr
    diff = json.loads(kg("diff", "--out", out, "--json").stdout)
    assert diff["feeds"] == ["hf-daily-2024-11-06"] and len(diff["new_papers"]) == 14
    assert (out / "report.html").exists() and (out / "digest.atom").exists()
    bad = kg("daily", "--date", "06/11/2024", "--out", out)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr
