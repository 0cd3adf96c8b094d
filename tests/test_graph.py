"""The NetworkX graph: assembled from the transform's rows, and the projections offered to notebooks."""

from kg.graph import (
    EDGE_ATTRIBUTES,
    NODE_ATTRIBUTES,
    bibliographic_coupling,
    coauthorship,
    cocitation,
    feed_citations,
    graph_from,
    pair_counts,
)


def node(node_id: str, **attributes) -> tuple:
    return (node_id, *(attributes.get(name) for name in NODE_ATTRIBUTES))


def edge(source: str, target: str, **attributes) -> tuple:
    return (source, target, *(attributes.get(name) for name in EDGE_ATTRIBUTES))


def work(n: int, references=(), authors=(), feed=True) -> tuple[list[tuple], list[tuple]]:
    """The rows `kg.transform` gives for one work: W{n} citing W{references}, by A{authors}."""
    w = f"https://openalex.org/W{n}"
    nodes = [node(w, kind="work", label=f"Work {n}", year=2020 + n, feed=feed, hydrated=True)]
    nodes += [node(f"https://openalex.org/A{a}", kind="author", label=f"Author {a}", name=f"Author {a}") for a in authors]
    edges = [edge(w, f"https://openalex.org/W{r}", relation="cites") for r in references]
    edges += [edge(f"https://openalex.org/A{a}", w, relation="authored", position=i)
              for i, a in enumerate(authors, start=1)]
    return nodes, edges


WORKS = [work(1, [9, 8], [1, 2]), work(2, [9, 8, 1], [2, 3]), work(3, [9], [3]), work(4, [1, 2], [1], feed=False)]
GRAPH = graph_from([n for nodes, _ in WORKS for n in nodes], [e for _, edges in WORKS for e in edges])


def test_pair_counts_count_shared_members_without_trying_every_pair():
    assert pair_counts({"a": ["x", "y"], "b": ["y", "x", "x"], "c": ["z"]}) == {("a", "b"): 2}


def test_graph_from_rows_keys_edges_by_relation_and_leaves_unset_attributes_out():
    assert GRAPH.nodes["https://openalex.org/W1"] == {"kind": "work", "label": "Work 1", "year": 2021, "feed": True,
                                                      "hydrated": True}
    assert GRAPH.nodes["https://openalex.org/A1"] == {"kind": "author", "label": "Author 1", "name": "Author 1"}
    assert dict(GRAPH["https://openalex.org/A2"]["https://openalex.org/W2"]) == {
        "authored": {"relation": "authored", "position": 1}}
    assert set(GRAPH["https://openalex.org/W1"]["https://openalex.org/W9"]) == {"cites"}


def test_projections_of_the_feed():
    coupling = bibliographic_coupling(GRAPH)
    assert coupling["https://openalex.org/W1"]["https://openalex.org/W2"]["weight"] == 2
    assert coupling["https://openalex.org/W2"]["https://openalex.org/W3"]["weight"] == 1
    assert cocitation(GRAPH)["https://openalex.org/W1"]["https://openalex.org/W2"]["weight"] == 1  # W4 cites both
    authors = coauthorship(GRAPH)
    assert authors["https://openalex.org/A2"]["https://openalex.org/A3"]["weight"] == 1
    assert "https://openalex.org/A4" not in authors  # W4 is not a feed work
    assert list(feed_citations(GRAPH).edges) == [("https://openalex.org/W2", "https://openalex.org/W1")]
