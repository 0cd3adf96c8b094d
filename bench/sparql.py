"""The query library on a large export: kg's embedded Oxigraph against rdflib's default in-memory store.

Both engines get the same N-Triples file and the same bound queries. Each query
runs 5 times on Oxigraph and 3 times on rdflib (median reported); an rdflib
run is made in a forked child so that it can be stopped at the timeout.
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from pathlib import Path

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


def _oxigraph_times(store: ox.Store, text: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = store.query(text)
        list(result) if not isinstance(result, ox.QueryBoolean) else bool(result)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _rdflib_time(graph, text: str, timeout: float) -> float | None:
    """Seconds for one rdflib run, or None when it passed the timeout (the child is killed)."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        started = time.perf_counter()
        list(graph.query(text))
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
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    os.close(read)
    return None


def bench_sparql(works: int, timeout: float) -> None:
    import resource

    from rdflib import Graph

    from bench.__main__ import WORK, job, machine, table
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
    kg_times = {name: _oxigraph_times(store, text) for name, text in queries.items()}
    del store
    started = time.perf_counter()
    graph = Graph()
    graph.parse(export / "kg.nt", format="nt")
    rdflib_load = time.perf_counter() - started
    rows = []
    for name, text in queries.items():
        first = _rdflib_time(graph, text, timeout)
        runs = [first] + ([_rdflib_time(graph, text, timeout) for _ in range(2)] if first is not None else [])
        finished = [r for r in runs if r is not None]
        alt = statistics.median(finished) if finished and len(finished) == len(runs) else None
        rows.append([name, f"{kg_times[name] * 1000:,.0f}", f"{alt * 1000:,.0f}" if alt is not None
                     else f"timeout (> {timeout:g} s)", f"{alt / kg_times[name]:,.0f}×" if alt is not None
                     else f"> {timeout / kg_times[name]:,.0f}×"])
    print(f"\n### SPARQL query library, {triples:,} triples ({machine()})\n")
    print(table(["query", "kg (Oxigraph) ms, median of 5", "rdflib Graph() ms, median of 3", "rdflib / kg"], rows))
    print(f"\nLoading the N-Triples: Oxigraph {oxigraph_load:.0f} s, rdflib {rdflib_load:.0f} s; "
          f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB.")
