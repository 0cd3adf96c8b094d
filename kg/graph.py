"""Works as a NetworkX multigraph, and the projections later stages use.

Node ids are the OpenAlex ids (https://openalex.org/…); every node has a
`kind`, and edges have a `relation`. Attributes are scalars only, so the graph
exports as GraphML and GEXF for Cytoscape and Gephi unchanged.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Iterable

import networkx as nx

from kg.model import Work


def _set(graph: nx.MultiDiGraph, node: str, overwrite: bool = False, **attributes: object) -> None:
    """Add a node without empty attributes; a known node keeps what it has unless `overwrite`."""
    values = {k: v for k, v in attributes.items() if v is not None}
    if node not in graph:
        graph.add_node(node, **values)
    elif overwrite:
        graph.nodes[node].update(values)
    else:
        for key, value in values.items():
            graph.nodes[node].setdefault(key, value)


def build_graph(works: Iterable[Work]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for work in works:
        _set(graph, work.id, overwrite=True, kind="work", label=work.title, title=work.title, year=work.year, doi=work.doi,
             cited_by_count=work.cited_by_count, feed=work.feed is not None, hydrated=True,
             upvotes=work.feed.upvotes if work.feed else None, arxiv_id=work.feed.arxiv_id if work.feed else None)
        for reference in work.references:
            _set(graph, reference, kind="work", feed=False, hydrated=False)
            graph.add_edge(work.id, reference, key="cites", relation="cites")
        for authorship in work.authorships:
            author = authorship.author
            _set(graph, author.id, kind="author", label=author.name, name=author.name, orcid=author.orcid)
            graph.add_edge(author.id, work.id, key="authored", relation="authored", position=authorship.position)
            for institution in authorship.institutions:
                _set(graph, institution.id, kind="institution", label=institution.name, name=institution.name,
                     ror=institution.ror, country=institution.country)
                if not graph.has_edge(author.id, institution.id, key="affiliated_with"):
                    graph.add_edge(author.id, institution.id, key="affiliated_with", relation="affiliated_with")
        if work.source:
            _set(graph, work.source.id, kind="source", label=work.source.name, name=work.source.name,
                 source_type=work.source.type)
            graph.add_edge(work.id, work.source.id, key="published_in", relation="published_in")
        for topic in {t.id: t for t in work.topics + ([work.primary_topic] if work.primary_topic else [])}.values():
            _set(graph, topic.id, kind="topic", label=topic.name, name=topic.name)
            graph.add_edge(work.id, topic.id, key="has_topic", relation="has_topic",
                           primary=bool(work.primary_topic and work.primary_topic.id == topic.id))
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
    """Authors linked by the number of works they share."""
    projection = nx.Graph()
    for work in works if works is not None else feed_works(graph):
        authors = sorted(authors_of(graph, work))
        projection.add_nodes_from(authors)
        for a, b in combinations(authors, 2):
            weight = projection.get_edge_data(a, b, {"weight": 0})["weight"]
            projection.add_edge(a, b, weight=weight + 1)
    return projection


def _pair_counts(groups: dict[str, set[str]]) -> nx.Graph:
    projection = nx.Graph()
    projection.add_nodes_from(sorted(groups))
    owners: dict[str, list[str]] = {}
    for key, members in groups.items():
        for member in members:
            owners.setdefault(member, []).append(key)
    counts: Counter = Counter()
    for keys in owners.values():
        for a, b in combinations(sorted(keys), 2):
            counts[a, b] += 1
    for (a, b), weight in sorted(counts.items()):
        projection.add_edge(a, b, weight=weight)
    return projection


def bibliographic_coupling(graph: nx.MultiDiGraph) -> nx.Graph:
    """Feed works linked by how many references they share."""
    return _pair_counts({w: references_of(graph, w) for w in feed_works(graph)})


def cocitation(graph: nx.MultiDiGraph) -> nx.Graph:
    """Feed works linked by how many stored works cite both."""
    return _pair_counts({w: citers_of(graph, w) for w in feed_works(graph)})


def feed_citations(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """Direct citations among feed works."""
    feed = set(feed_works(graph))
    citations = nx.DiGraph()
    citations.add_nodes_from(sorted(feed))
    citations.add_edges_from(sorted((u, v) for u, v, k in graph.edges(keys=True)
                                    if k == "cites" and u in feed and v in feed))
    return citations
