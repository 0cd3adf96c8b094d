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
    """Values for the parameterised queries that give non-trivial answers on this export. author-works gets
    an author of the first feed paper (the middle one by number of works), as a reader would ask about."""
    kg = "https://w3id.org/kg-feeds/ns#"
    cito = "http://purl.org/spar/cito/cites"
    soa = "https://semopenalex.org/ontology/"
    feed = [r["w"].value for r in store.query(f"SELECT ?w WHERE {{ ?w a <{kg}FeedWork> }} ORDER BY ?w LIMIT 2")]
    hop = next(iter(store.query(f"SELECT ?a ?c WHERE {{ ?a a <{kg}FeedWork> ; <{cito}> ?b . ?b <{cito}> ?c }} "
                                "ORDER BY ?a ?c LIMIT 1")))
    authors = [r["a"].value for r in store.query(
        f"SELECT ?a (COUNT(?x) AS ?n) WHERE {{ <{feed[0]}> <{soa}hasAuthorship>/<{soa}hasAuthor> ?a . "
        f"?x <{soa}hasAuthor> ?a }} GROUP BY ?a ORDER BY ?n ?a")]
    return {"shared-references": {"work1": feed[0], "work2": feed[1]},
            "citation-path": {"from": hop["a"].value, "to": hop["c"].value},
            "find-papers": {"text": "quantum graph"},
            "author-works": {"author": authors[len(authors) // 2]}}


def _most_prolific_author(store: ox.Store) -> str:
    """The author with the most works: on the generated corpus, an author of two works in three."""
    return next(iter(store.query("SELECT ?a WHERE { ?w <http://purl.org/dc/terms/creator> ?a } "
                                 "GROUP BY ?a ORDER BY DESC(COUNT(?w)) ?a LIMIT 1")))["a"].value


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
    worst = "author-works, the most prolific author"
    queries[worst] = bind(library()["author-works"], {"author": _most_prolific_author(store)})
    kg_times = {name: _median(lambda text=text: list(store.query(text)), timeout, 5) for name, text in queries.items()}
    answers = {name: len(list(store.query(text))) for name, text in queries.items() if kg_times[name] is not None}
    with_rdflib = works <= int(os.environ.get("KG_BENCH_RDFLIB_MAX", "100000"))
    started = time.perf_counter()
    graph = Graph()
    if with_rdflib:
        graph.parse(export / "kg.nt", format="nt")
    rdflib_load = time.perf_counter() - started
    rows = []
    timed_out = f"timeout (> {timeout:g} s)"
    for name, text in queries.items():
        alt = _median(lambda text=text: list(graph.query(text)), timeout, 3) if with_rdflib else None
        ours = kg_times[name]
        ratio = ("n/a" if ours is None else f"{alt / ours:,.0f}×" if alt is not None else f"> {timeout / ours:,.0f}×")
        if not with_rdflib:
            alt_text, ratio = "not run", ""
        else:
            alt_text = f"{alt * 1000:,.0f}" if alt is not None else timed_out
        rows.append([name, f"{answers[name]:,}" if name in answers else "", f"{ours * 1000:,.1f}" if ours is not None
                     else timed_out, alt_text, ratio])
    under = sum(1 for name in library() if kg_times[name] is not None and kg_times[name] < 1)
    print(f"\n### SPARQL query library, {triples:,} triples ({machine()})\n")
    print(table(["query", "rows", "kg (Oxigraph) ms, median of 5", "rdflib Graph() ms, median of 3", "rdflib / kg"],
                rows))
    print(f"\n{under} of {len(library())} library queries under 1 s on Oxigraph (the extra author-works row aside).")
    print(f"\nLoading the N-Triples: Oxigraph {oxigraph_load:.0f} s, rdflib {rdflib_load:.0f} s; "
          f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB.")
