"""CSL-JSON, the citation format of Zotero, Pandoc and citeproc: an array of items with `type`, `title`,
`author` ({family, given}), `issued` ({date-parts}), `DOI`, `URL`."""

from __future__ import annotations

import json

from kg.feeds.paper import FeedPaper, Notice, Reader, reference_paper


def _items(text: str) -> list | None:
    stripped = text.lstrip()
    if stripped[:1] not in ("[", "{"):
        return None
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    items = data if isinstance(data, list) else [data]
    return items if items and all(isinstance(i, dict) for i in items) else None


def recognises(text: str) -> bool:
    items = _items(text) or []
    return bool(items) and all("paper" not in i and "type" in i for i in items) and \
        any(k in i for i in items for k in ("author", "issued", "DOI", "container-title"))


def _name(author: object) -> str:
    if not isinstance(author, dict):
        return ""
    if author.get("literal"):
        return str(author["literal"])
    return ", ".join(str(author[k]) for k in ("family", "given") if author.get(k))


def read_csl(text: str, source: str, _year: int) -> tuple[list[FeedPaper], list[Notice]]:
    papers: list[FeedPaper] = []
    notices: list[Notice] = []
    for index, item in enumerate(_items(text) or []):
        issued = item.get("issued") if isinstance(item.get("issued"), dict) else {}
        parts = issued.get("date-parts") if isinstance(issued.get("date-parts"), list) else []
        year = parts[0][0] if parts and isinstance(parts[0], list) and parts[0] else None
        title = item.get("title") if isinstance(item.get("title"), str) else None
        authors = [_name(a) for a in item.get("author") or []] if isinstance(item.get("author"), list) else []
        links = [v for v in (item.get("URL"), item.get("number") if item.get("type") == "article" else None)
                 if isinstance(v, str)]
        doi = item.get("DOI") if isinstance(item.get("DOI"), str) else None
        paper = reference_paper(title, authors, year, doi, links, source, len(papers), None)
        if not (paper.title or paper.doi or paper.arxiv_id):
            notices.append(Notice(source, "item has no title, DOI or arXiv id; skipped", item=index))
            continue
        papers.append(paper)
    return papers, notices


READER = Reader("csl-json", recognises, read_csl)
