"""The export tables' schemas (works, authors, institutions, sources, topics, authorships, citations; the
feed's entries; the threads), and the rows of the feed and thread tables.

The work tables' rows are made by `kg.transform` (SQL). Each table has
a fixed pyarrow schema, so a column that is empty in one batch has the same
type as in the next, and files written in batches are identical to files
written at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from kg.coverage import Coverage
from kg.feeds import FeedPaper
from kg.follow import filter_of, provenance_source
from kg.resolve import Resolution
from kg.store import FeedEntry, Store
from kg.threads import Threads

SCHEMAS = {
    "works": pa.schema([("id", pa.string()), ("title", pa.string()), ("abstract", pa.string()),
                        ("year", pa.int64()), ("date", pa.string()),
                        ("doi", pa.string()), ("type", pa.string()), ("cited_by_count", pa.int64()),
                        ("source_id", pa.string()), ("primary_topic_id", pa.string()), ("is_feed", pa.bool_()),
                        ("feeds", pa.string()), ("upvotes", pa.int64()), ("arxiv_id", pa.string()),
                        ("matched_by", pa.string()), ("match_score", pa.float64()),
                        ("reference_count", pa.int64())]),
    "authors": pa.schema([("id", pa.string()), ("name", pa.string()), ("orcid", pa.string())]),
    "institutions": pa.schema([("id", pa.string()), ("name", pa.string()), ("ror", pa.string()),
                               ("country", pa.string())]),
    "sources": pa.schema([("id", pa.string()), ("name", pa.string()), ("type", pa.string()),
                          ("issn_l", pa.string())]),
    "topics": pa.schema([("id", pa.string()), ("name", pa.string())]),
    "authorships": pa.schema([("work_id", pa.string()), ("author_id", pa.string()), ("position", pa.int64()),
                              ("institution_ids", pa.string()), ("is_corresponding", pa.bool_()),
                              ("raw_affiliation", pa.string())]),
    "citations": pa.schema([("citing_id", pa.string()), ("cited_id", pa.string())]),
}
TABLES = list(SCHEMAS)


FEED_SCHEMAS = {
    "feed_entries": pa.schema([("feed", pa.string()), ("index", pa.int64()), ("title", pa.string()),
                               ("arxiv_id", pa.string()), ("doi", pa.string()), ("work_id", pa.string()),
                               ("method", pa.string()), ("score", pa.float64()), ("status", pa.string()),
                               ("reason", pa.string()), ("evidence", pa.string()), ("first_seen", pa.string()),
                               ("references", pa.int64()), ("has_abstract", pa.bool_()), ("authors", pa.int64()),
                               ("authors_with_orcid", pa.int64()), ("institutions", pa.int64()),
                               ("missing", pa.string())]),
    "follows": pa.schema([("kind", pa.string()), ("followed", pa.string()), ("label", pa.string()),
                          ("since", pa.string()), ("checked", pa.string()), ("provenance", pa.string()),
                          ("brought", pa.int64())]),
}
"""Every feed entry: how it was resolved, matched or not (the audit trail `kg matches` shows), when its paper
was first seen, and how complete OpenAlex's record of it is (`kg.coverage`)."""


def feed_entry_rows(entries: list[FeedEntry], papers: dict[str, FeedPaper], resolutions: dict[str, Resolution],
                    coverage: dict[str, tuple[str, Coverage | None]] | None = None,
                    sightings: dict[str, list[str]] | None = None) -> Iterator[tuple[str, dict]]:
    """Rows of `feed_entries` from the store's entries, papers, resolutions, coverage and sightings."""
    for entry in entries:
        paper, resolution = papers[entry.key], resolutions.get(entry.key)
        _status, covered = (coverage or {}).get(entry.key, ("pending", None))
        yield "feed_entries", {
            "feed": entry.feed, "index": entry.index, "title": paper.title, "arxiv_id": paper.arxiv_id, "doi": paper.doi,
            "work_id": resolution.work_id if resolution else None,
            "method": resolution.method if resolution else None,
            "score": resolution.score if resolution else None,
            "status": resolution.status if resolution else "pending",
            "reason": resolution.reason if resolution else "not resolved yet",
            "evidence": resolution.evidence if resolution else None,
            "first_seen": next(iter((sightings or {}).get(entry.key, [])), None),
            "references": covered.references if covered else None,
            "has_abstract": covered.abstract if covered else None,
            "authors": covered.authors if covered else None,
            "authors_with_orcid": covered.authors_with_orcid if covered else None,
            "institutions": covered.institutions if covered else None,
            "missing": ("; ".join(covered.flags()) or None) if covered else None}



def audit_rows(store: Store) -> list[dict]:
    """What `kg matches` shows: the `feed_entries` rows, each with the optional services that were failing when
    its paper was resolved (so a later run's retry can be seen)."""
    papers = {p.key: p for p in store.feed_papers()}
    entries, resolutions = store.feed_entries(), store.resolutions()
    rows = [row for _table, row in feed_entry_rows(entries, papers, resolutions, store.feed_coverage(),
                                                   store.sightings())]
    for entry, row in zip(entries, rows):
        row["resolved_without"] = resolutions[entry.key].resolved_without if entry.key in resolutions else []
    return rows

def follow_rows(store: Store) -> list[dict]:
    """One row per followed item: what it is, its window, its last check, and how many works it brought (the
    feed entries whose provenance it is)."""
    work_of = {k: r.work_id for k, r in store.resolutions().items() if r.work_id}
    entries = store.entries_per_feed()
    rows = []
    for item in store.follows():
        asked = filter_of(item, work_of)
        source = provenance_source(*asked) if asked else None
        rows.append({"kind": item.kind, "followed": item.value, "label": item.label, "since": item.since,
                     "checked": item.checked, "provenance": source, "brought": entries.get(source or "", 0)})
    return rows


THREAD_SCHEMAS = {
    "threads": pa.schema([("thread_id", pa.string()), ("rank", pa.int64()), ("name", pa.string()),
                          ("papers", pa.int64()), ("strength", pa.float64()), ("topics", pa.string()),
                          ("backbone", pa.string())]),
    "thread_members": pa.schema([("thread_id", pa.string()), ("work_id", pa.string()), ("role", pa.string())]),
}


def thread_rows(threads: Threads) -> dict[str, list[dict]]:
    """The `threads` and `thread_members` tables."""
    summary: list[dict] = []
    members: list[dict[str, str | None]] = []
    for rank, thread in enumerate(threads.threads, start=1):
        summary.append({"thread_id": thread.id, "rank": rank, "name": thread.name, "papers": len(thread.papers),
                        "strength": thread.strength,
                        "topics": ";".join(t for t, _ in thread.topics[:3]) or None,
                        "backbone": ";".join(thread.backbone) or None})
        roles = [("paper", p) for p in thread.papers] + [("foundation", r) for r, _ in thread.foundations] \
            + [("backbone", w) for w in thread.backbone]
        members += [{"thread_id": thread.id, "work_id": work, "role": role} for role, work in roles]
    members += [{"thread_id": None, "work_id": work, "role": "unconnected"} for work in threads.unconnected]
    return {"threads": summary, "thread_members": members}
