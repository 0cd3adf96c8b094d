"""Hugging Face Daily Papers pages saved as text (copied from a browser).

A page is a few header lines, then entries: a title paragraph, an abstract
paragraph and a metadata paragraph ("• 5 authors", "·", "Jun 10, 2024 2").
"""

from __future__ import annotations

import datetime as dt
import re

from kg.feeds.paper import FeedPaper, Provenance, Reader, is_count
from kg.text import clean_text

PAGE_HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
}
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_MONTH_DAY = re.compile(r"^(?P<mon>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?(?:\s+(?P<upvotes>\d+))?$")
_AUTHOR_COUNT = re.compile(r"^(?P<n>\d+)\s+authors?$")


def _paragraphs(text: str) -> list[tuple[int, list[str]]]:
    """Split text into blank-line separated paragraphs with their first line number."""
    paragraphs: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            paragraphs.append((start, current))
            current = []
    if current:
        paragraphs.append((start, current))
    return paragraphs


def recognises(text: str) -> bool:
    head = [line.strip().lower() for line in text.splitlines()[:20] if line.strip()]
    return "byak and the research community" in head or "get trending papers in your email inbox!" in head


def _is_metadata(lines: list[str]) -> bool:
    return lines[0].strip().startswith("•") or any(line.strip() == "·" for line in lines)


def _month_day(text: str, year: int) -> tuple[str, int | None] | None:
    """Parse 'Jun 10, 2024 2' or 'Mar 16' into (ISO date, upvotes)."""
    match = _MONTH_DAY.match(text.strip())
    if not match or match.group("mon").lower() not in MONTHS:
        return None
    try:
        date = dt.date(int(match.group("year") or year), MONTHS[match.group("mon").lower()], int(match.group("day")))
    except ValueError:
        return None
    upvotes = int(match.group("upvotes")) if match.group("upvotes") and len(match.group("upvotes")) < 12 else None
    return date.isoformat(), upvotes if is_count(upvotes) else None


def _looks_like_abstract(lines: list[str]) -> bool:
    text = " ".join(line.strip() for line in lines)
    return len(text) > 200 or (len(text) > 80 and ". " in text)


def read_page(text: str, source: str, year: int) -> tuple[list[FeedPaper], list[str]]:
    """Read a saved Daily Papers page: header lines, then title/abstract/metadata entries."""
    paragraphs = _paragraphs(text)
    warnings: list[str] = []
    feed_date = None
    position = 0
    while position < len(paragraphs):
        line_no, lines = paragraphs[position]
        first = lines[0].strip()
        if len(lines) == 1 and first.lower() in PAGE_HEADER_LINES:
            position += 1
            continue
        if len(lines) == 1 and (parsed := _month_day(first, year)) and parsed[1] is None:
            feed_date = parsed[0]
            position += 1
        break

    papers: list[FeedPaper] = []
    while position < len(paragraphs):
        line_no, lines = paragraphs[position]
        position += 1
        if _is_metadata(lines):
            warnings.append(f"{source}:{line_no}: metadata without a title before it; skipped")
            continue
        title = clean_text(" ".join(line.strip() for line in lines))
        paper = FeedPaper(title=title, feed_date=feed_date)
        if position < len(paragraphs) and not _is_metadata(paragraphs[position][1]) \
                and _looks_like_abstract(paragraphs[position][1]):
            paper.abstract = clean_text(" ".join(line.strip() for line in paragraphs[position][1]))
            position += 1
        if position < len(paragraphs) and _is_metadata(paragraphs[position][1]):
            meta_line, meta = paragraphs[position]
            position += 1
            problem = _apply_metadata(paper, meta, year)
            if problem:
                warnings.append(f"{source}:{meta_line}: {problem}; entry '{title[:60]}' skipped")
                continue
        if len(title) > 500:
            warnings.append(f"{source}:{line_no}: a {len(title)}-character paragraph where a title was expected; skipped")
            continue
        paper.provenance.append(Provenance(source, len(papers), line_no))
        papers.append(paper)
    return papers, warnings


def _apply_metadata(paper: FeedPaper, lines: list[str], year: int) -> str | None:
    """Fill authors/organisation, date and upvotes; return a problem or None."""
    parts = [line.strip() for line in lines if line.strip() and line.strip() != "·"]
    if not parts or not parts[0].startswith("•"):
        return "metadata does not start with '•'"
    who = parts[0].lstrip("•").strip()
    if match := _AUTHOR_COUNT.match(who):
        paper.author_count = int(match.group("n"))
    elif who:
        paper.organization = who
    if len(parts) > 1:
        parsed = _month_day(parts[1], year)
        if parsed is None:
            return f"unreadable date {parts[1]!r}"
        paper.published, paper.upvotes = parsed
    return None


READER = Reader("daily-papers-page", recognises, read_page)
