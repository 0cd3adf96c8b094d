"""Enrichment cost and speed against the 2026 services: kg's free-first resolution vs a naive pyalex loop.

Both run over real HTTP against the local imitations (tests/oaserver.py, tests/hfserver.py) serving the
synthetic world and its Hugging Face side, with 200 ms latency per OpenAlex request and OpenAlex's limits:
10 requests/s and 1,000 credits a day keyless, 30/s and 10,000 with a free key; 429 above them. Credits are
the server's own accounting (1 credit = $0.0001) beside kg's, which it reads from each answer's headers.

The naive loop is what a hand-written script does: one `search=` per feed title, then one lookup per
reference, one request at a time, with pyalex. Keyless it cannot finish (142 searches cost 1,420 credits),
so it runs with a key.
"""

from __future__ import annotations

import gzip
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, machine, table

sys.path.insert(0, str(ROOT / "tests"))

from hfserver import HuggingFaceServer, read_items  # noqa: E402
from oaserver import Faults, OpenAlexServer, Plan  # noqa: E402

WORLD = ROOT / "tests" / "fixtures" / "openalex" / "world-synthetic"
HF_WORLD = ROOT / "tests" / "fixtures" / "feeds" / "hf-world" / "items.jsonl"
PAGES = sorted((ROOT / "tests" / "fixtures" / "feeds" / "hf-papers-pages").glob("*.txt"))
LATENCY = 0.2
KEY = "bench-key"
TARGET = 1.1
"""Issue #26: credits at most 1.1 × the free-first bound on every page, no client pace, the server throttling."""


def naive_loop(url: str, papers) -> None:
    """One search per paper and one single lookup per reference, sequential.

    pyalex composes each URL (pyalex always writes api.openalex.org, so the host is swapped for the local
    server's); requests sends it with urllib3's retries, as pyalex's own session would with retries on.
    """
    import pyalex
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=8, backoff_factor=0.2,
                                                           status_forcelist=[429, 500, 503])))

    def get(address: str) -> dict:
        response = session.get(address.replace("https://api.openalex.org", url), timeout=30)
        response.raise_for_status()
        return response.json()

    for paper in papers:
        found = get(pyalex.Works().search(paper.title).url)["results"][:1] if paper.title else []
        for reference in (found[0].get("referenced_works") or []) if found else []:
            try:
                get(f"{url}/works/{reference.rsplit('/', 1)[-1]}")  # what pyalex.Works()[id] requests
            except requests.RequestException:  # a script moves on (merged ids answer 404)
                pass


def run_kg(oa: OpenAlexServer, hf: HuggingFaceServer, folder: Path, key: str | None, papers,
           rate: float | None = None) -> dict:
    from kg.enrich import Enricher, EnrichOptions
    from kg.sources.huggingface import HuggingFace
    from kg.sources.openalex import OpenAlexAPI
    from kg.store import Store

    api = OpenAlexAPI(oa.url, key, rate=rate, cache_path=folder / "cache.sqlite")
    index = HuggingFace(hf.url, cache_path=folder / "hf-cache.sqlite")
    started = time.perf_counter()
    with Store(folder / "store.sqlite") as store:
        Enricher(api, store, EnrichOptions(workers=4), papers_index=index).run(papers)
        resolutions = store.resolutions()
        feed_ids = {r.work_id for r in resolutions.values() if r.work_id}
        references = {ref for w in feed_ids for ref in store.referenced_works(w)} - feed_ids
    seconds = time.perf_counter() - started
    api.close()
    index.close()
    paid_titles = sum(1 for r in resolutions.values() if r.method == "search")
    return {"seconds": seconds, "kg_usd": api.stats.spent_usd, "hf": sum(hf.log.counts.values()),
            "bound": math.ceil(len(papers) / 100) + math.ceil(len(references) / 100) + 10 * paid_titles,
            "references": len(references), "paid_titles": paid_titles}


def without_arxiv_dois(folder: Path) -> Path:
    """A harder copy of the world: no work keeps its arXiv DOI, so every arXiv id Hugging Face names must be
    found by its landing pages (as for published versions that OpenAlex keys by their journal DOI)."""
    with gzip.open(WORLD / "works.jsonl.gz", "rt", encoding="utf-8") as source, \
            gzip.open(folder / "works.jsonl.gz", "wt", encoding="utf-8") as target:
        for line in source:
            record = json.loads(line)
            if (record.get("doi") or "").lower().startswith("https://doi.org/10.48550/arxiv."):
                record["doi"] = None
            target.write(json.dumps(record) + "\n")
    (folder / "merged.jsonl").write_text((WORLD / "merged.jsonl").read_text())
    return folder


def bench_enrich(naive: bool = True) -> None:
    from kg.feeds import read_inputs

    papers = read_inputs([str(p) for p in PAGES], year=2024).papers
    rows, notes = [], []
    with OpenAlexServer([WORLD], Faults(latency=LATENCY), Plan(keys={KEY: 10_000})) as oa, \
            HuggingFaceServer(read_items([HF_WORLD])) as hf:
        runs = (("kg, keyless", None, None, LATENCY), ("kg, free key", KEY, None, LATENCY),
                ("kg, keyless, every page, no client pace, no latency (the server throttles)", None, math.inf, 0.0))
        for name, key, rate, latency in runs:
            with tempfile.TemporaryDirectory() as folder:
                for run in ("", ", second run"):
                    oa.reset(Faults(latency=latency), Plan(keys={KEY: 10_000}))
                    hf.reset()
                    result = run_kg(oa, hf, Path(folder), key, papers, rate)
                    rows.append(row(name + run, oa, result["seconds"], f"${result['kg_usd']:.4f}", result["hf"],
                                    result["bound"]))
                    if not run:
                        notes.append(bound_note(name, result, oa.log.spent_credits, len(papers)))
        if naive:
            oa.reset(Faults(latency=LATENCY), Plan(keys={KEY: 10_000}))
            started = time.perf_counter()
            naive_loop(oa.url, papers)
            rows.append(row("naive pyalex loop, free key", oa, time.perf_counter() - started, "—", 0, None))
    with tempfile.TemporaryDirectory() as world, tempfile.TemporaryDirectory() as folder, \
            OpenAlexServer([without_arxiv_dois(Path(world))]) as oa, HuggingFaceServer(read_items([HF_WORLD])) as hf:
        name = "kg, keyless, every page, no client pace, the server throttles; world without arXiv DOIs"
        result = run_kg(oa, hf, Path(folder), None, papers, math.inf)
        rows.append(row(name, oa, result["seconds"], f"${result['kg_usd']:.4f}", result["hf"], result["bound"]))
        notes.append(bound_note(name, result, oa.log.spent_credits, len(papers)))
    print(f"\n### Enrichment, every sample page ({len(PAGES)} pages, {len(papers)} papers, all title-only), "
          f"{LATENCY * 1000:.0f} ms latency unless said ({machine()})\n")
    print(table(["client", "singleton", "list", "search (paid)", "autocomplete", "throttled (429)",
                 "credits (server)", "spent (kg's count)", "Hugging Face calls", "credits / bound", "seconds"], rows))
    print("\n" + "\n".join(f"* {note}" for note in notes))


def bound_note(name: str, result: dict, credits: int, papers: int) -> str:
    ratio = credits / result["bound"]
    return (f"{name}: {credits} credits against the free-first bound ceil({papers} ids/100) + "
            f"ceil({result['references']} unique references/100) + 10 × {result['paid_titles']} titles neither "
            f"Hugging Face nor autocomplete resolved = {result['bound']}: {ratio:.2f}× "
            f"({'within' if ratio <= TARGET else 'over'} the {TARGET}× target)")


def row(name: str, oa: OpenAlexServer, seconds: float, kg_usd: str, hf_calls: int, bound: int | None) -> list:
    counts, credits = oa.log.counts, oa.log.spent_credits
    ratio = f"{credits / bound:.2f}×" if bound and credits else "—"
    return [name, counts["singleton"], counts["list"], counts["search"], counts["autocomplete"], oa.log.throttled,
            credits, kg_usd, hf_calls, ratio, f"{seconds:.1f}"]
