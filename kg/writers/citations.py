"""The feed's works for reference managers: BibTeX, RIS and CSL-JSON (Zotero, Mendeley, JabRef, Pandoc).

Each work becomes one record with its OpenAlex id, DOI, arXiv id, title, authors, venue, year and abstract,
under a citation key (`surname` + year + first title word, `a`/`b`… for clashes in OpenAlex-id order)
that stays the same while the set of works does. BibTeX escapes LaTeX's special characters, so every file
re-imports cleanly with bibtexparser, rispy or json.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import rispy

from kg.ids import ARXIV_DOI_PREFIX, last_segment
from kg.model import Work
from kg.writers.files import write_atomically

_LATEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "~": r"\textasciitilde{}", "^": r"\string^"}
_STOPWORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards", "toward"}


@dataclass(frozen=True)
class CitationWriter:
    """`write(works, keys, path)` writes the works under their citation keys."""

    name: str
    file: str
    write: Callable[[list[Work], dict[str, str], Path], None]


def latex(text: str) -> str:
    """Text with LaTeX's special characters escaped (BibTeX field values)."""
    return "".join(_LATEX.get(c, c) for c in text)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def citation_keys(works: list[Work]) -> dict[str, str]:
    """A key per work id: surname, year, first meaningful title word; clashes get a, b, c in id order."""
    base: dict[str, str] = {}
    for work in sorted(works, key=lambda w: w.id):
        first = work.authorships[0].author.name if work.authorships and work.authorships[0].author.name else ""
        surname = _ascii(first.split()[-1]) if first.split() else "anon"
        words = [_ascii(w) for w in (work.title or "").split()]
        word = next((w for w in words if w and w not in _STOPWORDS), "")
        base[work.id] = f"{surname or 'anon'}{work.year or 'nd'}{word}"
    keys: dict[str, str] = {}
    for work_id, key in base.items():
        clashes = sorted(w for w, k in base.items() if k == key)
        keys[work_id] = key if len(clashes) == 1 else key + "abcdefghijklmnopqrstuvwxyz"[clashes.index(work_id) % 26] \
            + ("" if clashes.index(work_id) < 26 else str(clashes.index(work_id) // 26))
    return keys


def arxiv_of(work: Work) -> str | None:
    if work.feed and work.feed.arxiv_id:
        return work.feed.arxiv_id
    doi = (work.doi or "").lower()
    return doi[len(ARXIV_DOI_PREFIX):] if doi.startswith(ARXIV_DOI_PREFIX) else None


def _authors(work: Work) -> list[str]:
    return [a.author.name for a in work.authorships if a.author.name]


def write_bibtex(works: list[Work], keys: dict[str, str], path: Path) -> None:
    entries = []
    for work in sorted(works, key=lambda w: keys[w.id]):
        kind = {"journal": "article", "conference": "inproceedings"}.get((work.source.type if work.source else "") or "",
                                                                          "misc")
        venue = {"article": "journal", "inproceedings": "booktitle"}.get(kind, "howpublished")
        arxiv = arxiv_of(work)
        fields = [("title", latex(work.title or "")),
                  ("author", " and ".join("{" + latex(name) + "}" for name in _authors(work))),
                  ("year", str(work.year or "")), ("doi", work.doi or ""),
                  (venue, latex(work.source.name) if work.source and work.source.name else ""),
                  ("eprint", arxiv or ""), ("archiveprefix", "arXiv" if arxiv else ""),
                  ("abstract", latex(work.abstract or "")), ("openalex", last_segment(work.id)), ("url", work.id)]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
        entries.append(f"@{kind}{{{keys[work.id]},\n{body}\n}}\n")
    write_atomically(path, "\n".join(entries))


class _PlainRis(rispy.writer.RisWriter):
    """RIS without rispy's "1." numbering line before each record, which other readers take for junk."""

    def set_header(self, count: int) -> str:
        return ""


def write_ris(works: list[Work], keys: dict[str, str], path: Path) -> None:
    records = []
    for work in sorted(works, key=lambda w: keys[w.id]):
        kind = {"journal": "JOUR", "conference": "CPAPER"}.get((work.source.type if work.source else "") or "", "GEN")
        arxiv = arxiv_of(work)
        record = {"type_of_reference": kind, "id": keys[work.id], "title": work.title or "", "authors": _authors(work),
                  "year": str(work.year or ""), "doi": work.doi or "", "abstract": work.abstract or "",
                  "secondary_title": work.source.name if work.source and work.source.name else "",
                  "urls": [work.id] + ([f"https://arxiv.org/abs/{arxiv}"] if arxiv else [])}
        records.append({k: v for k, v in record.items() if v})
    write_atomically(path, rispy.dumps(records, implementation=_PlainRis))


def write_csl(works: list[Work], keys: dict[str, str], path: Path) -> None:
    items = []
    for work in sorted(works, key=lambda w: keys[w.id]):
        kind = {"journal": "article-journal", "conference": "paper-conference"}.get(
            (work.source.type if work.source else "") or "", "article")
        arxiv = arxiv_of(work)
        item = {"id": keys[work.id], "type": kind, "title": work.title, "author": [{"literal": n} for n in _authors(work)],
                "issued": {"date-parts": [[work.year]]} if work.year else None, "DOI": work.doi,
                "container-title": work.source.name if work.source else None, "abstract": work.abstract,
                "URL": f"https://arxiv.org/abs/{arxiv}" if arxiv else work.id, "note": f"OpenAlex: {last_segment(work.id)}"}
        items.append({k: v for k, v in item.items() if v})
    write_atomically(path, json.dumps(items, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


CITATION_WRITERS = (
    CitationWriter("bibtex", "feed.bib", write_bibtex),
    CitationWriter("ris", "feed.ris", write_ris),
    CitationWriter("csl-json", "feed.json", write_csl),
)
