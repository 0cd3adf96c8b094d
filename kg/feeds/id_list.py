"""Plain lists: one arXiv id, DOI, OpenAlex id, arXiv or Hugging Face paper URL, or title per line; `#` comments."""

from __future__ import annotations

import re

from kg.feeds.paper import FeedPaper, Notice, Provenance, Reader
from kg.ids import parse_identifier
from kg.text import clean_text


def read_list(text: str, source: str) -> tuple[list[FeedPaper], list[Notice]]:
    papers: list[FeedPaper] = []
    warnings: list[Notice] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = clean_text(re.split(r"(?:^|\s)#(?:\s|$)", raw, maxsplit=1)[0]).strip()
        if not line:
            continue
        kind = parse_identifier(line)
        if kind is None and len(line) > 500:
            warnings.append(Notice(source, f"a {len(line)}-character line is neither an id nor a title; skipped",
                                   line=number))
            continue
        paper = FeedPaper()
        if kind is None:
            paper.title = line
        else:
            setattr(paper, {"arxiv": "arxiv_id", "doi": "doi", "openalex": "openalex_id"}[kind[0]], kind[1])
        paper.provenance.append(Provenance(source, len(papers), number))
        papers.append(paper)
    return papers, warnings


def recognises(text: str) -> bool:
    """The fallback: any text is a list of items (an empty one is refused by the registry)."""
    return True


READER = Reader("id-or-title-list", recognises, lambda text, source, _year: read_list(text, source))
