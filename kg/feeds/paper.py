"""The feed's record of a paper, where it was seen, and what a feed reader is.

Every reader turns one input's text into `FeedPaper`s; the registry in
`kg/feeds/__init__.py` decides which reader an input goes to by asking each,
in order, whether it recognises the text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from kg.text import normalise_title


@dataclass(frozen=True)
class Provenance:
    """Where a paper was seen: input name, 0-based entry index, 1-based line (None in JSON)."""

    source: str
    index: int
    line: int | None


@dataclass
class FeedPaper:
    title: str | None = None
    abstract: str | None = None
    authors: tuple[str, ...] = ()
    author_count: int | None = None
    organization: str | None = None
    published: str | None = None
    upvotes: int | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    openalex_id: str | None = None
    feed_date: str | None = None
    announce_type: str | None = None
    """How an arXiv listing announced it: new, cross, replace, replace-cross."""
    provenance: list[Provenance] = field(default_factory=list)

    @property
    def key(self) -> str:
        """A stable identity for the paper: the strongest identifier it carries."""
        if self.openalex_id:
            return f"openalex:{self.openalex_id}"
        if self.arxiv_id:
            return f"arxiv:{self.arxiv_id.lower()}"
        if self.doi:
            return f"doi:{self.doi.lower()}"
        return f"title:{normalise_title(self.title or '')}"

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["authors"] = list(self.authors)
        data["key"] = self.key
        return data

    @classmethod
    def from_json(cls, data: dict) -> FeedPaper:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["authors"] = tuple(values.get("authors") or ())
        values["provenance"] = [Provenance(**p) for p in values.get("provenance") or []]
        return cls(**values)


@dataclass
class FeedResult:
    """What reading some inputs produced, for the summary line."""

    papers: list[FeedPaper]
    entries_per_input: dict[str, int]
    merged: int
    warnings: list[Notice]


@dataclass(frozen=True)
class Notice:
    """Something a reader could not use, where it stands (feed, line or item) and why; `skipped` when a whole
    entry was left out rather than one of its fields."""

    source: str
    reason: str
    line: int | None = None
    item: int | None = None
    skipped: bool = True

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else \
            f"{self.source}: item {self.item}" if self.item is not None else self.source
        return f"{where}: {self.reason}"

    def to_json(self) -> dict:
        return {"skipped": self.skipped, "feed": self.source, "line": self.line, "item": self.item,
                "reason": self.reason}


def reference_paper(title: str | None, authors: list[str], year: str | int | None, doi: str | None,
                    links: list[str], source: str, index: int, line: int | None) -> FeedPaper:
    """A paper from a reference manager's record: its DOI, its arXiv id (from an arXiv DOI, an eprint or a link),
    title, authors and year, exactly as the other readers would have them."""
    from kg.ids import parse_identifier
    from kg.text import clean_text

    found: dict[str, str] = {}
    for value in [doi or "", *links]:
        if value and (parsed := parse_identifier(value.strip())) and parsed[0] not in found:
            found[parsed[0]] = parsed[1]
    names = tuple(clean_text(a).strip() for a in authors if a and a.strip())
    text = " ".join(clean_text(title).split()) if title else None
    year_text = str(year).strip()[:4] if year else ""
    return FeedPaper(title=text or None, authors=names, author_count=len(names) or None,
                     published=year_text if year_text.isdigit() and len(year_text) == 4 else None,
                     arxiv_id=found.get("arxiv"), doi=found.get("doi"), openalex_id=found.get("openalex"),
                     provenance=[Provenance(source, index, line)])


MAX_COUNT = 10**9
"""Upvotes above this are no count a feed could show (and would overflow the tables' 64-bit integers)."""


def is_count(value: object) -> bool:
    """A count a feed can state: a non-negative integer (never a bool), within reason."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


@dataclass(frozen=True)
class Reader:
    """One feed format: its name, how it recognises its input, and how it reads it.

    `read(text, source, year)` returns the papers and warnings naming `source:line` for entries it skipped;
    `year` is for dates a page shows without one.
    """

    name: str
    recognises: Callable[[str], bool]
    read: Callable[[str, str, int], tuple[list[FeedPaper], list[Notice]]]
