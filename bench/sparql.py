"""The query library on a large export: kg's embedded Oxigraph against rdflib's default in-memory store.

Both engines get the same N-Triples file and the same bound queries. Each query
runs 5 times on Oxigraph and 3 times on rdflib (median reported), every run in
a forked child of the process holding the loaded store, so that it can be
stopped at the timeout.
"""

from __future__ import annotations

import os
import signal
import statistics
import time

import pyoxigraph as ox


def _parameters(store: ox.Store) -> dict[str, dict]:
    """Values for the parameterised queries that give non-trivial answers on this export."""
    kg = "https://w3id.org/kg-feeds/ns#"
    cito = "http://purl.org/spar/cito/cites"
    feed = [r["w"].value for r in store.query(f"SELECT ?w WHERE {{ ?w a <{kg}FeedWork> }} ORDER BY ?w LIMIT 2")]
    hop = next(iter(store.query(f"SELECT ?a ?c WHERE {{ ?a a <{kg}FeedWork> ; <{cito}> ?b . ?b <{cito}> ?c }} "
                                "ORDER BY ?a ?c LIMIT 1")))
    author = next(iter(store.query("SELECT ?a WHERE { ?w <http://purl.org/dc/terms/creator> ?a } "
                                   "GROUP BY ?a ORDER BY DESC(COUNT(?w)) ?a LIMIT 1")))["a"].value
    return {"shared-references": {"work1": feed[0], "work2": feed[1]},
            "citation-path": {"from": hop["a"].value, "to": hop["c"].value},
            "find-papers": {"text": "quantum graph"},
            "author-works": {"author": author}}


def _in_child(run, timeout: float) -> float | None:
    """Seconds one run takes in a forked child (the loaded store is shared), or None past the timeout."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        started = time.perf_counter()
        run()
        os.write(write, repr(time.perf_counter() - started).encode())
        os._exit(0)
    os.close(write)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, _ = os.waitpid(child, os.WNOHANG)
        if done:
            answer = os.read(read, 64)
            os.close(read)
            return float(answer) if answer else None
        time.sleep(0.01)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    os.close(read)
    return None


def _median(run, timeout: float, runs: int) -> float | None:
    """Median of `runs` runs, each in a child stopped at the timeout; None if any run timed out."""
    times = []
    for _ in range(runs):
        seconds = _in_child(run, timeout)
        if seconds is None:
            return None
        times.append(seconds)
    return statistics.median(times)


def bench_sparql(works: int, timeout: float) -> None:
    import resource

    from rdflib import Graph

    from bench.common import WORK, job, machine, table
    from bench.generate import make_store
    from kg.query import bind, library

    export = WORK / f"export-{works}"
    if not (export / "kg.nt").exists():
        job("build-kg", str(make_store(WORK / f"corpus-{works}.sqlite", works)), str(export))
    started = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=str(export / "kg.nt"), format=ox.RdfFormat.N_TRIPLES)
    oxigraph_load = time.perf_counter() - started
    triples = len(store)
    parameters = _parameters(store)
    queries = {name: bind(query, parameters.get(name, {})) for name, query in library().items()}
    kg_times = {name: _median(lambda text=text: list(store.query(text)), timeout, 5) for name, text in queries.items()}
    started = time.perf_counter()
    graph = Graph()
    graph.parse(export / "kg.nt", format="nt")
    rdflib_load = time.perf_counter() - started
    rows = []
    timed_out = f"timeout (> {timeout:g} s)"
    for name, text in queries.items():
        alt = _median(lambda text=text: list(graph.query(text)), timeout, 3)
        ours = kg_times[name]
        ratio = ("n/a" if ours is None else f"{alt / ours:,.0f}×" if alt is not None else f"> {timeout / ours:,.0f}×")
        rows.append([name, f"{ours * 1000:,.1f}" if ours is not None else timed_out,
                     f"{alt * 1000:,.0f}" if alt is not None else timed_out, ratio])
    print(f"\n### SPARQL query library, {triples:,} triples ({machine()})\n")
    print(table(["query", "kg (Oxigraph) ms, median of 5", "rdflib Graph() ms, median of 3", "rdflib / kg"], rows))
    print(f"\nLoading the N-Triples: Oxigraph {oxigraph_load:.0f} s, rdflib {rdflib_load:.0f} s; "
          f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB.")
