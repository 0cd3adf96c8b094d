"""Research threads: groups of feed papers that build on each other or on the same literature.

Feed papers are linked by a similarity that adds up four signals (each a
cosine, so large reference lists or author lists do not dominate):

    weight(a, b) = 1.0 · direct citation (a cites b or b cites a: 1, else 0)
                 + 1.0 · bibliographic coupling (shared references / √(|refs a|·|refs b|))
                 + 0.5 · co-citation (works citing both / √(|citers a|·|citers b|))
                 + 0.5 · shared authors (shared authors / √(|authors a|·|authors b|))

Links weaker than MIN_WEIGHT are dropped (one shared reference between two
50-reference papers is 0.02: noise). Louvain community detection with a fixed
seed groups the papers; a group of one is an unconnected paper.

Each thread is then described: its foundations (references cited by at least
two of its papers), its backbone (the main path by search path count through
the citation DAG of its papers and their references), its authors,
institutions and dominant topics, a name from those topics, and a strength
(internal link weight per paper). Threads are ranked by size, then strength.

Everything is computed from a `ThreadInput` of plain ids (read from the export
tables by `kg.thread_io`), so the same threads come out of any store that
builds the same tables. Their RDF is in `kg.rdf`, their tables in `kg.tables`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

import networkx as nx

from kg.graph import pair_counts

WEIGHTS = {"citation": 1.0, "coupling": 1.0, "cocitation": 0.5, "authors": 0.5}
MIN_WEIGHT = 0.05
SEED = 42
TOP = 10


@dataclass(frozen=True)
class ThreadInput:
    """What threads are made of: the feed papers and their neighbourhood, as plain ids and labels."""

    feed: list[str]
    references: dict[str, set[str]]
    citers: dict[str, set[str]]
    authors: dict[str, list[str]]
    institutions: dict[str, list[str]]
    primary_topic: dict[str, str]
    year: dict[str, int]
    reference_links: list[tuple[str, str]] = field(default_factory=list)
    """Citations among the feed papers' references (for the backbone)."""


@dataclass(frozen=True)
class Thread:
    id: str
    name: str
    strength: float
    papers: list[str]
    foundations: list[tuple[str, int]]
    backbone: list[str]
    topics: list[tuple[str, int]]
    authors: list[tuple[str, int]]
    institutions: list[tuple[str, int]]


@dataclass(frozen=True)
class Threads:
    threads: list[Thread]
    unconnected: list[str]
    links: list[tuple[str, str, float]]
    """Similarity links between feed papers (the overview shows how threads touch through them)."""
    names: dict[str, str] = field(default_factory=dict)
    """Display names of every id the threads mention (titles, author, institution and topic names)."""

    def to_json(self) -> dict:
        return {"weights": WEIGHTS, "min_weight": MIN_WEIGHT, "seed": SEED,
                "threads": [asdict(t) for t in self.threads], "unconnected": self.unconnected,
                "links": [list(link) for link in self.links], "names": self.names}

    @classmethod
    def from_json(cls, data: dict) -> Threads:
        threads = [Thread(**{**t, **{k: [tuple(x) for x in t[k]] for k in
                                      ("foundations", "topics", "authors", "institutions")}})
                   for t in data["threads"]]
        return cls(threads, data["unconnected"], [tuple(link) for link in data["links"]], data.get("names") or {})

    def mentioned(self) -> set[str]:
        """Every id the threads mention."""
        ids = set(self.unconnected)
        for t in self.threads:
            ids |= set(t.papers) | set(t.backbone) | {x for pairs in (t.foundations, t.topics, t.authors,
                                                                       t.institutions) for x, _ in pairs}
        return ids


def _cosine(a: set, b: set) -> float:
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def similarity_graph(data: ThreadInput) -> nx.Graph:
    """Feed papers linked by the weighted sum of the four signals (see the module docstring)."""
    graph = nx.Graph()
    graph.add_nodes_from(sorted(data.feed))
    feed = set(data.feed)
    authors = {w: set(a) for w, a in data.authors.items()}
    candidates = set(pair_counts(data.references)) | set(pair_counts(data.citers)) | set(pair_counts(authors))
    candidates |= {(min(p, r), max(p, r)) for p, refs in data.references.items() for r in refs if r in feed and r != p}
    for a, b in sorted(candidates):
        if a not in feed or b not in feed:
            continue
        refs_a, refs_b = data.references.get(a, set()), data.references.get(b, set())
        signals = {
            "citation": 1.0 if b in refs_a or a in refs_b else 0.0,
            "coupling": _cosine(refs_a, refs_b),
            "cocitation": _cosine(data.citers.get(a, set()), data.citers.get(b, set())),
            "authors": _cosine(authors.get(a, set()), authors.get(b, set())),
        }
        weight = round(sum(WEIGHTS[k] * v for k, v in signals.items()), 6)
        if weight >= MIN_WEIGHT:
            graph.add_edge(a, b, weight=weight, **{k: round(v, 6) for k, v in signals.items()})
    return graph


def _acyclic(edges: list[tuple[str, str]], year: dict[str, int]) -> nx.DiGraph:
    """Citation DAG (citing → cited); a citation to a newer work goes first, then any cycle is broken."""
    dag = nx.DiGraph()
    dag.add_edges_from(sorted((u, v) for u, v in edges
                              if u != v and not (year.get(u) and year.get(v) and year[u] < year[v])))
    while True:
        try:
            cycle = nx.find_cycle(dag)
        except nx.NetworkXNoCycle:
            return dag
        dag.remove_edge(*min(cycle))


def main_path(dag: nx.DiGraph) -> list[str]:
    """The path with the largest total search path count (SPC), from a newest work to an oldest one.

    An edge's SPC is the number of source-to-sink paths through it: paths into
    its citing end times paths out of its cited end.
    """
    if dag.number_of_edges() == 0:
        return []
    order = list(nx.lexicographical_topological_sort(dag))
    into: dict[str, int] = {}
    for node in order:
        into[node] = sum(into[p] for p in dag.predecessors(node)) or 1
    out_of: dict[str, int] = {}
    for node in reversed(order):
        out_of[node] = sum(out_of[s] for s in dag.successors(node)) or 1
    best: dict[str, tuple[int, list[str]]] = {}
    for node in reversed(order):
        options = [(into[node] * out_of[s] + best[s][0], [node] + best[s][1]) for s in sorted(dag.successors(node))]
        best[node] = max(options, key=lambda option: option[0], default=(0, [node]))
    sources = [n for n in order if dag.in_degree(n) == 0]
    return max((best[s] for s in sources), key=lambda option: option[0])[1]


def _top(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP]


def describe(number: int, papers: list[str], data: ThreadInput, graph: nx.Graph, topic_names: dict[str, str]) -> Thread:
    members = set(papers)
    cited = Counter(r for p in papers for r in data.references.get(p, ()))
    foundations = _top(Counter({r: n for r, n in cited.items() if n >= 2 and r not in members}))
    neighbourhood = members | set(cited)
    edges = [(p, r) for p in papers for r in data.references.get(p, ())]
    edges += [(u, v) for u, v in data.reference_links if u in neighbourhood and v in neighbourhood]
    topics = Counter(data.primary_topic[p] for p in papers if p in data.primary_topic)
    ranked = _top(topics)
    if ranked and ranked[0][1] * 2 >= len(papers):
        name = topic_names.get(ranked[0][0], ranked[0][0])
    elif ranked:
        name = " / ".join(topic_names.get(t, t) for t, _ in ranked[:2])
    else:
        name = f"Thread {number}"
    internal = sum(d["weight"] for _, _, d in graph.subgraph(papers).edges(data=True))
    return Thread(
        id=f"T{number}", name=name, strength=round(internal / len(papers), 4),
        papers=sorted(papers, key=lambda p: (data.year.get(p) or 0, p)),
        foundations=foundations,
        backbone=main_path(_acyclic(edges, data.year)),
        topics=ranked,
        authors=_top(Counter(a for p in papers for a in set(data.authors.get(p, ())))),
        institutions=_top(Counter(i for p in papers for i in set(data.institutions.get(p, ())))),
    )


def find_threads(data: ThreadInput, topic_names: dict[str, str]) -> Threads:
    graph = similarity_graph(data)
    communities = nx.community.louvain_communities(graph, weight="weight", seed=SEED) if graph.number_of_edges() else []
    groups = [sorted(c) for c in communities if len(c) > 1]
    grouped = {p for group in groups for p in group}
    strength = {tuple(g): sum(d["weight"] for _, _, d in graph.subgraph(g).edges(data=True)) / len(g) for g in groups}
    groups.sort(key=lambda g: (-len(g), -strength[tuple(g)], g[0]))
    threads = [describe(n, g, data, graph, topic_names) for n, g in enumerate(groups, start=1)]
    links = sorted((a, b, d["weight"]) for a, b, d in graph.edges(data=True))
    return Threads(threads, sorted(set(data.feed) - grouped), links)


