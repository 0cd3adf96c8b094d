"""Hugging Face Daily Papers pages saved as text (copied from a browser).

A page is a few header lines, then entries: a title paragraph, an abstract
paragraph and a metadata paragraph ("• 5 authors", "·", "Jun 10, 2024 2").
"""

from __future__ import annotations

import datetime as dt
import re

from kg.feeds.paper import FeedPaper, Notice, Provenance, Reader, is_count
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


_SPACES = re.compile(r"[^\S\n]+")  # tabs, no-break and every other Unicode space


def _normalise(text: str) -> list[str]:
    """The page's lines as a reader sees them: any line ending, any kind of space, no trailing spaces."""
    return [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _paragraphs(text: str) -> list[tuple[int, list[str]]]:
    """Split text into blank-line separated paragraphs (any number of blank lines) with their first line number."""
    paragraphs: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(_normalise(text), start=1):
        if line:
            if not current:
                start = number
            current.append(line)
        elif current:
            paragraphs.append((start, current))
            current = []
    if current:
        paragraphs.append((start, current))
    return paragraphs


def _metadata(lines: list[str]) -> tuple[str | None, str | None] | None:
    """(who, date text) when a paragraph is an entry's metadata, else None.

    Metadata is recognised by its structure, not its exact characters: a `·` separator (its own line, or
    between the parts on one line) and/or a date last; before them an author count or an organisation,
    with or without the `•` bullet.
    """
    parts = [p.strip() for line in lines for p in re.split(r"\s+·\s+|^·$", line) if p.strip() and p.strip() != "·"]
    separated = any(line == "·" or " · " in line for line in lines)
    bulleted = bool(parts) and parts[0].startswith("•")
    dated = bool(parts) and _MONTH_DAY.match(parts[-1]) is not None
    if not parts or len(parts) > 2 or not (separated or bulleted or (dated and len(parts) == 2)):
        return None
    if len(parts) == 1 and not bulleted and not separated:
        return None
    who = parts[0].lstrip("•").strip() if not (len(parts) == 1 and dated and not bulleted) else None
    date = parts[-1] if len(parts) == 2 or (dated and not bulleted) else None
    return who or None, date


def recognises(text: str) -> bool:
    """A saved Daily Papers page: its header, or (header lost) entries with metadata paragraphs."""
    head = [line.lower() for line in _normalise(text)[:30] if line]
    if "byak and the research community" in head or "get trending papers in your email inbox!" in head:
        return True
    paragraphs = [lines for _, lines in _paragraphs(text)[:40]]
    with_metadata = sum(1 for lines in paragraphs if _metadata(lines))
    titled_abstracts = sum(1 for before, after in zip(paragraphs, paragraphs[1:])
                           if len(before) == 1 and len(before[0]) <= 300 and _looks_like_abstract(after))
    return with_metadata >= 2 or titled_abstracts >= 3


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


def _is_header(lines: list[str], year: int) -> bool:
    return len(lines) == 1 and (lines[0].lower() in PAGE_HEADER_LINES
                                or ((parsed := _month_day(lines[0], year)) is not None and parsed[1] is None))


def read_page(text: str, source: str, year: int) -> tuple[list[FeedPaper], list[Notice]]:
    """Read a saved Daily Papers page: header lines (any order, any missing), then entries of a title, an
    abstract (may be missing) and metadata (may be missing)."""
    paragraphs = _paragraphs(text)
    warnings: list[Notice] = []
    feed_date = None
    position = 0
    while position < len(paragraphs) and _is_header(paragraphs[position][1], year):
        parsed = _month_day(paragraphs[position][1][0], year)
        feed_date = parsed[0] if parsed else feed_date
        position += 1

    papers: list[FeedPaper] = []
    while position < len(paragraphs):
        line_no, lines = paragraphs[position]
        position += 1
        if _metadata(lines):
            warnings.append(Notice(source, "metadata without a title before it; skipped", line=line_no))
            continue
        title = clean_text(" ".join(lines))
        paper = FeedPaper(title=title, feed_date=feed_date)
        following = [p for _, p in paragraphs[position:position + 2]]
        has_abstract = bool(following) and not _metadata(following[0]) and (
            (len(following) > 1 and _metadata(following[1]) is not None) or _looks_like_abstract(following[0]))
        if has_abstract:
            paper.abstract = clean_text(" ".join(paragraphs[position][1]))
            position += 1
        if position < len(paragraphs) and (meta := _metadata(paragraphs[position][1])):
            meta_line = paragraphs[position][0]
            position += 1
            if problem := _apply_metadata(paper, meta, year):
                warnings.append(Notice(source, f"{problem}; entry '{title[:60]}' kept without it", line=meta_line,
                                       skipped=False))
        if len(title) > 500:
            warnings.append(Notice(source, f"a {len(title)}-character paragraph where a title was expected; skipped",
                                   line=line_no))
            continue
        paper.provenance.append(Provenance(source, len(papers), line_no))
        papers.append(paper)
    return papers, warnings


def _apply_metadata(paper: FeedPaper, meta: tuple[str | None, str | None], year: int) -> str | None:
    """Fill the author count or organisation, date and upvotes; return a problem or None."""
    who, date = meta
    if who and (match := _AUTHOR_COUNT.match(who)):
        paper.author_count = int(match.group("n"))
    elif who:
        paper.organization = clean_text(who)
    if date:
        parsed = _month_day(date, year)
        if parsed is None:
            return f"unreadable date {date!r}"
        paper.published, paper.upvotes = parsed
    return None


def _looks_like_abstract(lines: list[str]) -> bool:
    text = " ".join(lines)
    return len(text) > 200 or (len(text) > 80 and ". " in text)


READER = Reader("daily-papers-page", recognises, read_page)
