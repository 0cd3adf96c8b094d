"""Shared fixtures: paths to bundled data, a temp output folder, the local OpenAlex server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
PAGES = sorted((FIXTURES / "feeds" / "hf-papers-pages").glob("*.txt"))
HF_API = sorted((FIXTURES / "feeds" / "hf-api").glob("*.json"))
HF_WORLD = FIXTURES / "feeds" / "hf-world" / "items.jsonl"
WORLD = FIXTURES / "openalex" / "world-synthetic"
REAL = FIXTURES / "openalex" / "real"
DEMO = ROOT / "data" / "demo"
HOSTILE = '<script>alert("owned")</script> & "quotes" {braces}'
"""A title no feed or OpenAlex text may break the report with: it must show as this very text."""

sys.path.insert(0, str(TESTS))
from hfserver import HuggingFaceServer, read_items  # noqa: E402
from oaserver import OpenAlexServer  # noqa: E402


def records_store(path: Path, records: list[dict], aliases: dict[str, str] | None = None) -> Path:
    """A store holding just these OpenAlex records (and merged ids)."""
    from kg.store import FULL, Store

    with Store(path) as store:
        store.save_works(records, "reference", FULL, aliases=aliases)
    return path


def transformed(store_path: Path, scratch: Path) -> dict[str, list]:
    """What the columnar transform makes of a store, in a canonical form: `triples` (unique, sorted),
    `nodes` and `edges` in `kg build`'s order ((id, attributes), (source, target, attributes)), and each
    export table's rows as `tables/<name>`."""
    from kg import transform
    from kg.export import flat_tables
    from kg.store import Store
    from kg.tables import SCHEMAS

    with Store(store_path, read_only=True) as store:
        connection, _, _ = flat_tables(store, scratch)
    lines = connection.sql(transform.triples(transform.DUCKDB)).fetchall()
    nodes = connection.sql(f"SELECT * FROM ({transform.nodes(transform.DUCKDB)}) ORDER BY {transform.NODE_ORDER}")
    attributes = transform.NODE_COLUMNS[1:]
    edges = connection.sql(f"SELECT * FROM ({transform.edges(transform.DUCKDB)}) ORDER BY {transform.EDGE_ORDER}")
    edge_rows = [dict(zip(edges.columns, row)) for row in edges.fetchall()]
    result = {
        "triples": sorted({line for (line,) in lines}),
        "nodes": [[row[0], {k: v for k, v in zip(attributes, row[1:]) if v is not None}] for row in nodes.fetchall()],
        "edges": [[e["source"], e["target"], {name: e[column] for name, column in transform.EDGE_COLUMNS.items()
                                              if e[column] is not None}] for e in edge_rows],
        **{f"tables/{name}": connection.sql(query).to_arrow_table().cast(SCHEMAS[name]).to_pylist()
           for name, query in transform.TABLES.items()},
    }
    connection.close()
    return result


def browser(tmp_path: Path):
    """Debian's headless Chromium under Selenium (installed by `make test`), logging console and network."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "chromium or chromedriver is missing: run `bash scripts/system-packages.sh --test`"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--disable-background-networking", "--disable-component-update",
                     "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


def kg(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """Run the `kg` command line as a user would: a subprocess, no standard input, text output."""
    return subprocess.run([sys.executable, "-m", "kg", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def world_server():
    """The synthetic world over HTTP, shared; tests reset its counters."""
    with OpenAlexServer([WORLD]) as server:
        yield server


@pytest.fixture
def server(world_server):
    """The synthetic world on a fresh day: keyless limits, throttling on, no faults."""
    world_server.reset()
    return world_server


@pytest.fixture(scope="session")
def hf_world_server():
    """The Hugging Face side of the synthetic world (and the real saved responses) over HTTP."""
    with HuggingFaceServer(read_items([HF_WORLD, *HF_API])) as server:
        yield server


@pytest.fixture
def hf_server(hf_world_server):
    hf_world_server.reset()
    return hf_world_server


@pytest.fixture(scope="session")
def real_server():
    with OpenAlexServer([REAL]) as server:
        yield server


@pytest.fixture(scope="session")
def demo_export(tmp_path_factory):
    """The bundled real demo (53 arXiv ids) enriched from its snapshot and built, once per session."""
    from kg.enrich import Enricher
    from kg.export import build
    from kg.feeds import read_inputs
    from kg.sources.local import Snapshot
    from kg.store import Store

    out = tmp_path_factory.mktemp("demo-export")
    with Store(out / "kg-store.sqlite") as store:
        Enricher(Snapshot(DEMO), store).run(read_inputs([str(DEMO / "demo-feed.txt")], year=2025).papers)
    build(out / "kg-store.sqlite", out)
    return out


@pytest.fixture(scope="session")
def hostile_report(demo_export, tmp_path_factory):
    """The demo report, with the first thread's first paper titled HOSTILE (a copy: demo_export stays as it is)."""
    import json
    import shutil

    import pandas as pd

    from kg.render import render_all
    from kg.report import write_report

    export = tmp_path_factory.mktemp("report") / "exports"
    shutil.copytree(demo_export, export)
    works = pd.read_parquet(export / "tables" / "works.parquet")
    first = json.loads((export / "threads.json").read_text())["threads"][0]["papers"][0]
    works.loc[works.id == first, "title"] = HOSTILE
    works.to_parquet(export / "tables" / "works.parquet", index=False)
    render_all(export)
    return write_report(export)
