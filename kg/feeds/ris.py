"""RIS (`.ris`), the tagged format every reference manager exports, read with rispy."""

from __future__ import annotations

import re

import rispy

from kg.feeds.paper import FeedPaper, Notice, Reader, reference_paper


def recognises(text: str) -> bool:
    """A `TY  - ` tag among the first lines (some exporters put a BOM, blank lines or a record number first)."""
    head = "\n".join(text.lstrip("\ufeff").splitlines()[:10])
    return bool(re.search(r"^TY  - ", head, re.M))


def read_ris(text: str, source: str, _year: int) -> tuple[list[FeedPaper], list[Notice]]:
    try:
        records = rispy.loads(text)
    except Exception as error:  # rispy raises plain IOError/ValueError on a broken file
        return [], [Notice(source, f"unreadable RIS ({error}); skipped")]
    papers: list[FeedPaper] = []
    notices: list[Notice] = []
    for index, record in enumerate(records):
        title = record.get("title") or record.get("primary_title") or record.get("translated_title")
        authors = [*record.get("authors", []), *record.get("first_authors", [])]
        year = record.get("year") or record.get("publication_year") or (record.get("date") or "")[:4]
        paper = reference_paper(title, authors, year, record.get("doi"), list(record.get("urls", [])),
                                source, len(papers), None)
        if not (paper.title or paper.doi or paper.arxiv_id):
            notices.append(Notice(source, "record has no title, DOI or arXiv id; skipped", item=index))
            continue
        papers.append(paper)
    return papers, notices


READER = Reader("ris", recognises, read_ris)
