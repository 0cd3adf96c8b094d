"""Sorted N-Triples lines taken apart, batch by batch, for the formatters of the other RDF syntaxes.

`kg.nt` is written once, its lines sorted and unique; Turtle and JSON-LD group a subject's triples and a
predicate's objects, which in sorted lines are adjacent. So each format is a vectorised rewrite of the
lines as they stream past (pyarrow compute, no Python string per triple), not a second parse of the file.
Sorting whole lines sorts by (subject, predicate, object) too: a term ends with `>` or `"` (or a datatype's
`>`), and the space after it sorts before any character that could continue another term.

The lines are kg's own (`kg.transform`, `kg.rdf.thread_lines`): IRIs, plain and datatyped literals in
canonical escaping. Blank nodes and language tags, which kg never writes, are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from kg.writers.lines import changed

TEXT = pa.large_string()


def text(value: str) -> pa.Scalar:
    """A constant piece of output, typed to join with the lines' large strings."""
    return pa.scalar(value, TEXT)


@dataclass(frozen=True)
class TripleBatch:
    """One batch of sorted, unique triples, its terms as N-Triples writes them.

    `new_subject` marks a subject's first triple, `new_predicate` a (subject, predicate)'s first; `first`
    says whether the batch begins the file (its first triple then follows no other)."""

    subject: pa.LargeStringArray
    predicate: pa.LargeStringArray
    object: pa.LargeStringArray
    new_subject: pa.BooleanArray
    new_predicate: pa.BooleanArray
    first: bool

    def __len__(self) -> int:
        return len(self.subject)


def split(lines: pa.LargeStringArray, before: tuple[str, str] | None) -> TripleBatch:
    """Take apart a batch of lines (`<s> <p> o .\\n`), `before` the (subject, predicate) of the line ahead
    of the batch, None at the start of the file."""
    parts = pc.split_pattern(lines, " ", max_splits=2)
    subject, predicate = pc.list_element(parts, 0), pc.list_element(parts, 1)
    object_ = pc.utf8_slice_codeunits(pc.list_element(parts, 2), 0, -3)
    if pc.any(pc.starts_with(subject, "_:")).as_py() or pc.any(pc.starts_with(object_, "_:")).as_py():
        raise ValueError("a blank node in kg's triples (kg writes none)")
    new_subject = changed(subject, before[0] if before else None)
    new_predicate = pc.or_(new_subject, changed(predicate, before[1] if before else None))
    return TripleBatch(subject, predicate, object_, new_subject, new_predicate, before is None)


def last_terms(batch: TripleBatch) -> tuple[str, str]:
    """The subject and predicate of a batch's last triple: what the next batch follows."""
    return batch.subject[-1].as_py(), batch.predicate[-1].as_py()


def grouped(batch: TripleBatch, closing: tuple[str, str, str], subject_heads: Callable[[pa.Array], pa.Array],
            predicate_heads: pa.Array, objects: pa.Array) -> pa.Array:
    """One text per triple: what closes the text before it (`closing`: before a new subject, a new predicate
    of the same subject, another object of the same predicate), the subject's head where a subject begins
    (`subject_heads` of those subjects), the predicate's head where a predicate begins, then the object.
    Heads are made only where they are written."""
    lead = pc.if_else(batch.new_subject, text(closing[0]),
                      pc.if_else(batch.new_predicate, text(closing[1]), text(closing[2])))
    heads = pa.nulls(len(batch), TEXT)
    subjects = pc.replace_with_mask(heads, batch.new_subject, subject_heads(pc.filter(batch.subject, batch.new_subject)))
    predicates = pc.if_else(batch.new_predicate, predicate_heads, heads)
    return pc.binary_join_element_wise(lead, subjects, predicates, objects, text(""),
                                       null_handling="replace", null_replacement="")


def opening(batch: TripleBatch, pieces: pa.Array, closing: int) -> pa.Array:
    """The pieces, the first without the `closing` characters that end a statement before it when the batch
    begins the file."""
    if not batch.first:
        return pieces
    return pa.concat_arrays([pc.utf8_slice_codeunits(pieces.slice(0, 1), closing), pieces.slice(1)])


def join(*pieces: pa.Array | pa.Scalar) -> pa.Array:
    """The pieces concatenated, triple by triple."""
    return pc.binary_join_element_wise(*pieces, text(""))


def mapped(column: pa.Array, function) -> pa.Array:
    """`function` applied to each distinct value (a column with few of them, as predicates or datatypes)."""
    encoded = column.dictionary_encode()
    return pc.take(pa.array([function(value) for value in encoded.dictionary.to_pylist()], TEXT), encoded.indices)


def datatyped(objects: pa.Array) -> tuple[pa.BooleanArray, pa.Array, pa.Array]:
    """Which objects are datatyped literals, and for those (in order) the quoted lexical form without its
    closing quote (`"1990`) and the datatype IRI (`http://www.w3.org/2001/XMLSchema#integer`)."""
    literal = pc.starts_with(objects, '"')
    typed = pc.and_(literal, pc.ends_with(objects, ">"))
    if pc.any(pc.and_(literal, pc.invert(pc.or_(typed, pc.ends_with(objects, '"'))))).as_py():
        raise ValueError("a language-tagged literal in kg's triples (kg writes none)")
    parts = pc.split_pattern(pc.filter(objects, typed), '"^^<', max_splits=1)
    return typed, pc.list_element(parts, 0), pc.utf8_slice_codeunits(pc.list_element(parts, 1), 0, -1)


LOCAL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
"""Local names written as prefixed names; an IRI whose rest has any other character stays whole."""


def compact(iri: str, prefixes: dict[str, str]) -> str | None:
    """`prefix:local` for an IRI in one of the namespaces, when the rest is a plain local name."""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and LOCAL_NAME.fullmatch(iri[len(namespace):]):
            return f"{prefix}:{iri[len(namespace):]}"
    return None
