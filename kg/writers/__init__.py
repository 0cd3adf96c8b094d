"""Export writers, registered by format name and file name (as rdflib registers its serializers).

`kg build` always writes the base files: `kg.nt` (sorted, unique N-Triples; `ntriples.py`), the
tables as CSV and Parquet (`tables.py`), `threads.json` and `manifest.json`. Every writer in
`WRITERS` then adds one file: an `RdfWriter` serialises `kg.nt` again (Turtle, JSON-LD), a
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

__all__ = ["WRITERS", "CitationWriter", "GraphDialect", "RdfWriter", "Writer", "writer"]


def writer(name_or_file: str) -> Writer:
    """The writer registered under a format name ("turtle") or a file name ("kg.ttl")."""
    for candidate in WRITERS:
        if name_or_file in (candidate.name, candidate.file):
            return candidate
    raise KeyError(f"no export writer named {name_or_file!r}; known: {', '.join(w.name for w in WRITERS)}")
