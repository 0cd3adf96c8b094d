"""JSON-LD in expanded form (full IRIs, no `@context`; one node object per subject, its predicates' objects
in arrays), formatted from the sorted N-Triples lines as they are written.

It is the JSON Oxigraph's serializer wrote before (tests/test_writers.py compares them; the bytes differ only
where N-Triples escapes a control character that Oxigraph writes raw): any JSON-LD processor reads it as it
is or compacts it with the prefixes of `kg.rdf.PREFIXES`. A literal's quoted text is taken over from
N-Triples unchanged: canonical N-Triples escaping (`\\"`, `\\\\`, `\\b \\t \\n \\f \\r`, `\\uXXXX` for other
control characters) is valid JSON string text, and kg's IRIs hold no quote or backslash.
"""

from __future__ import annotations

import pyarrow.compute as pc

from kg.writers.base import RdfWriter
from kg.writers.triples import TripleBatch, datatyped, grouped, join, mapped, opening, text


def header(_prefixes: dict[str, str]) -> str:
    return "["


def _objects(batch: TripleBatch):
    objects = batch.object
    values = join(text('{"@id":"'), pc.utf8_slice_codeunits(objects, 1, -1), text('"}'))  # IRIs, most objects
    literal = pc.starts_with(objects, '"')
    if pc.any(literal).as_py():
        values = pc.replace_with_mask(values, literal, join(text('{"@value":'), pc.filter(objects, literal), text("}")))
    typed, lexical, datatype = datatyped(objects)
    if len(lexical):
        values = pc.replace_with_mask(values, typed, join(text('{"@type":"'), datatype, text('","@value":'),
                                                          lexical, text('"}')))
    return values


def pieces(batch: TripleBatch, _prefixes: dict[str, str]):
    predicates = mapped(batch.predicate, lambda term: f'"{term[1:-1]}":[')
    out = grouped(batch, ("]},", "],", ","),
                  lambda subjects: join(text('{"@id":"'), pc.utf8_slice_codeunits(subjects, 1, -1), text('",')),
                  predicates, _objects(batch))
    return opening(batch, out, len("]},"))


def footer(empty: bool) -> str:
    return "]" if empty else "]}]"


WRITER = RdfWriter("json-ld", "kg.jsonld", header, pieces, footer)
