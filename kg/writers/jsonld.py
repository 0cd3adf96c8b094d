"""JSON-LD (expanded form, one node object per subject), streamed from the sorted N-Triples through
Oxigraph's serializer.

Oxigraph writes expanded JSON-LD: full IRIs and no `@context`. Any JSON-LD processor reads it as it is or
compacts it with the prefixes of `kg.rdf.PREFIXES`; the compact form kg wrote before was assembled in
Python at about half this speed (bench/RESULTS.md §2).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.writers.base import RdfWriter
from kg.writers.files import replace_atomically


def write_jsonld(ntriples: Path, path: Path, _prefixes: dict[str, str]) -> None:
    temporary = replace_atomically(path)
    ox.serialize(ox.parse(path=ntriples, format=ox.RdfFormat.N_TRIPLES), temporary, format=ox.RdfFormat.JSON_LD)
    temporary.replace(path)


WRITER = RdfWriter("json-ld", "kg.jsonld", write_jsonld)
