"""Read research feeds into one normalised record per paper.

Each feed format is one module with a `READER` (`kg.feeds.paper.Reader`): how
it recognises its input and how it reads it. `READERS` lists them in the order
they are asked; the last, a plain list of ids or titles, takes anything. Adding
a format is one new module plus one line in `READERS`.

Papers seen in several inputs are merged so that later stages resolve each
paper once while every place it was seen stays on record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import requests

from kg.errors import FeedError
from kg.feeds import arxiv_feed, bibtex, csl_json, daily_page, hf_json, id_list, ris
from kg.feeds.hf_json import read_hf_json
from kg.feeds.paper import FeedPaper, FeedResult, Notice, Provenance, Reader
from kg.text import normalise_title

READERS: tuple[Reader, ...] = (
    arxiv_feed.READER,
    csl_json.READER,  # before Hugging Face JSON: both are JSON, CSL items say their `type`
    hf_json.READER,
    ris.READER,
    bibtex.READER,
    daily_page.READER,
    id_list.READER,  # the fallback: keep it last
)

__all__ = ["READERS", "FeedError", "FeedPaper", "FeedResult", "Notice", "Provenance", "Reader", "merge_papers",
           "read_inputs", "read_text"]


def _decode(raw: bytes, source: str) -> str:
    if not raw.strip():
        raise FeedError(f"{source}: the file is empty; give a saved Daily Papers page, a papers JSON file or a list of ids")
    if b"\x00" in raw[:8192]:
        raise FeedError(f"{source}: this is a binary file, not a feed; give a text page, JSON or a list")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FeedError(f"{source}: not UTF-8 text (byte {error.start}); save the feed as UTF-8") from None


def read_text(text: str, source: str, year: int) -> tuple[list[FeedPaper], list[Notice]]:
    """Give one input's text to the first reader that recognises it."""
    reader = next(r for r in READERS if r.recognises(text))
    if reader is id_list.READER and text.lstrip()[:1] == "<":
        raise FeedError(f"{source}: looks like HTML/XML that is no arXiv listing; save the page as text or use the "
                        "JSON API (--hf-date)")
    papers, warnings = reader.read(text, source, year)
    if not papers and reader is id_list.READER:
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


def _read_file(path: Path) -> bytes:
    """A feed file's bytes; anything that is not a readable regular file is refused up front (a FIFO or a
    device would block or never end)."""
    if not path.exists():
        raise FeedError(f"{path}: no such file")
    if path.is_dir():
        raise FeedError(f"{path}: is a directory; give the feed files inside it")
    if not path.is_file():
        raise FeedError(f"{path}: not a regular file (a pipe or a device); save the feed to a file first")
    try:
        return path.read_bytes()
    except OSError as error:
        raise FeedError(f"{path}: cannot be read ({error.strerror or error}); check its permissions") from None


def read_inputs(inputs: list[str], year: int | None = None, documents: Mapping[str, object] | None = None) -> FeedResult:
    """Read files or URLs, and `documents` already fetched (name → Hugging Face JSON), then merge papers
    seen more than once."""
    year = year or dt.date.today().year
    papers: list[FeedPaper] = []
    counts: dict[str, int] = {}
    warnings: list[Notice] = []
    for source, data in (documents or {}).items():
        found, problems = read_hf_json(data, source, allow_empty=True)
        counts[source] = len(found)
        papers.extend(found)
        warnings.extend(problems)
    for name in inputs:
        if re.match(r"^https?://", name):
            raw, source = fetch(name), name
        else:
            raw, source = _read_file(Path(name)), Path(name).name
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
