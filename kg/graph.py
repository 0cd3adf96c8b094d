"""Works as a NetworkX multigraph, and the projections later stages use.

Node ids are the OpenAlex ids (https://openalex.org/…); every node has a
`kind`, and edges have a `relation`. Attributes are scalars only, so the graph
exports as GraphML and GEXF for Cytoscape and Gephi unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import networkx as nx

from kg.model import Work

NODE_ATTRIBUTES = {"kind": str, "label": str, "title": str, "year": int, "doi": str, "cited_by_count": int,
                   "feed": bool, "hydrated": bool, "upvotes": int, "arxiv_id": str, "name": str, "orcid": str,
                   "ror": str, "country": str, "source_type": str}
EDGE_ATTRIBUTES = {"relation": str, "position": int, "primary": bool}


@dataclass(frozen=True)
class Node:
    """A node as one work sees it; `complete` marks the work's own node, which wins over partial sightings."""

    id: str
    attributes: dict[str, object]
    complete: bool = False


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    relation: str
    attributes: dict[str, object]


def _node(node_id: str, complete: bool = False, **attributes: object) -> Node:
    return Node(node_id, {k: v for k, v in attributes.items() if v is not None}, complete)


def work_elements(work: Work) -> tuple[list[Node], list[Edge]]:
    """The nodes and edges one work contributes (a pure per-work function, like `rdf.work_lines`)."""
    feed = work.feed
    nodes = [_node(work.id, True, kind="work", label=work.title, title=work.title, year=work.year, doi=work.doi,
                   cited_by_count=work.cited_by_count, feed=feed is not None, hydrated=True,
                   upvotes=feed.upvotes if feed else None, arxiv_id=feed.arxiv_id if feed else None)]
    edges: dict[tuple[str, str, str], Edge] = {}

    def link(source: str, target: str, relation: str, **attributes: object) -> None:
        edges.setdefault((source, target, relation), Edge(source, target, relation,
                                                          {"relation": relation, **attributes}))

    for reference in work.references:
        nodes.append(_node(reference, kind="work", feed=False, hydrated=False))
        link(work.id, reference, "cites")
    for authorship in work.authorships:
        author = authorship.author
        nodes.append(_node(author.id, kind="author", label=author.name, name=author.name, orcid=author.orcid))
        link(author.id, work.id, "authored", position=authorship.position)
        for institution in authorship.institutions:
            nodes.append(_node(institution.id, kind="institution", label=institution.name, name=institution.name,
                               ror=institution.ror, country=institution.country))
            link(author.id, institution.id, "affiliated_with")
    if work.source:
        nodes.append(_node(work.source.id, kind="source", label=work.source.name, name=work.source.name,
                           source_type=work.source.type))
        link(work.id, work.source.id, "published_in")
    for topic in work.all_topics():
        nodes.append(_node(topic.id, kind="topic", label=topic.name, name=topic.name))
        link(work.id, topic.id, "has_topic",
             primary=bool(work.primary_topic and work.primary_topic.id == topic.id))
    return nodes, list(edges.values())


def merge_node(known: dict[str, object] | None, node: Node) -> dict[str, object]:
    """A node's attributes after one more sighting: the work's own node wins, others only fill gaps."""
    known = known or {}
    merged = {**known, **node.attributes} if node.complete else {**node.attributes, **known}
    return {name: merged[name] for name in NODE_ATTRIBUTES if name in merged}  # one attribute order for all


def build_graph(works: Iterable[Work]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for work in works:
        nodes, edges = work_elements(work)
        for node in nodes:
            known = graph.nodes[node.id] if node.id in graph else None
            graph.add_node(node.id, **merge_node(known, node))
        for edge in edges:
            graph.add_edge(edge.source, edge.target, key=edge.relation, **edge.attributes)
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
