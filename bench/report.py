"""The interactive report on a large graph: load-to-interactive time in Debian's headless Chromium.

A generated corpus of N works (200 of them feed papers, 25 references each) is built, drawn and reported as
`kg run` would; the page is then opened three times in a fresh headless Chromium (Selenium, chromium-driver).
Load-to-interactive is the time from navigation start until the map's first frame is drawn and it answers
clicks (`kgMap.state.ready`, set on vis-network's first `afterDrawing`). A click's and a search's own time
are measured inside the page.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, WORK, machine, table

sys.path.insert(0, str(ROOT / "tests"))


def _load(report: Path) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait

    from test_explore import browser

    with tempfile.TemporaryDirectory() as profile:
        driver = browser(Path(profile))
        try:
            driver.get(report.as_uri())
            WebDriverWait(driver, 300).until(lambda d: d.execute_script("return window.kgMap && kgMap.state.ready"))
            figures = driver.execute_script("""
                const feed = JSON.parse(document.getElementById('kg-data').textContent).works.find(w => w.feed);
                let t = performance.now(); kgMap.select(feed.id); const click = performance.now() - t;
                const box = document.getElementById('kg-search'); box.value = 'a';
                t = performance.now(); box.value = 'ab'; box.dispatchEvent(new Event('input'));
                const search = performance.now() - t;
                return {ready: kgMap.state.ready, click, search, nodes: kgMap.nodes.length,
                        edges: kgMap.edges.length};""")
        finally:
            driver.quit()
    return figures


def bench_report(works: int) -> None:
    from bench.generate import make_store
    from kg.export import build
    from kg.render import render_all
    from kg.report import write_report

    WORK.mkdir(parents=True, exist_ok=True)
    store = make_store(WORK / f"corpus-{works}.sqlite", works)
    out = WORK / f"report-{works}"
    started = time.perf_counter()
    build(store, out)
    render_all(out)
    report = write_report(out)
    written = time.perf_counter() - started
    loads = [_load(report) for _ in range(3)]
    ready = statistics.median(f["ready"] for f in loads)
    click = statistics.median(f["click"] for f in loads)
    search = statistics.median(f["search"] for f in loads)
    print(f"\n### Interactive report, {works:,} works ({machine()})\n")
    print(table(["works on the map", "citations drawn", "report.html MB", "build+render+report s",
                 "load-to-interactive ms (median of 3)", "click ms", "search ms"],
                [[f"{loads[0]['nodes']:,}", f"{loads[0]['edges']:,}", f"{report.stat().st_size / 2**20:.1f}",
                  f"{written:.1f}", f"{ready:,.0f}", f"{click:,.0f}", f"{search:,.0f}"]]))
