"""Enrichment cost and speed: kg against a naive pyalex loop, both on the local OpenAlex test server.

The server (tests/oaserver.py) serves the synthetic world with 200 ms latency per
request and a rate limit of 10 requests/s (over it: 403, as OpenAlex does).
The naive loop is what a hand-written script does: one title search per feed
paper, then one lookup per reference, one request at a time, with pyalex.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from oaserver import Faults, OpenAlexServer  # noqa: E402

WORLD = ROOT / "tests" / "fixtures" / "openalex" / "world-synthetic"
PAGES = sorted((ROOT / "tests" / "fixtures" / "feeds" / "hf-papers-pages").glob("*.txt"))
COST = {"single": 0.0, "list": 0.0001, "search": 0.001}
LATENCY, RATE = 0.2, 10.0


def naive_loop(url: str, papers) -> int:
    """One search per paper and one single lookup per reference, sequential: returns works fetched.

    pyalex composes each URL (pyalex 0.21 always writes api.openalex.org, so the
    host is swapped for the local server's); requests sends it with urllib3's
    retries, as pyalex's own session would with retries switched on.
    """
    import pyalex
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=8, backoff_factor=0.2,
                                                           status_forcelist=[403, 429, 500, 503])))

    def get(address: str) -> dict:
        response = session.get(address.replace("https://api.openalex.org", url), timeout=30)
        response.raise_for_status()
        return response.json()

    fetched = 0
    for paper in papers:
        if not paper.title:
            continue
        found = get(pyalex.Works().search(paper.title).url)["results"][:1]
        if not found:
            continue
        fetched += 1
        for reference in found[0].get("referenced_works") or []:
            try:
                get(f"{url}/works/{reference.rsplit('/', 1)[-1]}")  # what pyalex.Works()[id] requests
                fetched += 1
            except requests.RequestException:  # a script moves on
                pass
    return fetched


def bench_enrich() -> None:
    from kg.enrich import Enricher
    from kg.feeds import read_inputs
    from kg.openalex import OpenAlexAPI
    from kg.store import Store

    from bench.__main__ import machine, table

    papers = read_inputs([str(p) for p in PAGES], year=2025).papers
    rows = []
    with OpenAlexServer([WORLD], Faults(latency=LATENCY, rate_per_second=RATE)) as server, \
            tempfile.TemporaryDirectory() as folder:
        store_path = Path(folder) / "store.sqlite"
        runs = {}
        for run in ("kg", "kg, second run"):
            server.reset()
            api = OpenAlexAPI(server.url, rate=RATE, cache_path=Path(folder) / "cache.sqlite")
            started = time.perf_counter()
            with Store(store_path) as store:
                Enricher(api, store).run(papers)
            runs[run] = (time.perf_counter() - started, dict(server.log.counts), dict(server.log.faults))
            api.close()
        with Store(store_path) as store:
            feed_ids = [r.work_id for r in store.resolutions().values() if r.work_id]
            references = {ref for work in feed_ids for ref in store.referenced_works(work)}
        server.reset()
        started = time.perf_counter()
        naive_loop(server.url, papers)
        runs["naive pyalex loop"] = (time.perf_counter() - started, dict(server.log.counts), dict(server.log.faults))
    identified = sum(1 for p in papers if p.openalex_id or p.doi or p.arxiv_id)
    title_only = len(papers) - identified
    bound = math.ceil(identified / 100) + title_only + math.ceil(len(references) / 100)
    for name, (seconds, counts, faults) in runs.items():
        paid = counts.get("list", 0) + counts.get("search", 0)
        credits = sum(COST[k] * n for k, n in counts.items())
        rows.append([name, counts.get("search", 0), counts.get("list", 0), counts.get("single", 0),
                     sum(faults.values()), f"${credits:.4f}", f"{paid / bound:.2f}×" if paid else "0", f"{seconds:.1f}"])
    speedup = runs["naive pyalex loop"][0] / runs["kg"][0]
    print(f"\n### Enrichment, four sample pages ({len(papers)} papers), {LATENCY * 1000:.0f} ms latency, "
          f"{RATE:g} requests/s limit ({machine()})\n")
    print(table(["client", "searches", "list calls", "single lookups", "refused (rate)", "est. credits",
                 "paid requests / lower bound", "seconds"], rows))
    print(f"\nLower bound: ceil({identified} ids/100) + {title_only} title-only searches + "
          f"ceil({len(references)} unique references/100) = {bound}. kg is {speedup:.1f}× faster than the naive loop.")
