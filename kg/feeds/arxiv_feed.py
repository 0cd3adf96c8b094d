"""arXiv listings: the daily RSS of a category (`https://rss.arxiv.org/rss/cs.LG`) and the arXiv API's Atom
answers (`export.arxiv.org/api/query`), saved or by URL, read with feedparser.

The RSS names each paper's announce type (new, cross, replace, replace-cross) in `arxiv:announce_type` and
again at the start of its description ("arXiv:2406.06484v2 Announce Type: new Abstract: …"), its authors as
one comma-separated `dc:creator`; the API gives one `author` per person and `arxiv:doi` when there is one.
"""

from __future__ import annotations

import re
import time

import feedparser

from kg.feeds.paper import FeedPaper, Notice, Provenance, Reader
from kg.ids import arxiv_id, parse_identifier
from kg.text import clean_text

_ANNOUNCE = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?", re.I)


def recognises(text: str) -> bool:
    head = text.lstrip()[:4000].lower()
    return head.startswith("<") and ("<rss" in head or "<feed" in head) and "arxiv" in head


def _arxiv_of(entry: dict) -> str | None:
    for value in (entry.get("link"), entry.get("id")):
        if isinstance(value, str):
            value = value.replace("oai:arXiv.org:", "").strip()
            if found := arxiv_id(value) or ((parsed := parse_identifier(value)) and parsed[0] == "arxiv"
                                            and parsed[1]):
                return found
    return None


def read_arxiv_feed(text: str, source: str, _year: int) -> tuple[list[FeedPaper], list[Notice]]:
    parsed = feedparser.parse(text)
    papers: list[FeedPaper] = []
    notices: list[Notice] = []
    if parsed.bozo and not parsed.entries:
        return [], [Notice(source, f"unreadable feed ({parsed.bozo_exception}); nothing read")]
    for index, entry in enumerate(parsed.entries):
        identifier = _arxiv_of(entry)
        if identifier is None:
            notices.append(Notice(source, "entry without an arXiv id; skipped", item=index))
            continue
        summary = clean_text(entry.get("summary") or "")
        announced = _ANNOUNCE.match(summary)
        names = [a.get("name", "") for a in entry.get("authors") or []]
        if len(names) == 1 and "," in names[0]:  # the RSS: one dc:creator "A, B, C"
            names = names[0].split(",")
        published = entry.get("published_parsed")
        doi = entry.get("arxiv_doi")
        papers.append(FeedPaper(
            title=" ".join(clean_text(entry.get("title") or "").split()) or None,
            abstract=" ".join(summary[announced.end():].split() if announced else summary.split()) or None,
            authors=tuple(n.strip() for n in names if n.strip()),
            author_count=sum(1 for n in names if n.strip()) or None,
            published=time.strftime("%Y-%m-%d", published) if published else None,
            arxiv_id=identifier,
            doi=doi.lower() if isinstance(doi, str) and doi else None,
            announce_type=entry.get("arxiv_announce_type") or (announced.group("type") if announced else None),
            provenance=[Provenance(source, len(papers), None)]))
    return papers, notices


READER = Reader("arxiv-listing", recognises, read_arxiv_feed)
