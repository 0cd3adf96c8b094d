"""The domain model: small typed records built from OpenAlex work records.

`from_record` is a pure per-record function (no store, no I/O). It serves where a few works are
needed as objects (the reference-manager files, `export.load` for notebooks); the graph itself is built
by the columnar transform (`kg.columns`, `kg.transform`), which follows the same rules. Fields OpenAlex
did not send (partial `select`-ed records, old schemas) stay None or empty: nothing is invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.ids import bare_doi, full_id, last_segment


@dataclass(frozen=True)
class Institution:
    id: str
    name: str | None = None
    ror: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Author:
    id: str
    name: str | None = None
    orcid: str | None = None


@dataclass(frozen=True)
class Source:
    id: str
    name: str | None = None
    type: str | None = None
    issn_l: str | None = None


@dataclass(frozen=True)
class Topic:
    id: str
    name: str | None = None


@dataclass(frozen=True)
class Authorship:
    author: Author
    position: int
    institutions: tuple[Institution, ...] = ()
    is_corresponding: bool | None = None
    raw_affiliation: str | None = None


@dataclass(frozen=True)
class FeedFacts:
    """What the feed said about a work, and how kg matched it."""

    feeds: tuple[str, ...]
    feed_date: str | None = None
    upvotes: int | None = None
    organization: str | None = None
    arxiv_id: str | None = None
    matched_by: str | None = None
    match_score: float | None = None


@dataclass
class Work:
    id: str
    title: str | None = None
    year: int | None = None
    date: str | None = None
    doi: str | None = None
    type: str | None = None
    abstract: str | None = None
    cited_by_count: int | None = None
    source: Source | None = None
    authorships: list[Authorship] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    primary_topic: Topic | None = None
    references: list[str] = field(default_factory=list)
    feed: FeedFacts | None = None

    def all_topics(self) -> list[Topic]:
        """Its topics and its primary topic (OpenAlex lists it among the topics, but a partial record may not)."""
        return self.topics + ([self.primary_topic] if self.primary_topic else [])


def abstract_text(inverted: dict[str, list[int]] | None) -> str | None:
    """Rebuild an abstract from OpenAlex's inverted index (word -> positions)."""
    if not inverted:
        return None
    positions = {p: word for word, places in inverted.items() for p in places}
    return " ".join(positions[p] for p in sorted(positions)) or None


def _orcid(value: str | None) -> str | None:
    return last_segment(value) if value else None


def _topic(data: dict | None) -> Topic | None:
    if not data or not data.get("id"):
        return None
    return Topic(full_id(data["id"]), data.get("display_name"))


def from_record(record: dict, aliases: dict[str, str] | None = None, feed: FeedFacts | None = None) -> Work:
    """A work record as model objects; `aliases` (merged id → surviving id, any entity type) are applied
    to every id the record names except the work's own."""
    aliases = aliases or {}

    def surviving(entity_id: str) -> str:
        return aliases.get(full_id(entity_id), full_id(entity_id))

    source_data = (record.get("primary_location") or {}).get("source") or {}
    source = Source(surviving(source_data["id"]), source_data.get("display_name"), source_data.get("type"),
                    source_data.get("issn_l")) if source_data.get("id") else None
    authorships = []
    for index, data in enumerate(record.get("authorships") or [], start=1):
        author = data.get("author") or {}
        if not author.get("id"):
            continue
        institutions = tuple(
            Institution(surviving(i["id"]), i.get("display_name"), i.get("ror"), i.get("country_code"))
            for i in data.get("institutions") or [] if i.get("id"))
        raw = data.get("raw_affiliation_strings") or (
            [data["raw_affiliation_string"]] if data.get("raw_affiliation_string") else [])
        authorships.append(Authorship(
            Author(surviving(author["id"]), author.get("display_name"), _orcid(author.get("orcid"))),
            index, institutions, data.get("is_corresponding"), "; ".join(raw) or None))
    references = sorted({surviving(r) for r in record.get("referenced_works") or []})
    return Work(
        id=full_id(record["id"]),
        title=record.get("title") or record.get("display_name"),
        year=record.get("publication_year"),
        date=record.get("publication_date"),
        doi=bare_doi(record.get("doi")),
        type=record.get("type"),
        abstract=abstract_text(record.get("abstract_inverted_index")),
        cited_by_count=record.get("cited_by_count"),
        source=source,
        authorships=authorships,
        topics=[t for t in (_topic(t) for t in record.get("topics") or []) if t],
        primary_topic=_topic(record.get("primary_topic")),
        references=references,
        feed=feed,
    )
