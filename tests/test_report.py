"""The HTML report, loaded in a real headless Chromium (Debian's `chromium`, installed by `make test`)."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest
from PIL import Image

from conftest import kg
from kg.explore import PALETTE
from kg.render import FEED_COLOUR

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(page, tmp_path, *args):
    """Run headless Chromium on a page; returns (stdout, console messages the page logged)."""
    assert CHROMIUM, "chromium is missing: run `bash scripts/system-packages.sh --test`"
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "--enable-logging=stderr",
                             "--v=0", f"--user-data-dir={tmp_path / 'chromium-profile'}", *args, page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def report(hostile_report):
    return hostile_report


def test_report_loads_no_network_resources(report):
    html = report.read_text()
    parser = Elements()
    parser.feed(html)
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"link", "iframe", "img", "object", "embed", "image"}
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert len(scripts) == 3 and not any("src" in attrs for attrs in scripts)  # data, vis-network, kg's page code
    assert all(not (attrs.get("src") or "").startswith(("http", "//")) for _, attrs in parser.tags)
    assert all(url.startswith(("data:", '"data:', "'data:")) for url in re.findall(r"url\(\s*([^)]{0,8})", html))
    assert "@import" not in html
    assert sum(tag == "svg" for tag, _ in parser.tags) >= 3


def test_text_from_feeds_and_openalex_is_escaped(report):
    html = report.read_text()
    assert '<script>alert("owned")' not in html
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in html or \
           "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in html


def test_report_has_the_sections_a_reader_needs(report, demo_export):
    html = report.read_text()
    entries = pd.read_parquet(demo_export / "tables" / "feed_entries.parquet")
    for heading in ("Overview", "Feed papers and how they were matched", "Unmatched feed entries",
                    "Top authors and institutions of the feed", "Citation map", "Co-authors"):
        assert f"<h2>{heading}</h2>" in html
    threads = json.loads((demo_export / "threads.json").read_text())["threads"]
    assert all(f'id="thread-{t["id"]}"' in html for t in threads)
    assert html.count("arxiv_location") + html.count("arxiv_doi") >= len(entries[entries.work_id.notna()])
    assert f"<b>{len(entries)}</b>feed entries" in html


def test_chromium_console_check_catches_errors(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('boom'); missing();</script></body></html>")
    _, console = chromium(bad, tmp_path, "--dump-dom")
    assert any("boom" in line for line in console) and any("missing" in line for line in console)


def test_report_renders_in_chromium_without_console_errors(report, tmp_path):
    dom, console = chromium(report, tmp_path, "--dump-dom")
    assert console == []
    assert '<script>alert("owned")' not in dom and "&lt;script&gt;alert" in dom  # scripts: tests/test_explore.py
    screenshot = tmp_path / "report.png"
    _, console = chromium(report, tmp_path, f"--screenshot={screenshot}", "--window-size=1280,12000")
    assert console == []
    image = Image.open(screenshot).convert("RGB")
    feed_blue = tuple(int(FEED_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
    colours = image.getcolors(maxcolors=1 << 20)
    assert sum(n for n, colour in colours if colour == feed_blue) > 5_000  # the figures' feed-paper nodes
    first_lane = tuple(int(PALETTE[0][i:i + 2], 16) for i in (1, 3, 5))
    assert sum(n for n, colour in colours if colour == first_lane) > 300  # the map's first thread, drawn
    assert len(colours) > 200  # text and drawings, not a blank page


def test_report_without_figures_says_what_to_do(demo_export, tmp_path):
    shutil.copytree(demo_export / "tables", tmp_path / "tables")
    for name in ("manifest.json", "threads.json"):
        shutil.copy(demo_export / name, tmp_path / name)
    result = kg("report", "--out", tmp_path)
    assert result.returncode == 2 and "run `kg render" in result.stderr
