"""Threads and the export: their input read from the export tables, their names, and threads.json read back."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from kg.errors import KgError
from kg.threads import ThreadInput, Threads
from kg.writers.staging import settled


def _split(value) -> list[str]:
    return value.split(";") if isinstance(value, str) and value else []


def read_thread_input(tables: Path) -> tuple[ThreadInput, dict[str, str]]:
    """The threads' input from the export tables, reading only the citations around the feed."""
    works = pd.read_parquet(tables / "works.parquet", columns=["id", "year", "is_feed", "primary_topic_id"])
    feed = sorted(works.loc[works.is_feed, "id"])
    texts = pd.read_parquet(tables / "works.parquet", columns=["id", "title", "abstract"],
                            filters=[("id", "in", feed)]) if feed else pd.DataFrame(columns=["id", "title", "abstract"])
    feed_set = set(feed)
    around = pq.read_table(tables / "citations.parquet",
                           filters=[[("citing_id", "in", feed)], [("cited_id", "in", feed)]]).to_pandas() \
        if feed else pd.DataFrame(columns=["citing_id", "cited_id"])
    references, citers = defaultdict(set), defaultdict(set)
    for citing, cited in zip(around.citing_id, around.cited_id):
        if citing in feed_set:
            references[citing].add(cited)
        if cited in feed_set:
            citers[cited].add(citing)
    cited_by_feed = sorted(set().union(*references.values())) if references else []
    links = pq.read_table(tables / "citations.parquet",
                          filters=[("citing_id", "in", cited_by_feed), ("cited_id", "in", cited_by_feed)]).to_pandas() \
        if cited_by_feed else pd.DataFrame(columns=["citing_id", "cited_id"])
    authorships = pd.read_parquet(tables / "authorships.parquet", columns=["work_id", "author_id", "institution_ids"],
                                  filters=[("work_id", "in", feed)]) if feed else pd.DataFrame(
        columns=["work_id", "author_id", "institution_ids"])
    authors, institutions = defaultdict(list), defaultdict(list)
    for work, author, ids in zip(authorships.work_id, authorships.author_id, authorships.institution_ids):
        authors[work].append(author)
        institutions[work].extend(_split(ids))
    topics = pd.read_parquet(tables / "topics.parquet")
    return ThreadInput(
        feed=feed, references=dict(references), citers=dict(citers), authors=dict(authors),
        institutions=dict(institutions),
        primary_topic={w: t for w, t in zip(works.id, works.primary_topic_id) if w in feed_set and t},
        year={w: int(y) for w, y in zip(works.id, works.year) if pd.notna(y)},
        reference_links=list(zip(links.citing_id, links.cited_id)),
        texts={w: " ".join(t for t in (title, abstract) if isinstance(t, str))
               for w, title, abstract in zip(texts.id, texts.title, texts.abstract)},
    ), {t: n for t, n in zip(topics.id, topics.name) if n}


def names_of(ids: set[str], tables: Path) -> dict[str, str]:
    """Display names of these ids, from the export tables: work titles, author, institution and topic names."""
    names: dict[str, str] = {}
    if not ids:
        return names
    for table, column in (("works", "title"), ("authors", "name"), ("institutions", "name"), ("topics", "name")):
        frame = pd.read_parquet(tables / f"{table}.parquet", columns=["id", column], filters=[("id", "in", sorted(ids))])
        names.update({i: n for i, n in zip(frame.id, frame[column]) if n})
    return dict(sorted(names.items()))


def with_names(threads: Threads, tables: Path) -> Threads:
    """The threads with display names of every id they mention (work titles, author, institution, topic names)."""
    ids = threads.mentioned()
    return dataclasses.replace(threads, names=names_of(ids, tables)) if ids else threads


def load_threads(export: Path) -> Threads:
    """The threads `kg build` wrote to EXPORT/threads.json."""
    path = settled(export) / "threads.json"
    if not path.exists():
        raise KgError(f"no threads in {export}/ (threads.json missing): run `kg build --out {export}` first")
    return Threads.from_json(json.loads(path.read_text(encoding="utf-8")))
