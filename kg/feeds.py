"""Read research feeds into one normalised record per paper.

Three input shapes reach kg: Hugging Face Daily Papers pages saved as text,
the Hugging Face papers JSON API (saved or live), and plain lists of arXiv
ids, DOIs, OpenAlex ids or titles. Each becomes a list of `FeedPaper`; papers
seen in several inputs are merged so that later stages resolve each paper once
while every place it was seen stays on record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kg.errors import FeedError
from kg.ids import arxiv_id, parse_identifier
from kg.text import normalise_title

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
    warnings: list[str]


# -- Hugging Face Daily Papers pages saved as text ---------------------------

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


def looks_like_page(text: str) -> bool:
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
    upvotes = match.group("upvotes")
    return date.isoformat(), int(upvotes) if upvotes else None


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
        paper = FeedPaper(title=" ".join(line.strip() for line in lines), feed_date=feed_date)
        if position < len(paragraphs) and not _is_metadata(paragraphs[position][1]) \
                and _looks_like_abstract(paragraphs[position][1]):
            paper.abstract = " ".join(line.strip() for line in paragraphs[position][1])
            position += 1
        if position < len(paragraphs) and _is_metadata(paragraphs[position][1]):
            meta_line, meta = paragraphs[position]
            position += 1
            problem = _apply_metadata(paper, meta, year)
            if problem:
                warnings.append(f"{source}:{meta_line}: {problem}; entry '{paper.title[:60]}' skipped")
                continue
        if len(paper.title) > 500:
            warnings.append(f"{source}:{line_no}: a {len(paper.title)}-character paragraph where a title was expected; skipped")
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


# -- Hugging Face papers JSON -------------------------------------------------

def _hf_item(item: dict) -> FeedPaper:
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
    authors = tuple(a["name"] for a in paper.get("authors") or [] if isinstance(a, dict) and a.get("name"))
    organization = item.get("organization") or paper.get("organization")
    if isinstance(organization, dict):
        organization = organization.get("fullname") or organization.get("name")
    published = paper.get("publishedAt") or item.get("publishedAt")
    upvotes = paper.get("upvotes")
    arxiv = paper.get("id")
    return FeedPaper(
        title=" ".join((paper.get("title") or item.get("title") or "").split()) or None,
        abstract=(paper.get("summary") or item.get("summary") or "").strip() or None,
        authors=authors,
        author_count=len(authors) or None,
        organization=organization or None,
        published=published[:10] if isinstance(published, str) else None,
        upvotes=upvotes if isinstance(upvotes, int) else None,
        arxiv_id=arxiv_id(arxiv),
        feed_date=_day(paper.get("submittedOnDailyAt")) or _day(item.get("publishedAt")),
    )


def _day(value: object) -> str | None:
    """The YYYY-MM-DD part of an ISO timestamp, when it is one."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    return None


def read_hf_json(data: object, source: str, allow_empty: bool = False) -> tuple[list[FeedPaper], list[str]]:
    """Read a daily_papers array or a single /api/papers/{id} object (a day with no papers is fine live)."""
    items = data if isinstance(data, list) else [data]
    if allow_empty and not items:
        return [], [f"{source}: no papers listed that day"]
    if not items or not all(isinstance(i, dict) for i in items) or not any("paper" in i or "title" in i for i in items):
        raise FeedError(f"{source}: JSON is not a Hugging Face papers response (expected a list of items with 'paper' or 'title')")
    papers, warnings = [], []
    for index, item in enumerate(items):
        paper = _hf_item(item)
        if not paper.title and not paper.arxiv_id:
            warnings.append(f"{source}: item {index} has neither title nor arXiv id; skipped")
            continue
        paper.provenance.append(Provenance(source, len(papers), None))
        papers.append(paper)
    return papers, warnings


# -- plain lists -------------------------------------------------------------

def read_list(text: str, source: str) -> tuple[list[FeedPaper], list[str]]:
    papers, warnings = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"(?:^|\s)#(?:\s|$)", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        kind = parse_identifier(line)
        if kind is None and len(line) > 500:
            warnings.append(f"{source}:{number}: a {len(line)}-character line is neither an id nor a title; skipped")
            continue
        paper = FeedPaper()
        if kind is None:
            paper.title = line
        else:
            setattr(paper, {"arxiv": "arxiv_id", "doi": "doi", "openalex": "openalex_id"}[kind[0]], kind[1])
        paper.provenance.append(Provenance(source, len(papers), number))
        papers.append(paper)
    return papers, warnings


# -- inputs ------------------------------------------------------------------

def _decode(raw: bytes, source: str) -> str:
    if not raw.strip():
        raise FeedError(f"{source}: the file is empty; give a saved Daily Papers page, a papers JSON file or a list of ids")
    if b"\x00" in raw[:8192]:
        raise FeedError(f"{source}: this is a binary file, not a feed; give a text page, JSON or a list")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FeedError(f"{source}: not UTF-8 text (byte {error.start}); save the feed as UTF-8") from None


def read_text(text: str, source: str, year: int) -> tuple[list[FeedPaper], list[str]]:
    """Detect the format of one input's text and read it."""
    stripped = text.lstrip()
    if stripped[:1] in "[{":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise FeedError(f"{source}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
        return read_hf_json(data, source)
    if stripped[:1] == "<":
        raise FeedError(f"{source}: looks like HTML/XML, which kg does not read; save the page as text or use the JSON API (--hf-date)")
    if looks_like_page(text):
        return read_page(text, source, year)
    papers, warnings = read_list(text, source)
    if not papers:
        raise FeedError(f"{source}: unknown format: no Daily Papers header, no JSON, no ids or titles found")
    return papers, warnings


def fetch(url: str, session: requests.Session | None = None, timeout: float = 30) -> bytes:
    """GET a feed URL; network failures become a FeedError naming the URL."""
    session = session or requests.Session()
    try:
        response = session.get(url, timeout=timeout, headers={"Accept": "application/json, text/plain"})
    except requests.RequestException as error:
        raise FeedError(f"{url}: could not fetch ({type(error).__name__}); check the address and your connection") from None
    if response.status_code != 200:
        raise FeedError(f"{url}: HTTP {response.status_code}; check the address or date")
    return response.content


def read_inputs(inputs: list[str], year: int | None = None, documents: dict[str, object] | None = None) -> FeedResult:
    """Read files or URLs, and `documents` already fetched (name → Hugging Face JSON), then merge papers
    seen more than once."""
    year = year or dt.date.today().year
    papers: list[FeedPaper] = []
    counts: dict[str, int] = {}
    warnings: list[str] = []
    for source, data in (documents or {}).items():
        found, problems = read_hf_json(data, source, allow_empty=True)
        counts[source] = len(found)
        papers.extend(found)
        warnings.extend(problems)
    for name in inputs:
        if re.match(r"^https?://", name):
            raw, source = fetch(name), name
        else:
            path = Path(name)
            if not path.exists():
                raise FeedError(f"{name}: no such file")
            if path.is_dir():
                raise FeedError(f"{name}: is a directory; give the feed files inside it")
            raw, source = path.read_bytes(), path.name
        found, problems = read_text(_decode(raw, source), source, year)
        counts[source] = len(found)
        papers.extend(found)
        warnings.extend(problems)
    merged = merge_papers(papers)
    return FeedResult(merged, counts, len(papers) - len(merged), warnings)


def _merge_keys(paper: FeedPaper) -> list[str]:
    keys = []
    if paper.openalex_id:
        keys.append(f"openalex:{paper.openalex_id}")
    if paper.arxiv_id:
        keys.append(f"arxiv:{paper.arxiv_id.lower()}")
    if paper.doi:
        keys.append(f"doi:{paper.doi.lower()}")
    if paper.title:
        keys.append(f"title:{normalise_title(paper.title)}")
    return keys


def merge_papers(papers: list[FeedPaper]) -> list[FeedPaper]:
    """Merge papers that share an arXiv id, DOI, OpenAlex id or normalised title.

    The first sighting wins for each field; later ones fill gaps, and every
    provenance is kept so an analyst can see all the places a paper appeared.
    """
    merged: list[FeedPaper] = []
    owner: dict[str, FeedPaper] = {}
    for paper in papers:
        keys = _merge_keys(paper)
        target = next((owner[k] for k in keys if k in owner), None)
        if target is None:
            target = dataclasses.replace(paper, provenance=list(paper.provenance))
            merged.append(target)
        else:
            for f in dataclasses.fields(FeedPaper):
                if f.name != "provenance" and not getattr(target, f.name) and getattr(paper, f.name):
                    setattr(target, f.name, getattr(paper, f.name))
            target.provenance.extend(paper.provenance)
        for key in _merge_keys(target):
            owner.setdefault(key, target)
    return merged
