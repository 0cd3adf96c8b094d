"""Export writers, registered by format name and file name (as rdflib registers its serializers).

`kg build` always writes the base files: `kg.nt` (sorted, unique N-Triples; `ntriples.py`), the
tables as CSV and Parquet (`tables.py`), `threads.json` and `manifest.json`. Every writer in
`WRITERS` then adds one file: an `RdfWriter` formats `kg.nt`'s lines as they are written (Turtle, JSON-LD), a
`GraphDialect` formats nodes and edges as works stream by (GraphML, GEXF), a `CitationWriter` writes the
feed's works (or, asked, all of them) for reference managers (BibTeX, RIS, CSL-JSON).

Adding a format is one new module here defining its `WRITER`, plus one line in `WRITERS`.
"""

from __future__ import annotations

from kg.writers import citations, gexf, graphml, jsonld, turtle
from kg.writers.base import GraphDialect, RdfWriter
from kg.writers.citations import CitationWriter

Writer = RdfWriter | GraphDialect | CitationWriter

WRITERS: tuple[Writer, ...] = (
    turtle.WRITER,
    jsonld.WRITER,
    graphml.WRITER,
    gexf.WRITER,
    *citations.CITATION_WRITERS,  # feed.bib, feed.ris, feed.json for reference managers
)

__all__ = ["BASE_FORMATS", "WRITERS", "CitationWriter", "GraphDialect", "RdfWriter", "Writer", "chosen", "writer"]


BASE_FORMATS = ("nt", "ntriples", "kg.nt", "tables")
"""What every build writes whatever formats are asked for (N-Triples and the tables)."""


def writer(name_or_file: str) -> Writer:
    """The writer registered under a format name ("turtle"), a file name ("kg.ttl") or its extension ("ttl")."""
    for candidate in WRITERS:
        if name_or_file.lower() in (candidate.name, candidate.file, candidate.file.rsplit(".", 1)[-1]):
            return candidate
    raise KeyError(f"no export writer named {name_or_file!r}; known: {', '.join(w.name for w in WRITERS)}")


def chosen(names: list[str] | None) -> tuple[Writer, ...]:
    """The writers of these format names (None: every one), in registry order; the base formats are always
    written, so naming them is allowed and changes nothing. A name no writer has raises KeyError."""
    if names is None:
        return WRITERS
    wanted = {writer(name) for name in names if name.lower() not in BASE_FORMATS}
    return tuple(w for w in WRITERS if w in wanted)
