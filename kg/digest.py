"""`digest.atom`: one Atom entry per run, so that any feed reader follows what kg found.

Written with feedgen from the history in `changes.json`; every date in it is a
run's time from the store, so the same store and history give the same file.
"""

from __future__ import annotations

import uuid
from html import escape
from pathlib import Path

from feedgen.feed import FeedGenerator

from kg import __version__
from kg.changes import History, RunChanges
from kg.coverage import describe as describe_coverage
from kg.ids import last_segment
from kg.writers.files import write_atomically


def headline(run: RunChanges) -> str:
    """The one-line summary of a run, as `kg diff` and the digest give it."""
    grew = sum(1 for t in run.threads if t.change == "grew")
    born = sum(1 for t in run.threads if t.change in ("new", "split"))
    changed = sum(1 for r in run.refreshed if r["added"])
    return (f"run {run.run} ({run.at[:16].replace('T', ' ')} UTC): {len(run.new_papers)} new feed papers, "
            f"{born} new threads, {grew} threads grew, {changed} works filled in by OpenAlex")


def _paper_html(paper) -> str:
    title = escape(paper.title or paper.key)
    link = f'<a href="{escape(paper.work_id)}">{title}</a>' if paper.work_id else title
    if paper.thread:
        where = f" → {escape(paper.thread)} {escape(paper.thread_name or '')}"
    elif paper.work_id:
        where = " → not connected to a thread yet"
    else:
        where = f" ({escape(paper.status.replace('_', ' '))})"
    evidence = "".join(f"<li>{escape(e)}</li>" for e in paper.evidence)
    found = f" (found by following: {escape('; '.join(paper.found_by))})" if paper.found_by else ""
    return f"<li>{link}{found}{where}" + (f"<ul>{evidence}</ul>" if evidence else "") + "</li>"


def entry_html(run: RunChanges) -> str:
    parts = [f"<p>{escape(headline(run))}. Feeds: {escape(', '.join(run.feeds) or 'none')}.</p>"]
    if run.new_papers:
        parts.append("<h3>New feed papers</h3><ul>" + "".join(map(_paper_html, run.new_papers)) + "</ul>")
    if run.threads:
        parts.append("<h3>Threads</h3><ul>" + "".join(
            f"<li>{escape(t.thread)} {escape(t.name)}: {escape(t.change)}"
            + (f" (+{t.added}, now {t.papers} papers)" if t.change != "ended" else "")
            + (f"; {'into' if t.change == 'ended' else 'from'} {escape(', '.join(t.related))}" if t.related else "")
            + "</li>" for t in run.threads) + "</ul>")
    if run.refreshed:
        parts.append("<h3>Fetched again</h3><ul>" + "".join(
            f"<li>{escape(r['title'] or last_segment(r['work_id']))}: "
            f"{escape(', '.join(r['added']) or 'nothing new yet')}</li>" for r in run.refreshed) + "</ul>")
    parts.append(f"<p>{escape(describe_coverage(run.coverage))}</p>")
    return "".join(parts)


def digest_atom(history: History, project: str) -> bytes:
    """The Atom document; `project` names the project (its first run's time) for stable feed and entry ids."""
    base = uuid.uuid5(uuid.NAMESPACE_URL, f"kg-digest:{project}")
    feed = FeedGenerator()
    feed.id(base.urn)
    feed.title("kg: what each run found")
    feed.author({"name": "kg"})
    feed.link(href="report.html", rel="alternate")
    feed.generator("kg", __version__)
    feed.updated(history.latest.at if history.latest else project)
    for run in history.runs:  # feedgen puts each new entry first: newest first
        entry = feed.add_entry()
        entry.id(uuid.uuid5(base, f"run-{run.run}").urn)
        entry.title(headline(run))
        entry.updated(run.at)
        entry.content(entry_html(run), type="html")
    return feed.atom_str(pretty=True)


def write_digest(history: History, project: str, path: Path) -> Path:
    return write_atomically(path, digest_atom(history, project))
