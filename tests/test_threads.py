"""Research threads: the similarity weighting, the main path, community finding, and threads in the export."""

import json
import math

import networkx as nx
import pandas as pd
import pyoxigraph as ox
import pytest

from kg.threads import MIN_WEIGHT, ThreadInput, _acyclic, find_threads, main_path, similarity_graph


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
