"""End-to-end tests of the `kg` command line, run as a user would (subprocesses)."""

import json
import shutil

from conftest import DEMO, PAGES, ROOT, kg


def test_version_and_help():
    assert kg("--version").stdout.startswith("kg, version")
    help_text = kg("--help").stdout
    listed = help_text.split("Commands:", 1)[1].splitlines()
    commands = {line.split()[0] for line in listed if line.startswith("  ") and line.split()}
    assert commands == {"feed", "enrich", "budget", "matches", "build", "threads", "render", "report", "query", "load",
                        "publish", "run", "daily", "diff", "follow", "snapshot"}


def test_feed_json_prints_142_records():
    result = kg("feed", *PAGES, "--json", "--year", "2025")
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 142 and len({r["key"] for r in records}) == 142
    assert "142 papers" in result.stderr and "15 duplicates merged" in result.stderr


def test_feed_errors_are_one_line_without_traceback(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    for args in (["/no/such/file.txt"], [empty], [], ["--hf-date", "2026-13-45"]):
        result = kg("feed", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_hf_date_reads_every_page_of_the_day(hf_server):
    """A day with 120 papers: the API gives 50 unless asked and pages with p, so kg pages until the day is done."""
    from hfserver import HuggingFaceServer
    from test_sources import items_on

    with HuggingFaceServer(items_on("2024-12-10", 120), max_limit=50) as server:
        result = kg("feed", "--hf-date", "2024-12-10", "--hf-url", server.url, "--json")
    assert result.returncode == 0, result.stderr
    papers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(papers) == 120 and {p["feed_date"] for p in papers} == {"2024-12-10"}
    assert "hf-daily-2024-12-10: 120" in result.stderr


def test_budget_without_a_key_says_the_keyless_limits(server):
    result = kg("budget", "--openalex-url", server.url, env={"OPENALEX_API_KEY": ""})
    assert result.returncode == 0 and "1,000 credits" in result.stdout and "openalex.org" in result.stdout
    assert not server.log.lines


def test_budget_with_a_key_asks_rate_limit(server):
    from oaserver import Plan

    server.reset(plan=Plan(keys={"cli-key-5": 10_000}))
    result = kg("budget", "--openalex-url", server.url, env={"OPENALEX_API_KEY": "cli-key-5"})
    assert result.returncode == 0, result.stderr
    assert "$0.0000 used of $1.0000" in result.stdout and "search $0.001" in result.stdout
    assert server.log.lines == ["/rate-limit"]
    wrong = kg("budget", "--openalex-url", server.url, env={"OPENALEX_API_KEY": "nope"})
    assert wrong.returncode == 2 and "rejected the API key" in wrong.stderr and "Traceback" not in wrong.stderr


def test_enrich_matches_build_against_the_test_server(tmp_path, server, hf_server):
    from oaserver import Plan

    server.reset(plan=Plan(keys={"cli-key-77": 10_000}))
    out = tmp_path / "out"
    result = kg("enrich", *PAGES[:1], "--year", "2024", "--openalex-url", server.url, "--hf-url", hf_server.url,
                "--out", out, env={"OPENALEX_API_KEY": "cli-key-77"})
    assert result.returncode == 0, result.stderr
    assert "OpenAlex requests: " in result.stderr and "Hugging Face requests: search 53 " in result.stderr
    credits = server.log.credits["cli-key-77"]
    assert f"spent ${credits / 10_000:.4f} ({credits} credits), ${1 - credits / 10_000:.4f} left today" in result.stderr
    matches = [json.loads(line) for line in kg("matches", "--out", out, "--json").stdout.splitlines()]
    assert len(matches) == 53 and {m["feed"] for m in matches} == {PAGES[0].name}
    assert all(set(m) >= {"feed", "index", "title", "work_id", "method", "score", "reason"} for m in matches)
    assert sum(1 for m in matches if m["work_id"]) >= 50
    kept = next(out.glob("*.columns")) / "works.parquet"  # enrich flattened what it stored, for the build
    assert "stored records flattened into" in result.stderr and kept.is_file()
    before = kept.stat()
    built = kg("build", "--out", out)
    assert built.returncode == 0, built.stderr
    after = kept.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # nothing parsed: not rewritten
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["feed_works"] == sum(1 for m in matches if m["work_id"])
    for path in out.rglob("*"):
        if path.is_file():
            assert b"cli-key-77" not in path.read_bytes(), path


def test_build_without_store_says_what_to_do(tmp_path):
    result = kg("build", "--out", tmp_path)
    assert result.returncode == 2 and "run `kg enrich" in result.stderr and "Traceback" not in result.stderr


def test_run_demo_offline(tmp_path):
    result = kg("run", DEMO / "demo-feed.txt", "--snapshot", DEMO, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "53 matched, 0 unmatched" in result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["counts"]["feed_works"] == 53
    assert {"kg.ttl", "kg.nt", "kg.jsonld", "kg.graphml", "kg.gexf", "tables/works.parquet", "threads.json",
            "tables/threads.parquet", "tables/feed_entries.csv"} <= set(manifest["files"])
    figures = {p.name for p in (tmp_path / "figures").glob("*.svg")}
    assert {"threads.svg", "coauthors.svg", "thread-T1.svg"} <= figures
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert f"open {tmp_path / 'report.html'}" in result.stderr
    shown = kg("threads", "--out", tmp_path)
    assert shown.returncode == 0 and "T1" in shown.stdout
    as_json = json.loads(kg("threads", "--out", tmp_path, "--json").stdout)
    assert len(as_json["threads"]) == manifest["counts"]["threads"]


def test_rebuild_in_a_new_process_gives_byte_identical_files(tmp_path):
    """Hash-seeded ordering would only show across processes, so build twice from the command line."""
    assert kg("run", DEMO / "demo-feed.txt", "--snapshot", DEMO, "--out", tmp_path).returncode == 0
    first = (tmp_path / "manifest.json").read_text()
    assert kg("build", "--out", tmp_path, env={"PYTHONHASHSEED": "12345"}).returncode == 0
    assert (tmp_path / "manifest.json").read_text() == first


def test_a_build_beyond_its_memory_limit_stops_with_the_way_on(demo_export, tmp_path):
    from kg.columns import MEMORY_LIMIT

    shutil.copy(demo_export / "kg-store.sqlite", tmp_path)
    assert kg("build", "--out", tmp_path).returncode == 0
    before = (tmp_path / "manifest.json").read_text()
    starved = kg("build", "--out", tmp_path, "--memory-limit", "1MB")
    assert starved.returncode == 2 and "Traceback" not in starved.stderr
    assert "memory limit of 1MB" in starved.stderr and "--memory-limit" in starved.stderr
    assert "kg snapshot build" in starved.stderr and (tmp_path / "manifest.json").read_text() == before
    nonsense = kg("build", "--out", tmp_path, "--memory-limit", "lots")
    assert nonsense.returncode == 2 and "'lots' is not a size" in nonsense.stderr
    assert f"[default: {MEMORY_LIMIT}]" in kg("build", "--help").stdout


def test_titles_that_look_like_markup_are_printed_as_they_are(tmp_path):
    feed = tmp_path / "list.txt"
    feed.write_text("A title with [/] and [bold]markup[/bold]\n")
    result = kg("feed", feed)
    assert result.returncode == 0, result.stderr
    assert "[/]" in result.stdout and "[bold]" in result.stdout


def test_feed_lists_what_it_skipped(tmp_path):
    page = tmp_path / "page.txt"
    text = (ROOT / "tests/fixtures/feeds/hf-papers-pages/000_8f59c69c3740c9c3.txt").read_text()
    page.write_text(text.replace("\n\n  • 3 authors\n", "\n\n  • 3 authors\n\n·\n", 1))
    as_json = kg("feed", page, "--json", "--year", "2025")
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    skipped = [r for r in records if r.get("skipped")]
    assert len(records) - len(skipped) == 53
    assert len(skipped) == 1 and skipped[0]["feed"] == "page.txt" and skipped[0]["line"] > 0
    assert "metadata without a title" in skipped[0]["reason"]
    table = kg("feed", page, "--year", "2025")
    assert "skipped" in table.stdout and "1 entries skipped" in table.stderr
