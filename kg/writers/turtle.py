"""Turtle, formatted from the sorted N-Triples lines as they are written: a subject once, its predicates
after `;`, a predicate's objects after `,`; predicates, classes and datatypes as prefixed names.

Subjects and other objects stay full IRIs, as Oxigraph's serializer (which kg used before) leaves them:
no prefix names the entity namespaces. Literals keep N-Triples' escaping, which Turtle reads as it is.
"""

from __future__ import annotations

import pyarrow.compute as pc

from kg.writers.base import RdfWriter
from kg.writers.triples import TripleBatch, compact, datatyped, grouped, join, mapped, opening, text

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def header(prefixes: dict[str, str]) -> str:
    return "".join(f"@prefix {prefix}: <{namespace}> .\n" for prefix, namespace in sorted(prefixes.items())) + "\n"


def _term(iri_term: str, prefixes: dict[str, str]) -> str:
    """An IRI written `<…>` as a prefixed name when it has one."""
    return compact(iri_term[1:-1], prefixes) or iri_term


def _objects(batch: TripleBatch, prefixes: dict[str, str]):
    objects = batch.object
    classes = pc.and_(pc.equal(batch.predicate, RDF_TYPE), pc.starts_with(objects, "<"))
    if pc.any(classes).as_py():
        objects = pc.replace_with_mask(objects, classes, mapped(pc.filter(objects, classes),
                                                                lambda term: _term(term, prefixes)))
    typed, lexical, datatype = datatyped(objects)
    if len(lexical):
        short = mapped(datatype, lambda iri: compact(iri, prefixes) or f"<{iri}>")
        objects = pc.replace_with_mask(objects, typed, join(lexical, text('"^^'), short))
    return objects


def pieces(batch: TripleBatch, prefixes: dict[str, str]):
    predicates = mapped(batch.predicate, lambda term: ("a" if term == RDF_TYPE else _term(term, prefixes)) + " ")
    out = grouped(batch, (" .\n", " ;\n\t", " , "), lambda subjects: join(subjects, text(" ")), predicates,
                  _objects(batch, prefixes))
    return opening(batch, out, len(" .\n"))  # the file's first triple ends no statement before it


def footer(empty: bool) -> str:
    return "" if empty else " .\n"


WRITER = RdfWriter("turtle", "kg.ttl", header, pieces, footer)
