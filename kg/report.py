"""One self-contained HTML page about the feed's graph: `report.html` in the export folder.

It opens with the interactive citation map (works on a timeline, one lane per
thread; `kg.explore` computes it, vis-network draws it), then what the latest
run changed, then each thread with its prior and derivative works and its
Graphviz figure (the print view), the matches, the top people and the
interactive co-author network.

It loads nothing from the network: vis-network, styles and data are inline
and the SVG figures are embedded. Every piece of text that came from a feed
or from OpenAlex is HTML-escaped (or, in the map's data, JSON-escaped so that
it cannot leave its script element), so a title like `<script>…` shows as text.
Only the export folder is read (manifest, threads.json, changes.json, tables,
figures).
"""

from __future__ import annotations

import re
from collections import Counter
from html import escape
from pathlib import Path

import pandas as pd

from kg.changes import RunChanges, read_history
from kg.coverage import describe as describe_coverage
from kg.digest import headline
from kg.errors import ReportError
from kg.explore import Views, embedded_json, page_script, views, vis_network
from kg.export import Manifest
from kg.ids import last_segment
from kg.thread_io import load_threads
from kg.writers.files import write_atomically

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #1d1d1f; line-height: 1.4; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.summary { display: flex; flex-wrap: wrap; gap: .6rem; margin: 1rem 0; }
.summary div { background: #f2f5f9; border-radius: 6px; padding: .5rem .9rem; }
.summary b { display: block; font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #fafafa; }
figure { margin: 1rem 0; overflow-x: auto; border: 1px solid #eee; border-radius: 6px; padding: .5rem; }
figure svg { max-width: 100%; height: auto; }
.muted { color: #666; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.kg-controls { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; margin: .5rem 0; }
.kg-controls input[type=number] { width: 5.5rem; } .kg-controls input[type=search] { width: 18rem; }
.kg-controls select { max-width: 24rem; }
.kg-explorer { display: flex; gap: .8rem; }
#kg-map, #kg-coauthor-map { flex: 1; height: 640px; border: 1px solid #ddd; border-radius: 6px; background: #fff; }
#kg-panel { width: 320px; border: 1px solid #ddd; border-radius: 6px; padding: .6rem .9rem; overflow-y: auto;
            max-height: 640px; } #kg-panel h3 { margin-top: 0; font-size: 1.05rem; }
.kg-links a { margin-right: .6rem; } .kg-tip { max-width: 420px; white-space: pre-wrap; font-size: .85rem; }
@media print { #kg-map-section, #kg-coauthors { display: none; } }
"""


def _svg(path: Path, prefix: str) -> str:
    """An SVG file ready to embed: no XML prolog or doctype, ids made unique within the page."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r'\bid="([^"]*)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(r'xlink:href="thread-(T\d+)\.svg"', r'xlink:href="#thread-\1"', text)
    return text.strip()


def _table(headers: list[str], rows: list[list[str]], numeric: frozenset[int] | set[int] = frozenset()) -> str:
    """A table whose cells are already-escaped HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _link(work_id: str, text: str | None) -> str:
    label = escape(text) if text else escape(last_segment(work_id))
    return f'<a href="{escape(work_id)}">{label}</a>'


def _value(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else escape(str(value))


def build_report(export: Path) -> str:
    manifest = Manifest.read(export)
    figures = export / "figures"
    if not (figures / "threads.svg").exists():
        raise ReportError(f"no SVG figures in {figures}/: run `kg render --out {export}` first")
    threads = load_threads(export)
    names = threads.names
    tables = export / "tables"
    works = pd.read_parquet(tables / "works.parquet").set_index("id")
    entries = pd.read_parquet(tables / "feed_entries.parquet")
    entries = entries.astype(object).where(entries.notna(), None)  # a missing value is None, never a NaN
    title = lambda w: works.title.get(w) if w in works.index else names.get(w)  # noqa: E731

    counts = manifest.counts
    summary = [("feed entries", len(entries)), ("feed papers matched", counts["feed_works"]),
               ("works", counts["hydrated_works"]), ("authors", counts.get("nodes_author", 0)),
               ("institutions", counts.get("nodes_institution", 0)), ("citations", counts.get("edges_cites", 0)),
               ("threads", len(threads.threads)), ("triples", counts["triples"])]
    parts = [f"<h1>Research threads of the feed</h1><p class=\"muted\">kg {escape(manifest.kg_version)} · "
             f"{escape(', '.join(sorted({str(f) for f in entries.feed})))}</p>",
             '<div class="summary">' + "".join(f"<div><b>{n:,}</b>{escape(label)}</div>" for label, n in summary)
             + "</div>"]
    explorer = views(export)
    parts.append(_map_section(explorer))
    history = read_history(export)
    if history and history.latest:
        parts.append(_changes(history.latest, title))
    if (tables / "follows.parquet").exists():
        parts.append(_followed(pd.read_parquet(tables / "follows.parquet"), entries, title))
    parts += ["<h2>Overview</h2>", f'<figure>{_svg(figures / "threads.svg", "overview")}</figure>']

    for thread in threads.threads:
        parts.append(f'<h2 id="thread-{escape(thread.id)}">{escape(thread.id)}: {escape(thread.name)}</h2>')
        parts.append(f"<p>{len(thread.papers)} papers · strength {thread.strength:g} · topics: "
                     + escape(", ".join(names.get(t, t) for t, _ in thread.topics[:3]) or "none") + "</p>")
        figure = figures / f"thread-{thread.id}.svg"
        if figure.exists():
            parts.append(f"<figure>{_svg(figure, thread.id)}</figure>")
        rows = []
        for work in thread.papers:
            row = works.loc[work] if work in works.index else None
            rows.append([_value(row.year) if row is not None else "", _link(work, title(work)),
                         _value(row.arxiv_id) if row is not None else "",
                         _value(row.matched_by) if row is not None else "",
                         _value(row.match_score) if row is not None else ""])
        parts.append(_table(["year", "paper", "arXiv", "matched by", "score"], rows, {0, 4}))
        parts.append(_prior_and_derivative(explorer, thread.id, title))
        if thread.foundations:
            parts.append("<h3>Foundations (references shared by its papers)</h3>" + _table(
                ["reference", "cited by papers of the thread"],
                [[_link(r, title(r)), str(n)] for r, n in thread.foundations], {1}))
        if thread.backbone:
            parts.append("<h3>Backbone (main citation path)</h3><ol>"
                         + "".join(f"<li>{_link(w, title(w))}</li>" for w in thread.backbone) + "</ol>")
        if thread.authors:
            parts.append("<p><b>Authors:</b> " + escape(", ".join(f"{names.get(a, a)} ({n})" for a, n in thread.authors))
                         + "<br><b>Institutions:</b> "
                         + escape(", ".join(f"{names.get(i, i)} ({n})" for i, n in thread.institutions) or "none")
                         + "</p>")

    if threads.unconnected:
        parts.append("<h2>Unconnected feed papers</h2><p>Linked to no other feed paper strongly enough.</p><ul>"
                     + "".join(f"<li>{_link(w, title(w))}</li>" for w in threads.unconnected) + "</ul>")

    parts.append("<h2>Feed papers and how they were matched</h2>")
    rows = [[_value(e.feed), str(e.index), _link(e.work_id, title(e.work_id) or e.title) if e.work_id
             else _value(e.title or e.arxiv_id or e.doi), _value(e.method), _value(e.score),
             _value((e.status or "").replace("_", " ")), _value(e.evidence)]
            for e in entries.itertuples()]
    parts.append(_table(["feed", "#", "paper", "matched by", "score", "status", "evidence"], rows, {1, 4}))
    unmatched = entries[entries.work_id.isna()]
    parts.append("<h2>Unmatched feed entries</h2>" + (_table(
        ["feed", "#", "entry", "reason"],
        [[_value(e.feed), str(e.index), _value(e.title or e.arxiv_id or e.doi), _value(e.reason)]
         for e in unmatched.itertuples()], {1}) if len(unmatched) else "<p>None: every entry was matched.</p>"))

    parts.append(_top_people(tables, works))
    parts.append(_coauthor_section(explorer))
    script, library_style = vis_network()
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>kg report</title><style>{library_style}</style><style>{STYLE}</style></head><body>\n"
            + "\n".join(parts)
            + f'\n<script type="application/json" id="kg-data">{embedded_json(explorer.to_json())}</script>'
            + f"\n<script>{script}</script>\n<script>{page_script()}</script>\n</body></html>\n")


def _map_section(explorer: Views) -> str:
    shown = len(explorer.works)
    left_out = "" if shown == explorer.total_works else (
        f" It shows {shown:,} of the {explorer.total_works:,} works: the feed papers first, then the works most "
        f"connected to them; {explorer.total_works - shown:,} less connected works are left out (all are in the "
        "export files).")
    return ('<section id="kg-map-section"><h2>Citation map</h2>'
            f'<p class="muted">{shown:,} works by publication year, one lane per thread (their colours); size by '
            "citations, feed papers by upvotes; feed papers outlined, the latest run's new papers as glowing stars. Hover "
            "a work for its title; click it for its details and links: its references turn orange, the works "
            f"citing it green. Scroll to zoom, drag to pan.{escape(left_out)}</p>"
            '<div class="kg-controls"><input id="kg-search" type="search" placeholder="Search titles and authors" '
            'aria-label="Search titles and authors"><span id="kg-matches" class="muted"></span>'
            '<select id="kg-thread" aria-label="Thread"><option value="">All threads</option></select>'
            '<label>years <input id="kg-from" type="number" aria-label="From year"> – '
            '<input id="kg-to" type="number" aria-label="To year"></label></div>'
            '<div class="kg-explorer"><div id="kg-map"></div><aside id="kg-panel" hidden></aside></div></section>')


def _work_link(work_id: str, text, on_map: set[str]) -> str:
    """A link to the work on OpenAlex, which opens it on the map instead when the map holds it."""
    label = text if isinstance(text, str) and text else last_segment(work_id)
    if work_id not in on_map:
        return _link(work_id, label)
    return f'<a href="{escape(work_id)}" data-work="{escape(work_id)}">{escape(label)}</a>'


def _prior_and_derivative(explorer: Views, thread_id: str, title) -> str:
    thread = next((t for t in explorer.threads if t["id"] == thread_id), None)
    if thread is None:
        return ""
    parts = []
    on_map = {w["id"] for w in explorer.works}
    if thread["prior"]:
        parts.append("<h3>Prior works (the works its papers cite most)</h3>" + _table(
            ["work", "cited by papers of the thread"],
            [[_work_link(w, title(w), on_map), str(n)] for w, n in thread["prior"]], {1}))
    if thread["derivative"]:
        parts.append("<h3>Derivative works (the works citing most of its papers)</h3>" + _table(
            ["work", "papers of the thread it cites"],
            [[_work_link(w, title(w), on_map), str(n)] for w, n in thread["derivative"]], {1}))
    return "".join(parts)


def _coauthor_section(explorer: Views) -> str:
    if not explorer.authors:
        return ""
    cut = "" if len(explorer.authors) == explorer.total_authors else (
        f"; the {len(explorer.authors):,} with the most feed papers of {explorer.total_authors:,}")
    return (f'<h2>Co-authors</h2><details id="kg-coauthors"><summary>The co-author network: authors of feed papers '
            f"coloured by institution, linked by the feed papers they share ({len(explorer.authors):,} authors"
            f"{escape(cut)}). Open to draw it.</summary><div id=\"kg-coauthor-map\"></div></details>")


def _changes(run: RunChanges, title) -> str:
    """The section a returning reader looks at first: what this run added and where it attached."""
    parts = [f'<h2 id="changes">What changed</h2><p>{escape(headline(run))}.</p>']
    if run.new_papers:
        rows = []
        for paper in run.new_papers:
            name = _link(paper.work_id, paper.title or title(paper.work_id)) if paper.work_id \
                else _value(paper.title or paper.key)
            if paper.thread:
                where = f'<a href="#thread-{escape(paper.thread)}">{escape(paper.thread)}</a> ' \
                        f"{escape(paper.thread_name or '')}"
            else:
                where = "not connected yet" if paper.work_id else escape(paper.status.replace("_", " "))
            evidence = "<br>".join(escape(e) for e in paper.evidence)
            rows.append([name, "<br>".join(escape(f) for f in paper.found_by) or "a feed", where, evidence])
        parts.append("<h3>New feed papers</h3>" + _table(["paper", "brought by", "thread", "evidence"], rows))
    if run.threads:
        parts.append("<h3>Threads</h3>" + _table(
            ["thread", "change", "papers", "added", "from / into"],
            [[escape(f"{t.thread} {t.name}" if t.name != t.thread else t.thread), escape(t.change), str(t.papers),
              str(t.added), escape(", ".join(t.related))] for t in run.threads], {2, 3}))
    if run.refreshed:
        parts.append("<h3>Fetched again from OpenAlex</h3>" + _table(
            ["work", "what OpenAlex added"],
            [[_link(r["work_id"], r["title"]), escape(", ".join(r["added"]) or "nothing new yet")]
             for r in run.refreshed]))
    parts.append(f"<p><b>Coverage:</b> {escape(describe_coverage(run.coverage))}.</p>")
    return "".join(parts)


def _followed(follows: pd.DataFrame, entries: pd.DataFrame, title) -> str:
    """The followed items, each with the works it brought, filterable by kind and text (the page's script)."""
    if not len(follows):
        return ""
    brought: dict[str, list[str]] = {}
    for entry in entries.itertuples():
        if entry.work_id:
            brought.setdefault(str(entry.feed), []).append(_link(entry.work_id, title(entry.work_id) or entry.title))
    rows = "".join(
        f'<tr data-kind="{escape(f.kind)}"><td>{escape(f.kind)}</td><td>{escape(f.label)}</td>'
        f"<td>{escape(f.since)}</td><td>{escape(f.checked or 'not yet')}</td><td class=\"num\">{f.brought}</td>"
        f"<td>{'<br>'.join(brought.get(f.provenance or '', [])) or '—'}</td></tr>"
        for f in follows.astype(object).where(follows.notna(), None).itertuples())
    kinds = "".join(f'<option value="{escape(k)}">{escape(k)}</option>' for k in sorted(set(follows.kind)))
    return ('<h2 id="followed">Followed</h2><p>What the project follows and the works each brought '
            "(<code>kg follow list</code>).</p>"
            '<div class="kg-controls"><label>kind <select id="kg-follow-kind"><option value="">all</option>'
            f'{kinds}</select></label><label>find <input type="search" id="kg-follow-find" '
            'placeholder="id, name or title"></label></div>'
            '<table id="kg-follows"><tr><th>kind</th><th>followed</th><th>since</th><th>last checked</th>'
            f'<th class="num">works brought</th><th>works</th></tr>{rows}</table>')


def _top_people(tables: Path, works: pd.DataFrame) -> str:
    feed = sorted(works.index[works.is_feed])
    authorships = pd.read_parquet(tables / "authorships.parquet", filters=[("work_id", "in", feed)]) if feed else None
    if authorships is None or not len(authorships):
        return ""
    authors = pd.read_parquet(tables / "authors.parquet").set_index("id").name
    institutions = pd.read_parquet(tables / "institutions.parquet").set_index("id")
    by_author = Counter(dict(authorships.groupby("author_id").work_id.nunique()))
    institution_works: set[tuple[str, str]] = set()
    for work, ids in zip(authorships.work_id, authorships.institution_ids):
        institution_works |= {(institution, work) for institution in (ids.split(";") if isinstance(ids, str) else ())}
    papers = Counter(i for i, _ in institution_works)
    top_authors = sorted(by_author.items(), key=lambda x: (-x[1], x[0]))[:15]
    top_institutions = sorted(papers.items(), key=lambda x: (-x[1], x[0]))[:15]
    return ("<h2>Top authors and institutions of the feed</h2>"
            + _table(["author", "feed papers"], [[f'<a href="{escape(a)}">{_value(authors.get(a))}</a>', str(n)]
                                                   for a, n in top_authors], {1})
            + _table(["institution", "country", "feed papers"],
                     [[f'<a href="{escape(i)}">{_value(institutions.name.get(i))}</a>',
                       _value(institutions.country.get(i)), str(n)] for i, n in top_institutions], {2}))


def write_report(export: Path) -> Path:
    return write_atomically(export / "report.html", build_report(export))
