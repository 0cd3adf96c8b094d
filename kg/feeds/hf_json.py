"""Hugging Face papers JSON: a `/api/daily_papers` array or one `/api/papers/{id}` object, saved or live."""

from __future__ import annotations

import datetime as dt
import json

from kg.errors import FeedError
from kg.feeds.paper import FeedPaper, Notice, Provenance, Reader, is_count
from kg.ids import arxiv_id
from kg.text import clean_text


def _hf_item(item: dict) -> tuple[FeedPaper, list[str]]:
    """A paper from one item, and the fields that had the wrong type (dropped, never stored)."""
    nested = item.get("paper")
    paper: dict = nested if isinstance(nested, dict) else item
    problems: list[str] = []

    def text(name: str, *sources: dict) -> str | None:
        for source in sources:
            value = source.get(name)
            if isinstance(value, str):
                return clean_text(value)
            if value is not None:
                problems.append(f"'{name}' is a {type(value).__name__}, not text")
        return None

    listed = paper.get("authors") or []
    names = [a.get("name") for a in listed if isinstance(a, dict)] if isinstance(listed, list) else []
    authors = tuple(clean_text(n) for n in names if isinstance(n, str) and n.strip())
    organization = item.get("organization") or paper.get("organization")
    if isinstance(organization, dict):
        organization = organization.get("fullname") or organization.get("name")
    upvotes = paper.get("upvotes")
    if upvotes is not None and not is_count(upvotes):
        problems.append(f"'upvotes' is {upvotes!r}, not a count")
        upvotes = None
    published = text("publishedAt", paper, item)
    return FeedPaper(
        title=" ".join((text("title", paper, item) or "").split()) or None,
        abstract=(text("summary", paper, item) or "").strip() or None,
        authors=authors,
        author_count=len(authors) or None,
        organization=clean_text(organization) if isinstance(organization, str) and organization.strip() else None,
        published=_day(published),
        upvotes=upvotes,
        arxiv_id=arxiv_id(paper.get("id")),
        feed_date=_day(paper.get("submittedOnDailyAt")) or _day(item.get("publishedAt")),
    ), problems


def _day(value: object) -> str | None:
    """The YYYY-MM-DD part of an ISO timestamp, when it is one."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    return None


def read_hf_json(data: object, source: str, allow_empty: bool = False) -> tuple[list[FeedPaper], list[Notice]]:
    """Read a daily_papers array or a single /api/papers/{id} object (a day with no papers is fine live)."""
    items = data if isinstance(data, list) else [data]
    if allow_empty and not items:
        return [], [Notice(source, "no papers listed that day", skipped=False)]
    if not items or not all(isinstance(i, dict) and ("paper" in i or "title" in i) for i in items):
        raise FeedError(f"{source}: JSON is not a Hugging Face papers response "
                        "(expected a list of items with 'paper' or 'title')")
    papers: list[FeedPaper] = []
    warnings: list[Notice] = []
    for index, item in enumerate(items):
        paper, problems = _hf_item(item)
        warnings.extend(Notice(source, f"{problem}; ignored", item=index, skipped=False) for problem in problems)
        if not paper.title and not paper.arxiv_id:
            warnings.append(Notice(source, "neither title nor arXiv id; skipped", item=index))
            continue
        paper.provenance.append(Provenance(source, len(papers), None))
        papers.append(paper)
    return papers, warnings


def recognises(text: str) -> bool:
    return text.lstrip()[:1] in ("[", "{")


def read_text(text: str, source: str, year: int) -> tuple[list[FeedPaper], list[Notice]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FeedError(f"{source}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise FeedError(f"{source}: JSON nested too deeply to be a papers response") from None
    except ValueError as error:  # e.g. a number with thousands of digits
        raise FeedError(f"{source}: unreadable JSON ({str(error).split(';')[0]}); is this a Hugging Face papers "
                        "response?") from None
    return read_hf_json(data, source)


READER = Reader("hugging-face-json", recognises, read_text)
