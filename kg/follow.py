"""Following the literature: the papers, authors, topics and saved queries a project watches.

Every run asks OpenAlex, for each followed item, which works were published since its last check that
cite the followed paper, list the followed author, carry the followed topic or match the saved query. The
items of one kind go together, 100 to an OR filter, so a follow list of 100 papers, 20 authors and 5 topics
costs three list calls a day (a saved query is a search: 10 credits a day each).

The window is the publication date (`from_publication_date`), not `from_created_date`: the live service
refuses created- and updated-date filters to keyless and free-key users (429 "Plan upgrade required",
openalex-api-proxy src/index.ts, checkProtectedParams). A work can reach OpenAlex some days after its
publication date, so each check looks INDEXING_LAG_DAYS further back than the previous one and kg keeps only
the works it does not have yet.

A work found this way enters the project as a feed paper whose provenance says why ("cites W…", "by A…",
"topic T…", "query …"), so it goes through the same build, threads, diff and digest as a paper of a feed;
a work found several ways, or also listed by a feed, keeps every provenance.

This module is pure: parsing what the user follows, the filters to ask, and which item brought a record.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kg.errors import KgError
from kg.ids import ids_under, parse_identifier, short_id
from kg.text import normalise_title

KINDS = ("paper", "author", "topic", "query")
INDEXING_LAG_DAYS = 30
"""How far before its last check a followed item's next check starts (see the module docstring)."""
SOURCE_PREFIX = "follow:"
"""Provenance sources of works found by following start with this, then the filter and its value."""

_AUTHOR = re.compile(r"^(?:https?://(?:api\.)?openalex\.org/(?:authors/)?)?(?P<id>A\d+)$", re.I)
_TOPIC = re.compile(r"^(?:https?://(?:api\.)?openalex\.org/(?:topics/)?)?(?P<id>T\d+)$", re.I)
_ORCID = re.compile(r"^(?:https?://orcid\.org/)?(?P<id>\d{4}-\d{4}-\d{4}-\d{3}[\dX])$", re.I)
FILTERS = {"paper": "cites", "author": "authorships.author.id", "orcid": "authorships.author.orcid",
           "topic": "topics.id", "query": "title_and_abstract.search"}
"""The OpenAlex works filter each kind of item is asked with (an author given by ORCID: its own filter)."""


@dataclass(frozen=True)
class Followed:
    """One followed item: its kind, its value (a feed-paper key, A…, an ORCID, T…, or query text) and the
    day (YYYY-MM-DD) from which works are new to it."""

    kind: str
    value: str
    since: str
    checked: str | None = None
    """The day of its last finished check (None: never checked)."""

    @property
    def label(self) -> str:
        return f"“{self.value}”" if self.kind == "query" else self.value.removeprefix("openalex:")

    def window_start(self) -> str:
        """The first publication day the next check asks for."""
        return self.since if self.checked is None else max(self.since, lagged(self.checked))


def lagged(day: str) -> str:
    """The first publication day a check following one on `day` asks for (see INDEXING_LAG_DAYS)."""
    return (dt.date.fromisoformat(day) - dt.timedelta(days=INDEXING_LAG_DAYS)).isoformat()


def parse_followed(text: str, kind: str | None = None) -> tuple[str, str]:
    """(kind, value) of what the user asked to follow; `kind` forces one (needed for a query).

    Papers are any id kg reads (arXiv id or URL, DOI, OpenAlex W id) and are kept as the feed key of that id;
    authors an OpenAlex A id or an ORCID; topics a T id."""
    text = text.strip()
    if kind == "query":
        words = " ".join(normalise_title(text).split())
        if not words:
            raise KgError(f"follow --query {text!r}: the query has no words to search for")
        return "query", words
    if kind in (None, "author") and (match := _AUTHOR.match(text) or _ORCID.match(text)):
        return "author", match.group("id").upper()
    if kind in (None, "topic") and (match := _TOPIC.match(text)):
        return "topic", match.group("id").upper()
    if kind in (None, "paper") and (parsed := parse_identifier(text)):
        id_kind, value = parsed
        return "paper", f"{id_kind}:{value.lower() if id_kind != 'openalex' else value}"
    expected = {"paper": "an arXiv id, a DOI or an OpenAlex W id", "author": "an OpenAlex A id or an ORCID",
                "topic": "an OpenAlex T id"}.get(kind or "", "a paper (arXiv id, DOI, W id), an author (A id, ORCID) "
                                                        "or a topic (T id); a title/abstract query goes with --query")
    raise KgError(f"cannot follow {text!r}: expected {expected}")


@dataclass(frozen=True)
class FollowQuery:
    """One question to OpenAlex: works published from `since` matching any `values` of the `filter`."""

    filter: str
    values: list[str]
    since: str
    items: list[Followed]


def filter_of(item: Followed, work_of: dict[str, str]) -> tuple[str, str] | None:
    """The filter and value that ask for this item's new works; None for a paper not resolved to a work yet."""
    if item.kind == "paper":
        return (FILTERS["paper"], short_id(work_of[item.value])) if item.value in work_of else None
    if item.kind == "author":
        return FILTERS["orcid" if _ORCID.match(item.value) else "author"], item.value
    return FILTERS[item.kind], item.value


def queries(items: list[Followed], work_of: dict[str, str]) -> tuple[list[FollowQuery], list[Followed]]:
    """The questions that check these items, and the followed papers not resolved to a work yet (they are
    checked once a run has matched them). Items go together when they share a filter and a window start;
    a search takes one text, so each query is a question of its own."""
    groups: dict[tuple[str, str, str], list[tuple[str, Followed]]] = {}
    unresolved = []
    for item in items:
        if (asked := filter_of(item, work_of)) is None:
            unresolved.append(item)
            continue
        key, value = asked
        groups.setdefault((key, item.window_start(), value if item.kind == "query" else ""), []).append((value, item))
    found = [FollowQuery(key, sorted({v for v, _ in members}), since, [i for _, i in members])
             for (key, since, _text), members in sorted(groups.items())]
    return found, unresolved


def provenance_source(filter_key: str, value: str) -> str:
    """The provenance source of a work one value of a filter brought, e.g. `follow:cites:W123`."""
    tag = {"cites": "cites", "authorships.author.id": "author", "authorships.author.orcid": "author",
           "topics.id": "topic", "title_and_abstract.search": "query"}[filter_key]
    return f"{SOURCE_PREFIX}{tag}:{value}"


def brought_by(record: dict, query: FollowQuery) -> list[str]:
    """The values of the question this record answers to: what it cites, who wrote it, its topics; for a
    query, the query. An empty list when the record does not show it (authorships cut at 100)."""
    if query.filter == FILTERS["query"]:
        return list(query.values)
    have = ids_under(record, query.filter)
    return [v for v in query.values if v in have]


def describe_source(source: str, names: dict[str, str] | None = None) -> str:
    """A provenance source in words: `follow:cites:W1` → 'cites W1 (“Its title”)'; other sources as they are."""
    if not source.startswith(SOURCE_PREFIX):
        return source
    kind, _, value = source[len(SOURCE_PREFIX):].partition(":")
    name = (names or {}).get(f"https://openalex.org/{value}") if kind != "query" else None
    named = f"{value} (“{name}”)" if name else value
    return {"cites": f"cites {named}", "author": f"by {named}", "topic": f"in topic {named}",
            "query": f"matches the query “{value}”"}.get(kind, source)


def named_ids(sources: list[str]) -> set[str]:
    """The OpenAlex ids (works, authors, topics) that provenance sources of following name."""
    values = [s[len(SOURCE_PREFIX):].partition(":") for s in sources if s.startswith(SOURCE_PREFIX)]
    return {f"https://openalex.org/{value}" for kind, _, value in values if kind != "query" and value[:1] in "WAT"}
