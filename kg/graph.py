"""Works as a NetworkX multigraph, and the projections later stages use.

Node ids are the OpenAlex ids (https://openalex.org/…); every node has a
`kind`, and edges have a `relation`. The nodes and edges themselves are made by
`kg.transform` (SQL); `graph_from` assembles them for Python. Attributes are scalars only, so the graph
exports as GraphML and GEXF for Cytoscape and Gephi unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

import networkx as nx

NODE_ATTRIBUTES = {"kind": str, "label": str, "title": str, "year": int, "doi": str, "cited_by_count": int,
                   "feed": bool, "hydrated": bool, "upvotes": int, "arxiv_id": str, "name": str, "orcid": str,
                   "ror": str, "country": str, "source_type": str}
EDGE_ATTRIBUTES = {"relation": str, "position": int, "primary": bool}


def graph_from(nodes: Iterable[Sequence], edges: Iterable[Sequence]) -> nx.MultiDiGraph:
    """The graph of the transform's node rows (id, then `NODE_ATTRIBUTES` in order, None where not set) and
    edge rows (source, target, then `EDGE_ATTRIBUTES` in order); edges are keyed by their relation."""
    graph = nx.MultiDiGraph()
    for node_id, *values in nodes:
        graph.add_node(node_id, **{name: value for name, value in zip(NODE_ATTRIBUTES, values) if value is not None})
    for source, target, *values in edges:
        attributes = {name: value for name, value in zip(EDGE_ATTRIBUTES, values) if value is not None}
        graph.add_edge(source, target, key=attributes["relation"], **attributes)
    return graph


def feed_works(graph: nx.MultiDiGraph) -> list[str]:
    return sorted(n for n, d in graph.nodes(data=True) if d.get("kind") == "work" and d.get("feed"))


def references_of(graph: nx.MultiDiGraph, work: str) -> set[str]:
    return {v for _, v, k in graph.out_edges(work, keys=True) if k == "cites"}


def citers_of(graph: nx.MultiDiGraph, work: str) -> set[str]:
    return {u for u, _, k in graph.in_edges(work, keys=True) if k == "cites"}


def authors_of(graph: nx.MultiDiGraph, work: str) -> set[str]:
    return {u for u, _, k in graph.in_edges(work, keys=True) if k == "authored"}


def coauthorship(graph: nx.MultiDiGraph, works: Iterable[str] | None = None) -> nx.Graph:
    """Authors linked by the number of works (default: feed works) they share."""
    by_author: dict[str, set[str]] = {}
    for work in works if works is not None else feed_works(graph):
        for author in authors_of(graph, work):
            by_author.setdefault(author, set()).add(work)
    return _projection(by_author)


def pair_counts(groups: Mapping[str, Iterable[str]]) -> Counter[tuple[str, str]]:
    """How many members each pair of keys shares, found through an inverted index (never by trying every pair).

    The one implementation behind co-authorship, bibliographic coupling and co-citation, here, in the
    threads and in the figures: keys are works (members: references, citers or authors) or authors
    (members: works).
    """
    owners: dict[str, list[str]] = {}
    for key in sorted(groups):
        for member in set(groups[key]):
            owners.setdefault(member, []).append(key)
    counts: Counter[tuple[str, str]] = Counter()
    for keys in owners.values():
        counts.update(combinations(keys, 2))
    return counts


def _projection(groups: Mapping[str, Iterable[str]]) -> nx.Graph:
    projection = nx.Graph()
    projection.add_nodes_from(sorted(groups))
    for (a, b), weight in sorted(pair_counts(groups).items()):
        projection.add_edge(a, b, weight=weight)
    return projection


def bibliographic_coupling(graph: nx.MultiDiGraph) -> nx.Graph:
    """Feed works linked by how many references they share."""
    return _projection({w: references_of(graph, w) for w in feed_works(graph)})


def cocitation(graph: nx.MultiDiGraph) -> nx.Graph:
    """Feed works linked by how many stored works cite both."""
    return _projection({w: citers_of(graph, w) for w in feed_works(graph)})


def feed_citations(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """Direct citations among feed works."""
    feed = set(feed_works(graph))
    citations = nx.DiGraph()
    citations.add_nodes_from(sorted(feed))
    citations.add_edges_from(sorted((u, v) for u, v, k in graph.edges(keys=True)
                                    if k == "cites" and u in feed and v in feed))
    return citations
