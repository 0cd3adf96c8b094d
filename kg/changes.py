"""What the latest run changed: new feed papers and the thread each joined, thread births, growth, merges
and splits, works OpenAlex filled in since, and coverage (written to `changes.json`, shown by `kg diff`,
first in the report, and one Atom entry per run in `digest.atom`).

The previous state is the previous export: its `threads.json` (ids carry over from it) and its
`changes.json`. A rebuild of the same run compares against the same earlier state again, so it gives the
same files; the history holds one entry per built run, newest last.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import networkx as nx

from kg.coverage import Coverage, summarise
from kg.feeds import FeedPaper
from kg.follow import SOURCE_PREFIX, describe_source
from kg.ids import last_segment
from kg.resolve import Resolution
from kg.store import Refresh, Run
from kg.threads import Previous, ThreadInput, Threads
from kg.writers.staging import settled


def shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width].rstrip() + "…"


EVIDENCE_LINKS = 3
"""How many of its strongest links to its thread a new paper's evidence names."""


@dataclass(frozen=True)
class NewPaper:
    """A feed paper first seen in this run, and where it attached."""

    key: str
    title: str | None
    work_id: str | None
    status: str
    thread: str | None
    thread_name: str | None
    evidence: list[str]
    found_by: list[str] = field(default_factory=list)
    """Why following brought it, in words ("cites W1 (“Title”)", "by A2 (“Name”)"); empty for a feed's paper."""


@dataclass(frozen=True)
class ThreadChange:
    thread: str
    name: str
    change: str
    """new | split | merged | grew | ended"""
    papers: int
    added: int
    related: list[str] = field(default_factory=list)
    """Threads it came from (split, merged) or went into (ended)."""


@dataclass(frozen=True)
class RunChanges:
    run: int
    at: str
    feeds: list[str]
    new_papers: list[NewPaper]
    threads: list[ThreadChange]
    refreshed: list[dict]
    """{"work_id", "title", "added": [what the refetch added]} per work fetched again."""
    coverage: dict[str, int]

    @classmethod
    def from_json(cls, data: dict) -> RunChanges:
        return cls(**{**data, "new_papers": [NewPaper(**p) for p in data["new_papers"]],
                      "threads": [ThreadChange(**t) for t in data["threads"]]})


@dataclass(frozen=True)
class History:
    """`changes.json`: one entry per built run, newest last, and the state the newest one is compared with."""

    runs: list[RunChanges]
    before: Previous | None
    before_run: int

    def to_json(self) -> dict:
        return {"runs": [asdict(r) for r in self.runs], "before_run": self.before_run,
                "before": asdict(self.before) if self.before else None}

    @classmethod
    def from_json(cls, data: dict) -> History:
        before = data.get("before")
        return cls([RunChanges.from_json(r) for r in data["runs"]], Previous(**before) if before else None,
                   data.get("before_run") or 0)

    @property
    def latest(self) -> RunChanges | None:
        return self.runs[-1] if self.runs else None


def read_history(export: Path) -> History | None:
    path = settled(export) / "changes.json"
    return History.from_json(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None


def baseline(previous_threads: Threads | None, history: History | None, latest_run: int
             ) -> tuple[Previous | None, int, list[RunChanges]]:
    """What the latest run is compared with: (the earlier threads, the run they reflect, the earlier entries).

    When the previous export already describes the latest run, this is a rebuild: compare with what that
    export compared with, and replace its entry. A history ahead of the store's runs came from another store:
    it starts afresh (thread ids still carry over from the previous threads).
    """
    if history and history.latest and history.latest.run > latest_run:
        history = None
    if history and history.latest and history.latest.run == latest_run:
        return history.before, history.before_run, history.runs[:-1]
    before_run = history.latest.run if history and history.latest else 0
    return (previous_threads.previous() if previous_threads else None), before_run, (history.runs if history else [])


def _evidence(paper: str, thread: list[str], data: ThreadInput, links: dict[tuple[str, str], dict],
              titles: dict[str, str]) -> list[str]:
    """Why a paper is in its thread: its strongest links to the other papers, each in plain words."""
    def words(other: str, signals: dict) -> str:
        name = f"“{shorten(titles.get(other) or last_segment(other))}”"
        refs, other_refs = data.references.get(paper, set()), data.references.get(other, set())
        relation = f"cites {name}" if other in refs else f"cited by {name}" if paper in other_refs else name
        details = []
        if shared := len(refs & other_refs):
            details.append(f"{shared} shared references")
        if cociting := len(data.citers.get(paper, set()) & data.citers.get(other, set())):
            details.append(f"{cociting} works citing both")
        if coauthors := len(set(data.authors.get(paper, ())) & set(data.authors.get(other, ()))):
            details.append(f"{coauthors} shared authors")
        if signals.get("text"):
            details.append(f"text similarity {signals['text']:.2f}")
        return relation + (": " + ", ".join(details) if details else "")

    mine = [(signals["weight"], other, signals) for (a, b), signals in links.items() for other in (a, b)
            if paper in (a, b) and other != paper and other in thread]
    return [words(other, signals) for _w, other, signals in sorted(mine, key=lambda x: (-x[0], x[1]))[:EVIDENCE_LINKS]]


def thread_changes(threads: Threads, before: Previous | None) -> list[ThreadChange]:
    """How each thread differs from the earlier state; ended threads last."""
    old = before.threads if before else {}
    events = threads.lineage[len(before.lineage) if before else 0:]
    by_thread = {e["thread"]: e for e in events}
    changes = []
    for thread in threads.threads:
        event = by_thread.get(thread.id)
        added = len(set(thread.papers) - set(old.get(thread.id, ())))
        if event and event["event"] in ("new", "split", "merged"):
            changes.append(ThreadChange(thread.id, thread.name, event["event"], len(thread.papers), added,
                                        event.get("from", [])))
        elif added:
            changes.append(ThreadChange(thread.id, thread.name, "grew", len(thread.papers), added))
    changes += [ThreadChange(e["thread"], e["thread"], "ended", 0, 0, e.get("into", []))
                for e in events if e["event"] == "ended"]
    return changes


def run_changes(runs: list[Run], since: int, threads: Threads, before: Previous | None, data: ThreadInput,
                graph: nx.Graph, papers: dict[str, FeedPaper], resolutions: dict[str, Resolution],
                refreshes: list[Refresh], coverage: dict[str, tuple[str, Coverage | None]],
                titles: dict[str, str]) -> RunChanges | None:
    """The changes of the runs after `since` up to the latest, as one entry; None when the store has no runs.

    `graph` is the similarity graph the threads were found in: the evidence for a new paper is its links there.
    `titles` names the ids the changes mention (works, and the authors and topics followed).
    """
    if not runs:
        return None
    covered = [r for r in runs if r.id > since] or runs[-1:]
    links = {(a, b): d for a, b, d in graph.edges(data=True)}
    new_papers = []
    for key in sorted({k for r in covered for k in r.new_keys}):
        paper, resolution = papers.get(key), resolutions.get(key)
        work = resolution.work_id if resolution else None
        thread = threads.thread_of(work) if work else None
        new_papers.append(NewPaper(
            key=key, title=(paper.title if paper else None) or (titles.get(work) if work else None), work_id=work,
            status=resolution.status if resolution else "pending", thread=thread.id if thread else None,
            thread_name=thread.name if thread else None,
            evidence=_evidence(work, thread.papers, data, links, titles) if work and thread else [],
            found_by=[describe_source(p.source, titles) for p in (paper.provenance if paper else [])
                      if p.source.startswith(SOURCE_PREFIX)]))
    refreshed = [{"work_id": r.work_id, "title": titles.get(r.work_id), "added": r.added}
                 for r in refreshes if r.run in {c.id for c in covered}]
    return RunChanges(run=covered[-1].id, at=covered[-1].at, feeds=sorted({f for r in covered for f in r.feeds}),
                      new_papers=new_papers, threads=thread_changes(threads, before), refreshed=refreshed,
                      coverage=summarise(coverage.values()))
