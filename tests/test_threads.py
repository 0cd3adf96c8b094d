"""Research threads: the similarity weighting, the main path, community finding, and threads in the export."""

import json
import math

import networkx as nx
import pandas as pd
import pyoxigraph as ox
import pytest

from kg.threads import (
    MIN_WEIGHT,
    TEXT_MIN,
    WEIGHTS,
    Previous,
    ThreadInput,
    _acyclic,
    carry_ids,
    find_threads,
    main_path,
    similarity_graph,
    text_similarity,
)


def thread_input(**overrides) -> ThreadInput:
    base = dict(feed=[], references={}, citers={}, authors={}, institutions={}, primary_topic={}, year={})
    return ThreadInput(**{**base, **overrides})


def test_similarity_adds_the_four_signals_with_their_weights():
    data = thread_input(
        feed=["a", "b", "c"],
        references={"a": {"b", "r1", "r2", "r3"}, "b": {"r1", "r2", "r4", "r5"}, "c": {"r9"}},
        citers={"a": {"x", "y"}, "b": {"y"}},
        authors={"a": ["p", "q"], "b": ["q", "s", "t", "u"], "c": ["z"]})
    graph = similarity_graph(data)
    edge = graph.edges["a", "b"]
    assert edge["citation"] == 1.0
    assert edge["coupling"] == pytest.approx(2 / math.sqrt(4 * 4), abs=1e-6)
    assert edge["cocitation"] == pytest.approx(1 / math.sqrt(2 * 1), abs=1e-6)
    assert edge["authors"] == pytest.approx(1 / math.sqrt(2 * 4), abs=1e-6)
    assert edge["weight"] == pytest.approx(1.0 + 0.5 + 0.5 / math.sqrt(2) + 0.5 / math.sqrt(8), abs=1e-6)
    assert not graph.has_edge("a", "c") and "c" in graph


def test_links_below_the_minimum_weight_are_dropped():
    refs = {f"r{i}" for i in range(60)}
    data = thread_input(feed=["a", "b"], references={"a": refs | {"shared"}, "b": {f"s{i}" for i in range(60)} | {"shared"}})
    assert 1 / 61 < MIN_WEIGHT and similarity_graph(data).number_of_edges() == 0


def test_main_path_follows_the_largest_search_path_count():
    dag = nx.DiGraph([("A", "B"), ("B", "C"), ("A", "C"), ("X", "C"), ("C", "D")])
    # SPC: A→B 1, B→C 1, A→C 1, X→C 1, C→D 3 (three source-to-sink paths cross it)
    assert main_path(dag) == ["A", "B", "C", "D"]
    assert main_path(nx.DiGraph()) == []


def test_citation_cycles_are_broken_before_the_main_path():
    dag = _acyclic([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], year={})
    assert nx.is_directed_acyclic_graph(dag) and dag.number_of_edges() == 3
    assert not _acyclic([("old", "new")], year={"old": 2001, "new": 2020}).number_of_edges()


def test_groups_become_ranked_threads_and_loners_stay_unconnected():
    references = {p: {"shared-1", "shared-2"} for p in ("a1", "a2", "a3")}
    references |= {p: {"other-1", "other-2"} for p in ("b1", "b2")}
    references["loner"] = {"nothing-shared"}
    data = thread_input(feed=sorted(references), references=references,
                        primary_topic={"a1": "T9", "a2": "T9", "a3": "T8", "b1": "T7"}, year={"a1": 2020})
    found = find_threads(data, {"T9": "Graph learning", "T7": "Optics"})
    assert [t.papers for t in found.threads] == [["a2", "a3", "a1"], ["b1", "b2"]]
    assert [t.id for t in found.threads] == ["T1", "T2"]
    assert found.threads[0].name == "Graph learning" and found.threads[1].name == "Optics"
    assert found.threads[0].foundations == [("shared-1", 3), ("shared-2", 3)]
    assert found.unconnected == ["loner"]
    assert find_threads(data, {}) == find_threads(data, {})


SOLVERS = ("An iterative solver for sparse linear systems on graphics processors. We precondition conjugate "
           "gradient iterations with an incomplete Cholesky factorisation and batch sparse matrix products.")
PAPERS_TEXT = {
    "s1": SOLVERS,
    "s2": "Preconditioned conjugate gradient solvers for sparse linear systems: incomplete Cholesky "
          "factorisation on graphics processors, with batched sparse matrix products.",
    "s3": "Sparse matrix products on graphics processors for iterative solvers of linear systems, "
          "preconditioned by an incomplete factorisation.",
    "late": "Mixed precision conjugate gradient for sparse linear systems with incomplete Cholesky "
            "preconditioning on graphics processors.",
    "bird": "Song learning in zebra finches: how juvenile birds imitate the tutor's syllables.",
}


def solver_input(texts: dict[str, str]) -> ThreadInput:
    """Three solver papers sharing references; `late` and `bird` have none (OpenAlex lists none yet)."""
    references = {p: {"saad-2003", "golub-1996", f"own-{p}"} for p in ("s1", "s2", "s3")}
    return thread_input(feed=sorted(texts), references=references, texts=texts)


def test_a_paper_without_references_joins_the_thread_its_abstract_reads_like():
    found = find_threads(solver_input(PAPERS_TEXT), {})
    assert [sorted(t.papers) for t in found.threads] == [["late", "s1", "s2", "s3"]]
    assert found.unconnected == ["bird"]
    without_text = find_threads(solver_input({p: "" for p in PAPERS_TEXT}), {})
    assert sorted(without_text.unconnected) == ["bird", "late"]


def test_text_similarity_is_weak_beside_citation_evidence():
    cosines = text_similarity(PAPERS_TEXT)
    assert all(v >= TEXT_MIN for v in cosines.values()) and not any("bird" in pair for pair in cosines)
    graph = similarity_graph(solver_input(PAPERS_TEXT))
    text_only = graph.edges["late", "s1"]
    assert text_only["coupling"] == 0 and text_only["weight"] == pytest.approx(WEIGHTS["text"] * text_only["text"], abs=1e-5)
    assert max(d["weight"] for a, b, d in graph.edges(data=True) if "late" in (a, b)) < \
        min(d["weight"] for a, b, d in graph.edges(data=True) if "late" not in (a, b))


def test_text_similarity_in_blocks_equals_all_at_once(monkeypatch):
    whole = text_similarity(PAPERS_TEXT)
    monkeypatch.setattr("kg.threads.TEXT_BLOCK", 2)
    assert text_similarity(PAPERS_TEXT) == whole and len(whole) >= 3


def test_thread_ids_carry_over_and_are_never_reused():
    previous = Previous({"T1": ["a", "b", "c"], "T2": ["d", "e"], "T3": ["f", "g", "h", "i"], "T4": ["x", "y"]},
                        next_number=6, lineage=[{"run": 1, "event": "new", "thread": "T5", "from": []}])
    groups = [["a", "b", "c", "d", "e", "n1"],   # holds all of T1 and T2: their merge, under T1
              ["f", "g", "n2", "n3"],           # half of T3 only: not T3, a split of it
              ["h", "i", "n4"],                 # the other half: another split
              ["n5", "n6"]]                     # nothing old: new
    ids, state = carry_ids(groups, previous, run=2)
    assert ids == ["T1", "T6", "T7", "T8"] and state.next_number == 9
    events = state.lineage[1:]
    assert {"run": 2, "event": "merged", "thread": "T1", "from": ["T2"]} in events
    assert {"run": 2, "event": "split", "thread": "T6", "from": ["T3"]} in events
    assert {"run": 2, "event": "new", "thread": "T8", "from": []} in events
    assert {"run": 2, "event": "ended", "thread": "T3", "into": ["T6", "T7"]} in events
    assert {"run": 2, "event": "ended", "thread": "T4", "into": []} in events
    assert state.lineage[0] == previous.lineage[0]
    assert carry_ids([["a", "b"]], None) == (["T1"], Previous({"T1": ["a", "b"]}, 2, [
        {"run": 0, "event": "new", "thread": "T1", "from": []}]))


def test_a_thread_that_grows_keeps_its_id_in_find_threads():
    first = find_threads(solver_input({k: v for k, v in PAPERS_TEXT.items() if k != "late"}), {}, run=1)
    again = find_threads(solver_input(PAPERS_TEXT), {}, first.previous(), run=2)
    assert [t.id for t in first.threads] == [t.id for t in again.threads] == ["T1"]
    assert "late" in again.threads[0].papers and again.next_number == 2
    assert again.lineage == first.lineage


def test_demo_threads_cover_the_feed_and_agree_with_the_tables(demo_export):
    data = json.loads((demo_export / "threads.json").read_text())
    works = pd.read_parquet(demo_export / "tables" / "works.parquet")
    citations = pd.read_parquet(demo_export / "tables" / "citations.parquet")
    cites = set(zip(citations.citing_id, citations.cited_id))
    feed = set(works.id[works.is_feed])
    members = [p for t in data["threads"] for p in t["papers"]]
    assert len(members) == len(set(members)) and set(members) | set(data["unconnected"]) == feed
    assert len(data["threads"]) >= 3
    sizes = [len(t["papers"]) for t in data["threads"]]
    assert sizes == sorted(sizes, reverse=True)
    for thread in data["threads"]:
        for reference, count in thread["foundations"]:
            assert count >= 2 and count == sum((p, reference) in cites for p in thread["papers"])
        assert all(step in cites for step in zip(thread["backbone"], thread["backbone"][1:]))


def test_threads_are_in_the_rdf_export_and_tables(demo_export):
    data = json.loads((demo_export / "threads.json").read_text())
    store = ox.Store()
    store.bulk_load(path=str(demo_export / "kg.nt"), format=ox.RdfFormat.N_TRIPLES)
    kg = "https://w3id.org/kg-feeds/ns#"
    answer = store.query(f"SELECT (COUNT(DISTINCT ?t) AS ?threads) (COUNT(?p) AS ?papers) "
                         f"WHERE {{ ?t a <{kg}Thread> ; <{kg}hasPaper> ?p }}")
    row = next(iter(answer))
    assert int(row["threads"].value) == len(data["threads"])
    assert int(row["papers"].value) == sum(len(t["papers"]) for t in data["threads"])
    table = pd.read_csv(demo_export / "tables" / "threads.csv")
    assert list(table.thread_id) == [t["id"] for t in data["threads"]]
    members = pd.read_parquet(demo_export / "tables" / "thread_members.parquet")
    assert set(members.work_id[members.role == "unconnected"]) == set(data["unconnected"])
