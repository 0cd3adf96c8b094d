"""The report's interactive views: the citation map on a timeline and the co-author network.

Everything is computed here, in Python, from the export folder: which works the
map shows, where (x by publication year, one horizontal lane per thread), how
large, which label, the prior and derivative works of each thread, and the
co-author network. The page (`kg/static/explore.js`) only draws it with
vis-network and reacts to clicks, search and filters.

vis-network's JavaScript and CSS come from the pyvis package (a dependency),
and are inlined with their licence notice, so the page stays one offline file.
The data goes in as JSON inside a `<script type="application/json">` element,
with `<`, `>`, `&` and the JavaScript line separators escaped, so that no feed
text can close the element or run as code.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from kg.changes import read_history
from kg.ids import last_segment
from kg.thread_io import load_threads

MAX_WORKS = 5000
"""Above this many works the map shows the feed papers and the most connected works first, and says what it
left out (measured: `python -m bench report`)."""
MAX_AUTHORS = 300
"""The co-author view shows at most this many authors, those with the most feed papers."""
LABELLED = 40
"""Besides feed papers, this many of the most cited works carry a label; the others show theirs on hover."""
YEAR_WIDTH, ROW_HEIGHT, LANE_GAP = 110, 34, 70
"""Map units: one column per publication year present (gaps closed, so one old classic does not stretch the
axis), one row per work within its lane and year."""
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"]
OTHER = "#b8c2cc"


@dataclass(frozen=True)
class Views:
    """What the page draws: the map's works, citations and threads; the co-author network; what was left out."""

    works: list[dict]
    citations: list[list[str]]
    threads: list[dict]
    authors: list[dict]
    coauthors: list[list]
    total_works: int
    total_authors: int

    def to_json(self) -> dict:
        return {"works": self.works, "citations": self.citations, "threads": self.threads, "authors": self.authors,
                "coauthors": self.coauthors, "total_works": self.total_works, "total_authors": self.total_authors}


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _number(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _names(authorships: pd.DataFrame, authors: pd.Series, work_ids: set[str]) -> dict[str, str]:
    """"First, Second, Third et al." per work, in author order."""
    rows = authorships[authorships.work_id.isin(work_ids)].sort_values(["work_id", "position"])
    names: dict[str, list[str]] = defaultdict(list)
    for work, author in zip(rows.work_id, rows.author_id):
        names[work].append(str(authors.get(author) or last_segment(author)))
    return {w: ", ".join(n[:3]) + (" et al." if len(n) > 3 else "") for w, n in names.items()}


def _chosen(works: pd.DataFrame, citations: pd.DataFrame, limit: int) -> list[str]:
    """Every work when they fit; else the feed papers, then the works most connected to them, then the rest."""
    if len(works) <= limit:
        return list(works.id)
    degree = Counter(citations.citing_id) + Counter(citations.cited_id)
    feed = sorted(works.id[works.is_feed])
    others = sorted(set(works.id) - set(feed), key=lambda w: (-degree.get(w, 0), w))
    return (feed + others)[:limit]


def citation_map(export: Path, limit: int = MAX_WORKS) -> tuple[list[dict], list[list[str]], list[dict], int]:
    """The map's works (placed and sized), the citations among them, the threads and the total number of works."""
    tables = export / "tables"
    works = pd.read_parquet(tables / "works.parquet", columns=["id", "title", "year", "doi", "cited_by_count",
                                                               "is_feed", "upvotes", "arxiv_id"])
    every_citation = pd.read_parquet(tables / "citations.parquet")
    total = len(works)
    chosen = _chosen(works, every_citation, limit)
    shown = set(chosen)
    works = works[works.id.isin(shown)].set_index("id")
    citations = every_citation[every_citation.citing_id.isin(shown) & every_citation.cited_id.isin(shown)]
    threads = load_threads(export)
    history = read_history(export)
    new = {p.work_id for p in history.latest.new_papers} if history and history.latest else set()

    thread_of = {p: t.id for t in threads.threads for p in t.papers}
    leaning: dict[str, Counter] = defaultdict(Counter)  # a reference belongs to the thread that cites it most
    for citing, cited in zip(citations.citing_id, citations.cited_id):
        if citing in thread_of and cited not in thread_of:
            leaning[cited][thread_of[citing]] += 1
    lane_of = {w: thread_of.get(w) or (min(c.items(), key=lambda i: (-i[1], i[0]))[0] if (c := leaning.get(w)) else None)
               for w in chosen}
    colour = {t.id: PALETTE[i % len(PALETTE)] for i, t in enumerate(threads.threads)}

    authorships = pd.read_parquet(tables / "authorships.parquet", columns=["work_id", "author_id", "position"])
    authors = pd.read_parquet(tables / "authors.parquet", columns=["id", "name"]).set_index("id").name
    by_work = _names(authorships, authors, shown)
    important = set(works.index[works.is_feed]) | set(
        works[~works.is_feed].sort_values(["cited_by_count", "title"], ascending=[False, True]).index[:LABELLED])
    position = _place(works, lane_of, [t.id for t in threads.threads] + [None])

    nodes = []
    for work in chosen:
        row = works.loc[work]
        cited = _number(row.cited_by_count) or 0
        upvotes = _number(row.upvotes)
        weight = upvotes if row.is_feed and upvotes is not None else cited
        nodes.append({
            "id": work, "title": _text(row.title) or last_segment(work), "year": _number(row.year),
            "authors": by_work.get(work, ""), "thread": thread_of.get(work), "lane": lane_of[work],
            "cited_by": cited, "upvotes": upvotes, "feed": bool(row.is_feed), "new": work in new,
            "doi": _text(row.doi), "arxiv": _text(row.arxiv_id),
            "x": position[work][0], "y": position[work][1],
            "size": round(min(4 + 1.5 * math.log2(1 + weight), 17), 2), "labelled": work in important,
            "colour": colour.get(lane_of[work] or "", OTHER)})
    edges = sorted([c, d] for c, d in zip(citations.citing_id, citations.cited_id))
    thread_rows = [{"id": t.id, "name": t.name, "colour": colour[t.id], "papers": len(t.papers),
                    "prior": prior_works(t.papers, every_citation),
                    "derivative": derivative_works(t.papers, every_citation)}
                   for t in threads.threads]
    return nodes, edges, thread_rows, total


def _place(works: pd.DataFrame, lane_of: dict[str, str | None], lanes: list[str | None]) -> dict[str, tuple[int, int]]:
    """Map coordinates: a column per year present, a lane per thread (then the rest), the most cited work of a
    lane and year on top."""
    column_of = {year: n for n, year in enumerate(sorted({int(y) for y in works.year.dropna()}), start=1)}
    rows: Counter = Counter()
    cell: dict[str, tuple[int, int]] = {}
    for work in sorted(lane_of, key=lambda w: (-(_number(works.cited_by_count.get(w)) or 0), w)):
        year = _number(works.year.get(work))
        column = column_of[year] if year is not None else 0
        cell[work] = (column, rows[(lane_of[work], column)])
        rows[(lane_of[work], column)] += 1
    top, lane_top = 0, {}
    for lane in lanes:
        lane_top[lane] = top
        top += max([n for (in_lane, _column), n in rows.items() if in_lane == lane], default=0) * ROW_HEIGHT + LANE_GAP
    return {w: (column * YEAR_WIDTH, lane_top[lane_of[w]] + row * ROW_HEIGHT) for w, (column, row) in cell.items()}


def _ranked(counts: Counter, top: int) -> list[list]:
    return [[w, n] for w, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]]


def prior_works(papers: list[str], citations: pd.DataFrame, top: int = 10) -> list[list]:
    """The works the thread's papers cite most (Connected Papers' "prior works"), with how many cite each."""
    members = set(papers)
    mine = citations[citations.citing_id.isin(members) & ~citations.cited_id.isin(members)]
    return _ranked(Counter(mine.drop_duplicates().cited_id), top)


def derivative_works(papers: list[str], citations: pd.DataFrame, top: int = 10) -> list[list]:
    """The works citing most of the thread's papers (Connected Papers' "derivative works"), with how many each cites."""
    members = set(papers)
    mine = citations[citations.cited_id.isin(members) & ~citations.citing_id.isin(members)]
    return _ranked(Counter(mine.drop_duplicates().citing_id), top)


def coauthor_network(export: Path, limit: int = MAX_AUTHORS) -> tuple[list[dict], list[list], int]:
    """Authors of feed papers coloured by their most frequent institution, linked by the feed papers they share."""
    tables = export / "tables"
    feed = pd.read_parquet(tables / "works.parquet", columns=["id", "is_feed"])
    feed_ids = sorted(feed.id[feed.is_feed])
    if not feed_ids:
        return [], [], 0
    rows = pd.read_parquet(tables / "authorships.parquet", columns=["work_id", "author_id", "institution_ids"],
                           filters=[("work_id", "in", feed_ids)])
    papers = rows.groupby("author_id").work_id.nunique()
    chosen = sorted(papers.index, key=lambda a: (-papers[a], a))[:limit]
    shown = set(chosen)
    names = pd.read_parquet(tables / "authors.parquet", columns=["id", "name"]).set_index("id").name
    institutions = pd.read_parquet(tables / "institutions.parquet", columns=["id", "name"]).set_index("id").name
    home: dict[str, Counter] = defaultdict(Counter)
    for author, ids in zip(rows.author_id, rows.institution_ids):
        for institution in (ids.split(";") if isinstance(ids, str) and ids else ()):
            home[author][institution] += 1
    main = {a: min(c.items(), key=lambda i: (-i[1], i[0]))[0] for a, c in home.items() if c}
    ranked = Counter(main[a] for a in chosen if a in main)
    colour = {i: PALETTE[n % len(PALETTE)] for n, (i, _c) in enumerate(sorted(ranked.items(),
                                                                                key=lambda x: (-x[1], x[0])))}
    nodes = [{"id": a, "name": str(names.get(a) or last_segment(a)), "papers": int(papers[a]),
              "institution": str(institutions.get(main[a]) or last_segment(main[a])) if a in main else None,
              "colour": colour.get(main.get(a, ""), OTHER)} for a in chosen]
    pairs: Counter = Counter()
    for _work, group in rows[rows.author_id.isin(shown)].groupby("work_id"):
        people = sorted(set(group.author_id))
        pairs.update((a, b) for i, a in enumerate(people) for b in people[i + 1:])
    return nodes, sorted([a, b, n] for (a, b), n in pairs.items()), len(papers)


def views(export: Path, max_works: int = MAX_WORKS, max_authors: int = MAX_AUTHORS) -> Views:
    works, citations, threads, total = citation_map(export, max_works)
    authors, coauthors, total_authors = coauthor_network(export, max_authors)
    return Views(works, citations, threads, authors, coauthors, total, total_authors)


def embedded_json(data: object) -> str:
    """JSON safe inside a <script> element: nothing in it can end the element or start markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def vis_network() -> tuple[str, str]:
    """vis-network's JavaScript (which starts with its licence notice) and CSS, as shipped in pyvis."""
    folder = resources.files("pyvis") / "lib" / "vis-9.1.2"
    return (folder / "vis-network.min.js").read_text(encoding="utf-8"), \
        (folder / "vis-network.css").read_text(encoding="utf-8")


def page_script() -> str:
    return (resources.files("kg") / "static" / "explore.js").read_text(encoding="utf-8")
