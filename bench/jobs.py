"""Measured jobs, each run in a fresh process so its peak memory is its own.

`python -m bench.jobs JOB ARGS...` prints one JSON line: seconds, peak RSS and
job-specific figures.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def build_kg(store: str, out: str, formats: str = "") -> dict:
    """`kg build` (only the comma-separated `formats`, when given), with the time each phase began (its
    progress messages)."""
    from kg.export import build

    started, phases = time.perf_counter(), []

    def note(message: str) -> None:
        if not message.endswith("works read"):
            phases.append((message, time.perf_counter() - started))

    manifest = build(Path(store), Path(out), progress=note, formats=formats.split(",") if formats else None)
    return {"triples": manifest.counts["triples"], "phases": phases}


def keep_columns(store: str) -> dict:
    """What `kg enrich` does after storing records: the records' flat columns brought up to date beside the
    store (`kg.columns.keep`), so that the next build parses none."""
    from kg import columns
    from kg.store import Store

    with Store(Path(store), read_only=True) as db, db.reading():
        return {"parsed": columns.keep(db, columns.folder_beside(Path(store)))}


def build_rdflib(store: str, out: str) -> dict:
    """The same triples (from kg's transform) into rdflib's default in-memory store, then Turtle: what
    building the graph in rdflib costs."""
    import tempfile

    from rdflib import Graph

    from kg import transform
    from kg.export import flat_tables
    from kg.rdf import PREFIXES
    from kg.store import Store

    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    with Store(Path(store)) as db, tempfile.TemporaryDirectory() as scratch:
        connection, _, _ = flat_tables(db, Path(scratch))
        for batch in connection.sql(transform.triples(transform.DUCKDB)).to_arrow_reader(200_000):
            graph.parse(data="".join(batch.column(0).to_pylist()), format="nt")
        connection.close()
    Path(out).mkdir(parents=True, exist_ok=True)
    graph.serialize(Path(out) / "kg.ttl", format="turtle")
    return {"triples": len(graph)}


def parse_oxigraph(ntriples: str) -> dict:
    """Oxigraph parsing an N-Triples file, and nothing else: the floor any writer of that file stands on."""
    import pyoxigraph as ox

    return {"triples": sum(1 for _ in ox.parse(path=ntriples, format=ox.RdfFormat.N_TRIPLES))}


JOBS = {"build-kg": build_kg, "keep-columns": keep_columns, "build-rdflib": build_rdflib, "parse-oxigraph": parse_oxigraph}

if __name__ == "__main__":
    started = time.perf_counter()
    figures = JOBS[sys.argv[1]](*sys.argv[2:])
    figures["seconds"] = time.perf_counter() - started
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["peak_worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(figures))
