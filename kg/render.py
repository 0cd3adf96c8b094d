"""Graphviz figures of the research threads, drawn from the export (threads.json and the tables).

Three kinds of figure go into `figures/`:
- `thread-T<n>`: one per thread, works placed on a year axis (oldest left),
  feed papers highlighted, shared references (foundations), citations, and
  the backbone drawn heavy; every node links to its OpenAlex page, and feed
  papers also to arXiv;
- `coauthors`: the feed's co-authorship network, authors grouped by the
  institution they name most often on feed papers;
- `threads`: an overview, one node per thread, linked by how strongly their
  papers are similar across threads.
Large figures are cut to the top nodes (by degree or weight) and say in their
caption what was left out. Building a figure is pure (data in, DOT out); only
`render_all` touches files and runs `dot`.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import graphviz
import pandas as pd
import pyarrow.parquet as pq

from kg.errors import RenderError
from kg.graph import pair_counts
from kg.ids import last_segment
from kg.text import clean_text
from kg.thread_io import load_threads
from kg.threads import Thread, Threads
from kg.writers.files import write_atomically

FEED_COLOUR, FOUNDATION_COLOUR, BACKBONE_COLOUR = "#cfe3f7", "#f7e7b4", "#b2182b"


@dataclass(frozen=True)
class Limits:
    papers: int = 25
    references: int = 15
    authors: int = 50
    author_links: int = 150


@dataclass(frozen=True)
class Works:
    """Titles, years and arXiv ids of the works a figure may show, and the citations among them."""

    title: dict[str, str]
    year: dict[str, int]
    arxiv: dict[str, str]
    feed: set[str]
    cites: set[tuple[str, str]]


def _label(lines: list[tuple[str, str | None, int]]) -> str:
    """An HTML-like Graphviz label: (text, link, point size) rows, every text escaped."""
    rows = []
    for text, link, size in lines:
        href = f' HREF="{html.escape(link)}" TARGET="_blank" TITLE="{html.escape(text)}"' if link else ""
        body = "<BR/>".join(html.escape(part) for part in text.split("\n"))
        rows.append(f'<TR><TD{href}><FONT POINT-SIZE="{size}">{body}</FONT></TD></TR>')
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>>'


def _work_node(graph: graphviz.Digraph, work: str, works: Works, **style: str) -> None:
    title = works.title.get(work) or last_segment(work)
    year = works.year.get(work)
    lines = [("\n".join(textwrap.wrap(title, 32, max_lines=3, placeholder=" …")), work, 10),
             (f"{year or 'year unknown'} · {last_segment(work)}", None, 8)]
    if work in works.arxiv:
        lines.append((f"arXiv:{works.arxiv[work]}", f"https://arxiv.org/abs/{works.arxiv[work]}", 8))
    graph.node(last_segment(work), _label(lines), URL=work, tooltip=title, target="_blank", **style)


def _caption(title: str, notes: list[str]) -> str:
    return "\n".join([title] + notes)


def thread_figure(thread: Thread, works: Works, limits: Limits = Limits()) -> graphviz.Digraph:
    """One thread on a year axis: papers, foundations and backbone, with the citations among them."""
    papers = thread.papers[:limits.papers]
    foundations = [r for r, _ in thread.foundations[:limits.references]]
    shown = list(dict.fromkeys(papers + foundations + thread.backbone))
    notes = []
    if len(thread.papers) > len(papers):
        notes.append(f"{len(thread.papers) - len(papers)} of the thread's {len(thread.papers)} papers left out "
                     f"(the {len(papers)} oldest are shown)")
    if len(thread.foundations) > len(foundations):
        notes.append(f"{len(thread.foundations) - len(foundations)} shared references left out")
    graph = graphviz.Digraph(f"thread-{thread.id}", graph_attr={
        "rankdir": "LR", "label": _caption(f"{thread.id}: {thread.name} (strength {thread.strength:g})", notes),
        "labelloc": "t", "fontname": "Helvetica", "fontsize": "14", "nodesep": "0.25", "ranksep": "0.5"},
        node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "white", "fontname": "Helvetica",
                   "margin": "0.05"},
        edge_attr={"color": "#777777", "arrowsize": "0.6"})
    years = sorted({works.year[w] for w in shown if w in works.year})
    axis = ["unknown"] * any(w not in works.year for w in shown) + [str(y) for y in years]
    for index, year in enumerate(axis):
        graph.node(f"year-{year}", "year unknown" if year == "unknown" else year, shape="plaintext",
                   style="", fontsize="16", fontcolor="#555555", **{"class": "yearaxis"})
        if index:
            graph.edge(f"year-{axis[index - 1]}", f"year-{year}", style="invis")
    backbone = set(thread.backbone)
    backbone_edges = set(zip(thread.backbone, thread.backbone[1:]))
    by_year = defaultdict(list)
    for work in shown:
        by_year[str(works.year.get(work, "unknown"))].append(work)
        style = {"fillcolor": FEED_COLOUR if work in works.feed else FOUNDATION_COLOUR if work in foundations else "white"}
        if work in backbone:
            style.update(color=BACKBONE_COLOUR, penwidth="2.5")
        if work in works.feed:
            style["class"] = "feedpaper"
        _work_node(graph, work, works, **style)
    for year, members in sorted(by_year.items()):
        with graph.subgraph() as rank:
            rank.attr(rank="same")
            rank.node(f"year-{year}")
            for work in members:
                rank.node(last_segment(work))
    for citing, cited in sorted(works.cites):
        if citing in shown and cited in shown:
            heavy = (citing, cited) in backbone_edges
            graph.edge(last_segment(cited), last_segment(citing), dir="back",
                       **({"color": BACKBONE_COLOUR, "penwidth": "3"} if heavy else {}))
    return graph


def coauthor_figure(authorships: pd.DataFrame, names: dict[str, str], institution_names: dict[str, str],
                    limits: Limits = Limits()) -> graphviz.Graph:
    """Co-authors of the feed's papers, clustered by each author's most frequent institution.

    When there are too many, the authors of the most feed papers stay (then
    those with most co-authorship), so one paper with hundreds of authors
    cannot crowd out everyone else.
    """
    by_author = {a: set(works) for a, works in authorships.groupby("author_id").work_id}
    papers = Counter({a: len(works) for a, works in by_author.items()})
    weight = pair_counts(by_author)
    strength: Counter[str] = Counter()
    for (a, b), w in weight.items():
        strength[a] += w
        strength[b] += w
    everyone = sorted(set(authorships.author_id))
    chosen = sorted(everyone, key=lambda a: (-papers[a], -strength[a], a))[:limits.authors]
    chosen_set = set(chosen)
    links = sorted(((a, b, w) for (a, b), w in weight.items() if a in chosen_set and b in chosen_set),
                   key=lambda link: (-link[2], link[0], link[1]))
    shown_links = links[:limits.author_links]
    home = {}
    for author, group in authorships.groupby("author_id"):
        counts = Counter(i for ids in group.institution_ids.dropna() for i in ids.split(";"))
        if counts:
            home[author] = min(counts, key=lambda i: (-counts[i], i))
    notes = []
    if len(chosen) < len(everyone):
        notes.append(f"{len(everyone) - len(chosen)} of {len(everyone)} authors left out "
                     f"(showing the {len(chosen)} with the most feed papers, then co-authors)")
    if len(shown_links) < len(links):
        notes.append(f"{len(links) - len(shown_links)} weaker co-author links left out")
    graph = graphviz.Graph("coauthors", engine="fdp", graph_attr={
        "label": _caption("Co-authorship among the feed's authors", notes), "labelloc": "t",
        "fontname": "Helvetica", "fontsize": "14"},
        node_attr={"shape": "ellipse", "style": "filled", "fillcolor": "#e8f1e4", "fontname": "Helvetica",
                   "fontsize": "9"})
    clusters = defaultdict(list)
    for author in chosen:
        clusters[home.get(author)].append(author)

    def add_authors(target: graphviz.Graph, members: list[str]) -> None:
        for author in members:
            name = names.get(author) or last_segment(author)
            target.node(last_segment(author), html.escape(name), URL=author, tooltip=name, target="_blank")

    for institution, members in sorted(clusters.items(), key=lambda item: (item[0] is None, item[0] or "")):
        if institution is None:
            add_authors(graph, members)
            continue
        with graph.subgraph(name=f"cluster_{last_segment(institution)}") as cluster:
            cluster.attr(label=institution_names.get(institution, last_segment(institution)), style="rounded",
                         color="#999999", fontsize="10")
            add_authors(cluster, members)
    for a, b, w in shown_links:
        graph.edge(last_segment(a), last_segment(b), penwidth=f"{1 + math.log2(w):.2f}", tooltip=f"{w} shared papers")
    return graph


def overview_figure(threads: Threads, form: str = "svg") -> graphviz.Graph:
    """One node per thread, sized by papers; edges sum the similarity between papers of two threads."""
    member = {p: t.id for t in threads.threads for p in t.papers}
    between: dict[tuple[str, str], float] = {}
    for a, b, weight in threads.links:
        if a in member and b in member and member[a] != member[b]:
            pair = (min(member[a], member[b]), max(member[a], member[b]))
            between[pair] = between.get(pair, 0.0) + weight
    notes = [f"{len(threads.unconnected)} feed papers connect to no thread"] if threads.unconnected else []
    graph = graphviz.Graph("threads", engine="neato", graph_attr={
        "label": _caption("Research threads of the feed and how they touch", notes), "labelloc": "t",
        "fontname": "Helvetica", "fontsize": "14", "overlap": "false", "sep": "+12"},
        node_attr={"shape": "circle", "style": "filled", "fillcolor": FEED_COLOUR, "fontname": "Helvetica",
                   "fixedsize": "true"})
    for thread in threads.threads:
        size = 1.2 + 0.25 * math.sqrt(len(thread.papers))
        label = "\n".join(textwrap.wrap(thread.name, 18, max_lines=3, placeholder=" …"))
        graph.node(thread.id, f"{thread.id}\n{label}\n{len(thread.papers)} papers", width=f"{size:.2f}",
                   fontsize="10", URL=f"thread-{thread.id}.{form}", tooltip=thread.name)
    for (a, b), weight in sorted(between.items()):
        graph.edge(a, b, penwidth=f"{1 + 2 * weight:.2f}", label=f"{weight:.2f}", fontsize="9")
    return graph


def _works(tables: Path, threads: Threads) -> Works:
    ids = sorted({w for t in threads.threads for w in t.papers + t.backbone + [r for r, _ in t.foundations]})
    frame = pd.read_parquet(tables / "works.parquet", columns=["id", "title", "year", "arxiv_id", "is_feed"],
                            filters=[("id", "in", ids)]) if ids else pd.DataFrame(
        columns=["id", "title", "year", "arxiv_id", "is_feed"])
    cites = pq.read_table(tables / "citations.parquet",
                          filters=[("citing_id", "in", ids), ("cited_id", "in", ids)]).to_pandas() if ids else None
    return Works(
        title={**threads.names, **{i: t for i, t in zip(frame.id, frame.title) if t}},
        year={i: int(y) for i, y in zip(frame.id, frame.year) if pd.notna(y)},
        arxiv={i: a for i, a in zip(frame.id, frame.arxiv_id) if pd.notna(a) and a},
        feed={i for i, f in zip(frame.id, frame.is_feed) if f},
        cites=set(zip(cites.citing_id, cites.cited_id)) if cites is not None else set())


def _write(figure: graphviz.Graph | graphviz.Digraph, path: Path) -> Path:
    # Titles and names come from feeds and OpenAlex: control characters would break the DOT syntax or the SVG's XML.
    source = graphviz.Source(clean_text(figure.source), engine=figure.engine)
    try:
        data = source.pipe(format=path.suffix[1:])
    except graphviz.ExecutableNotFound:
        raise RenderError("Graphviz is not installed (no `dot` on PATH): run `make setup`, "
                          "or install it, e.g. `sudo apt-get install graphviz`") from None
    return write_atomically(path, data)


def render_all(export: Path, form: str = "svg", limits: Limits = Limits()) -> list[Path]:
    """Every figure of the export into export/figures/, replacing older ones of the same format."""
    threads = load_threads(export)
    tables = export / "tables"
    folder = export / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"*.{form}"):
        old.unlink()
    works = _works(tables, threads)
    written = [_write(thread_figure(t, works, limits), folder / f"thread-{t.id}.{form}") for t in threads.threads]
    feed = sorted(pd.read_parquet(tables / "works.parquet", columns=["id", "is_feed"]).query("is_feed").id)
    authorships = pd.read_parquet(tables / "authorships.parquet", columns=["work_id", "author_id", "institution_ids"],
                                  filters=[("work_id", "in", feed)]) if feed else None
    if authorships is not None and len(authorships):
        authors = pd.read_parquet(tables / "authors.parquet")
        institutions = pd.read_parquet(tables / "institutions.parquet")
        written.append(_write(coauthor_figure(authorships, dict(zip(authors.id, authors.name)),
                                              dict(zip(institutions.id, institutions.name)), limits),
                              folder / f"coauthors.{form}"))
    written.append(_write(overview_figure(threads, form), folder / f"threads.{form}"))
    return written
