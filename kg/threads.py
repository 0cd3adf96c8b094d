"""Research threads: groups of feed papers that build on each other or on the same literature.

Feed papers are linked by a similarity that adds up five signals (each a
cosine, so large reference lists or author lists do not dominate):

    weight(a, b) = 1.0 · direct citation (a cites b or b cites a: 1, else 0)
                 + 1.0 · bibliographic coupling (shared references / √(|refs a|·|refs b|))
                 + 0.5 · co-citation (works citing both / √(|citers a|·|citers b|))
                 + 0.5 · shared authors (shared authors / √(|authors a|·|authors b|))
                 + 0.3 · text similarity (TF-IDF cosine of title and abstract, when ≥ TEXT_MIN)

The text signal places papers the citation graph cannot place yet: a preprint
OpenAlex lists without references joins the thread whose abstracts read like
its own. Its weight is low on purpose: near-identical abstracts (cosine 0.5, a
rare high) add 0.15, less than one direct citation (1.0) or a moderate
coupling, so where citation, coupling or co-authorship evidence exists it
decides. Cosines below TEXT_MIN (0.2) are shared vocabulary, not a topic, and
count as 0.

Links weaker than MIN_WEIGHT are dropped (one shared reference between two
50-reference papers is 0.02: noise). Louvain community detection with a fixed
seed groups the papers; a group of one is an unconnected paper.

Thread ids are stable across builds (`carry_ids`): a thread keeps the id of
the previous build's thread whose papers it mostly holds; new threads get
numbers never used before; merges, splits and ended threads are recorded in
the lineage.

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

WEIGHTS = {"citation": 1.0, "coupling": 1.0, "cocitation": 0.5, "authors": 0.5, "text": 0.3}
MIN_WEIGHT = 0.05
TEXT_MIN = 0.2
TEXT_BLOCK = 2000
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
    texts: dict[str, str] = field(default_factory=dict)
    """Title and abstract of each feed paper (for the text signal)."""


@dataclass(frozen=True)
class Previous:
    """The previous build's threads, whose ids carry over: papers per thread id, the next unused number and
    the lineage so far."""

    threads: dict[str, list[str]]
    next_number: int = 1
    lineage: list[dict] = field(default_factory=list)


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
    next_number: int = 1
    """The number the next new thread gets: ids are never reused."""
    lineage: list[dict] = field(default_factory=list)
    """Births, merges, splits and ends of threads, run by run (see `carry_ids`)."""

    def to_json(self) -> dict:
        return {"weights": WEIGHTS, "min_weight": MIN_WEIGHT, "text_min": TEXT_MIN, "seed": SEED,
                "threads": [asdict(t) for t in self.threads], "unconnected": self.unconnected,
                "links": [list(link) for link in self.links], "names": self.names,
                "next_number": self.next_number, "lineage": self.lineage}

    @classmethod
    def from_json(cls, data: dict) -> Threads:
        threads = [Thread(**{**t, **{k: [tuple(x) for x in t[k]] for k in
                                      ("foundations", "topics", "authors", "institutions")}})
                   for t in data["threads"]]
        return cls(threads, data["unconnected"], [tuple(link) for link in data["links"]], data.get("names") or {},
                   data.get("next_number") or len(threads) + 1, data.get("lineage") or [])

    def previous(self) -> Previous:
        """These threads as the previous build for the next one."""
        return Previous({t.id: t.papers for t in self.threads}, self.next_number, self.lineage)

    def thread_of(self, work_id: str) -> Thread | None:
        return next((t for t in self.threads if work_id in t.papers), None)

    def mentioned(self) -> set[str]:
        """Every id the threads mention."""
        ids = set(self.unconnected)
        for t in self.threads:
            ids |= set(t.papers) | set(t.backbone) | {x for pairs in (t.foundations, t.topics, t.authors,
                                                                       t.institutions) for x, _ in pairs}
        return ids


def _cosine(a: set, b: set) -> float:
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def import_text_model() -> None:
    """Import scikit-learn's TF-IDF (about 2 CPU-seconds of imports, held back so that commands which find
    no threads do not pay them); `kg build` calls this in a thread of its own while the engine writes
    the tables, so `text_similarity` finds it imported."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: F401


def text_similarity(texts: dict[str, str]) -> dict[tuple[str, str], float]:
    """TF-IDF cosines (English stop words out, sublinear term frequency) of the pairs at or above TEXT_MIN."""
    ids = sorted(w for w, text in texts.items() if text and text.strip())
    if len(ids) < 2:
        return {}
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform([texts[i] for i in ids])
    except ValueError:  # nothing but stop words
        return {}
    pairs: dict[tuple[str, str], float] = {}
    for start in range(0, len(ids), TEXT_BLOCK):  # a block of rows at a time: memory stays bounded on big feeds
        block = (matrix[start:start + TEXT_BLOCK] @ matrix.T).tocoo()
        for i, j, v in zip(block.row + start, block.col, block.data):
            if i < j and v >= TEXT_MIN:
                pairs[(ids[i], ids[j])] = round(float(v), 6)
    return pairs


def similarity_graph(data: ThreadInput) -> nx.Graph:
    """Feed papers linked by the weighted sum of the five signals (see the module docstring)."""
    graph = nx.Graph()
    graph.add_nodes_from(sorted(data.feed))
    feed = set(data.feed)
    authors = {w: set(a) for w, a in data.authors.items()}
    texts = text_similarity({w: t for w, t in data.texts.items() if w in feed})
    candidates = set(pair_counts(data.references)) | set(pair_counts(data.citers)) | set(pair_counts(authors))
    candidates |= set(texts)
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
            "text": texts.get((a, b), 0.0),
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


def describe(thread_id: str, papers: list[str], data: ThreadInput, graph: nx.Graph,
             topic_names: dict[str, str]) -> Thread:
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
        name = f"Thread {thread_id.removeprefix('T')}"
    internal = sum(d["weight"] for _, _, d in graph.subgraph(papers).edges(data=True))
    return Thread(
        id=thread_id, name=name, strength=round(internal / len(papers), 4),
        papers=sorted(papers, key=lambda p: (data.year.get(p) or 0, p)),
        foundations=foundations,
        backbone=main_path(_acyclic(edges, data.year)),
        topics=ranked,
        authors=_top(Counter(a for p in papers for a in set(data.authors.get(p, ())))),
        institutions=_top(Counter(i for p in papers for i in set(data.institutions.get(p, ())))),
    )


def _number(thread_id: str) -> int:
    return int(thread_id[1:]) if thread_id[1:].isdigit() else 0


def carry_ids(groups: list[list[str]], previous: Previous | None, run: int = 0) -> tuple[list[str], Previous]:
    """Ids for the ranked groups, carried over from the previous build; returns them and the new lineage state.

    A group is the same thread as a previous one when it holds most (more than half) of that thread's papers;
    a group holding most of several is their merge and keeps the id of the one it shares most papers with.
    Any other group is a new thread with a number never used before: "split" when it took two or more papers
    of one previous thread, else "new". A previous thread no group continues has "ended".
    """
    previous = previous or Previous({})
    number = previous.next_number
    members = [set(g) for g in groups]
    home = {tid: g for tid, papers in sorted(previous.threads.items()) for g, group in enumerate(members)
            if 2 * len(group & set(papers)) > len(papers)}
    ids: list[str] = []
    events: list[dict] = []
    for g, group in enumerate(members):
        heirs = sorted((t for t, h in home.items() if h == g),
                       key=lambda t: (-len(group & set(previous.threads[t])), _number(t)))
        if heirs:
            ids.append(heirs[0])
            if len(heirs) > 1:
                events.append({"run": run, "event": "merged", "thread": heirs[0], "from": heirs[1:]})
            continue
        ids.append(f"T{number}")
        number += 1
        shared = {t: len(group & set(papers)) for t, papers in previous.threads.items() if group & set(papers)}
        events.append({"run": run, "event": "split" if any(n >= 2 for n in shared.values()) else "new",
                       "thread": ids[-1], "from": sorted(shared, key=_number)})
    for tid in sorted((t for t in previous.threads if t not in home), key=_number):
        into = sorted({ids[g] for g, group in enumerate(members) if group & set(previous.threads[tid])}, key=_number)
        events.append({"run": run, "event": "ended", "thread": tid, "into": into})
    return ids, Previous(dict(zip(ids, groups)), number, previous.lineage + events)


def find_threads(data: ThreadInput, topic_names: dict[str, str], previous: Previous | None = None,
                 run: int = 0, graph: nx.Graph | None = None) -> Threads:
    """Threads among the feed papers; ids carry over from `previous` (the last build's), events are dated `run`.

    `graph` is `similarity_graph(data)` when the caller has it already (the build also explains links with it).
    """
    graph = similarity_graph(data) if graph is None else graph
    communities = nx.community.louvain_communities(graph, weight="weight", seed=SEED) if graph.number_of_edges() else []
    groups = [sorted(c) for c in communities if len(c) > 1]
    grouped = {p for group in groups for p in group}
    strength = {tuple(g): sum(d["weight"] for _, _, d in graph.subgraph(g).edges(data=True)) / len(g) for g in groups}
    groups.sort(key=lambda g: (-len(g), -strength[tuple(g)], g[0]))
    ids, state = carry_ids(groups, previous, run)
    threads = [describe(i, g, data, graph, topic_names) for i, g in zip(ids, groups)]
    links = sorted((a, b, d["weight"]) for a, b, d in graph.edges(data=True))
    return Threads(threads, sorted(set(data.feed) - grouped), links, next_number=state.next_number,
                   lineage=state.lineage)


