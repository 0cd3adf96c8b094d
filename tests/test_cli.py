"""End-to-end tests of the `kg` command line, run as a user would (subprocesses)."""

import json
import os
import subprocess
import sys

from conftest import DEMO, PAGES, ROOT


def kg(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "kg", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def test_version_and_help():
    assert kg("--version").stdout.startswith("kg, version")
    help_text = kg("--help").stdout
    for command in ("feed", "enrich", "matches", "build", "threads", "render", "report", "query", "load", "publish",
                    "run"):
        assert command in help_text


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


def test_hf_date_fetches_the_daily_papers_api(tmp_path, world_server):
    """A live-API feed, served by a local HTTP server standing in for huggingface.co."""
    import http.server
    import threading
    body = (ROOT / "tests/fixtures/feeds/hf-api/daily_papers-DiQu1997-NewsAssistant.json").read_bytes()
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = kg("feed", "--hf-date", "2026-07-30", "--hf-url", f"http://127.0.0.1:{server.server_port}/api", "--json")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert seen == ["/api/daily_papers?date=2026-07-30"]
    assert len(result.stdout.splitlines()) == 3


def test_enrich_matches_build_against_the_test_server(tmp_path, server):
    out = tmp_path / "out"
    result = kg("enrich", *PAGES[:1], "--year", "2025", "--openalex-url", server.url, "--out", out, "--rate", "1000",
                env={"OPENALEX_API_KEY": "cli-key-77"})
    assert result.returncode == 0, result.stderr
    assert "matched" in result.stderr and "requests: " in result.stderr
    matches = [json.loads(line) for line in kg("matches", "--out", out, "--json").stdout.splitlines()]
    assert len(matches) == 53 and {m["feed"] for m in matches} == {PAGES[0].name}
    assert all(set(m) >= {"feed", "index", "title", "work_id", "method", "score", "reason"} for m in matches)
    assert sum(1 for m in matches if m["work_id"]) >= 50
    built = kg("build", "--out", out)
    assert built.returncode == 0, built.stderr
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
