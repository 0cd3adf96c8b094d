"""The NetworkX graph: per-work elements, and the projections offered to notebooks."""

from kg.graph import bibliographic_coupling, build_graph, coauthorship, cocitation, feed_citations, pair_counts, work_elements
from kg.model import FeedFacts, from_record


def record(n, references=(), authors=()):
    return {"id": f"https://openalex.org/W{n}", "title": f"Work {n}", "publication_year": 2020 + n,
            "referenced_works": [f"https://openalex.org/W{r}" for r in references],
            "authorships": [{"author": {"id": f"https://openalex.org/A{a}", "display_name": f"Author {a}"},
                             "institutions": []} for a in authors],
            "primary_topic": {"id": "https://openalex.org/T1", "display_name": "Topic"}}


FEED = FeedFacts(feeds=("page.txt",))
WORKS = [from_record(record(1, [9, 8], [1, 2]), feed=FEED), from_record(record(2, [9, 8, 1], [2, 3]), feed=FEED),
         from_record(record(3, [9], [3]), feed=FEED), from_record(record(4, [1, 2], [1]))]


def test_pair_counts_count_shared_members_without_trying_every_pair():
    assert pair_counts({"a": ["x", "y"], "b": ["y", "x", "x"], "c": ["z"]}) == {("a", "b"): 2}


def test_work_elements_type_nodes_and_key_edges():
    nodes, edges = work_elements(WORKS[0])
    kinds = {n.id: n.attributes["kind"] for n in nodes}
    assert kinds["https://openalex.org/W1"] == "work" and kinds["https://openalex.org/A1"] == "author"
    assert kinds["https://openalex.org/T1"] == "topic" and nodes[0].complete and not nodes[1].complete
    relations = {(e.relation, e.target.rsplit("/", 1)[-1]) for e in edges}
    assert {("cites", "W9"), ("cites", "W8"), ("has_topic", "T1")} <= relations
    assert any(e.relation == "authored" and e.attributes.get("position") == 1 for e in edges)


def test_projections_of_the_feed():
    graph = build_graph(WORKS)
    coupling = bibliographic_coupling(graph)
    assert coupling["https://openalex.org/W1"]["https://openalex.org/W2"]["weight"] == 2
    assert coupling["https://openalex.org/W2"]["https://openalex.org/W3"]["weight"] == 1
    assert cocitation(graph)["https://openalex.org/W1"]["https://openalex.org/W2"]["weight"] == 1  # W4 cites both
    authors = coauthorship(graph)
    assert authors["https://openalex.org/A2"]["https://openalex.org/A3"]["weight"] == 1
    assert "https://openalex.org/A4" not in authors  # W4 is not a feed work
    assert list(feed_citations(graph).edges) == [("https://openalex.org/W2", "https://openalex.org/W1")]
