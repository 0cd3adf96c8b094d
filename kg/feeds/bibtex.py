"""BibTeX (`.bib`) from Zotero, JabRef, Mendeley or by hand, read with bibtexparser (LaTeX decoded)."""

from __future__ import annotations

import logging
import re

import bibtexparser
from bibtexparser.middlewares import LatexDecodingMiddleware

from kg.feeds.paper import FeedPaper, Notice, Reader, reference_paper

_ENTRY = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)


def _line(start: int | None) -> int | None:
    return start + 1 if start is not None else None  # bibtexparser counts from 0


def recognises(text: str) -> bool:
    return bool(_ENTRY.search(text[:20_000]))


def read_bibtex(text: str, source: str, _year: int) -> tuple[list[FeedPaper], list[Notice]]:
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)  # its failures become notices below
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    papers: list[FeedPaper] = []
    notices = [Notice(source, f"unreadable BibTeX entry ({block.error or 'syntax error'}); skipped",
                      line=_line(block.start_line))
               for block in library.failed_blocks]
    for entry in library.entries:
        fields = {k.lower(): str(v) for k, v in entry.fields_dict.items() for v in [v.value]}
        eprint = fields.get("eprint", "")
        if eprint and fields.get("archiveprefix", "arxiv").lower() != "arxiv":
            eprint = ""
        paper = reference_paper(fields.get("title"), re.split(r"\s+and\s+", fields.get("author", "")),
                                fields.get("year") or fields.get("date"), fields.get("doi"),
                                [f"arXiv:{eprint}" if eprint else "", fields.get("url", "")],
                                source, len(papers), _line(entry.start_line))
        if not (paper.title or paper.doi or paper.arxiv_id):
            notices.append(Notice(source, f"entry {entry.key!r} has no title, DOI or arXiv id; skipped",
                                  line=_line(entry.start_line)))
            continue
        papers.append(paper)
    return papers, notices


READER = Reader("bibtex", recognises, read_bibtex)
