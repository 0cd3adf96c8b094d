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
from kg.writers.triples import TripleBatch, by_position, datatyped, join, mapped, opening, text


def header(_prefixes: dict[str, str]) -> str:
    return "["


def _objects(batch: TripleBatch):
    objects = batch.object
    inner = pc.utf8_slice_codeunits(objects, 1, -1)
    values = pc.if_else(pc.starts_with(objects, "<"), join(text('{"@id":"'), inner, text('"}')),
                        join(text('{"@value":'), objects, text("}")))
    typed, lexical, datatype = datatyped(objects)
    if len(lexical):
        values = pc.replace_with_mask(values, typed, join(text('{"@type":"'), datatype, text('","@value":'),
                                                          lexical, text('"}')))
    return values


def pieces(batch: TripleBatch, _prefixes: dict[str, str]):
    predicate = mapped(batch.predicate, lambda term: term[1:-1])
    values = _objects(batch)
    out = by_position(batch, join(text(']},{"@id":"'), pc.utf8_slice_codeunits(batch.subject, 1, -1), text('","'),
                                  predicate, text('":['), values),
                      join(text('],"'), predicate, text('":['), values), join(text(","), values))
    return opening(batch, out, len("]},"))


def footer(empty: bool) -> str:
    return "]" if empty else "]}]"


WRITER = RdfWriter("json-ld", "kg.jsonld", header, pieces, footer)
