"""JSON-LD with a context of kg's prefixes: one node object per subject, streamed from the sorted N-Triples."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox

from kg.writers.base import RdfWriter
from kg.writers.files import replace_atomically

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class _Compactor:
    """Prefixed names for IRIs in vocabulary namespaces (JSON-LD compact IRIs)."""

    def __init__(self, prefixes: dict[str, str]):
        self.prefixes = sorted(prefixes.items(), key=lambda item: -len(item[1]))
        self.known: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        if iri not in self.known:
            self.known[iri] = next((f"{prefix}:{iri[len(namespace):]}" for prefix, namespace in self.prefixes
                                    if iri.startswith(namespace) and len(iri) > len(namespace)
                                    and "/" not in iri[len(namespace):]), iri)
        return self.known[iri]


def _jsonld_value(term, compact: _Compactor) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == XSD_STRING:
        return {"@value": term.value}
    return {"@value": term.value, "@type": compact(term.datatype.value)}


def write_jsonld(ntriples: Path, path: Path, prefixes: dict[str, str]) -> None:
    """JSON-LD with a context of kg's prefixes: one node object per subject, streamed from sorted N-Triples."""
    compact = _Compactor(prefixes)
    temporary = replace_atomically(path)
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write('{\n"@context": ' + json.dumps(dict(sorted(prefixes.items())), sort_keys=True)
                     + ',\n"@graph": [')
        subject, node, first = None, {}, True

        def flush() -> None:
            nonlocal first
            if subject is not None:
                handle.write(("\n" if first else ",\n") + json.dumps(node, ensure_ascii=False, sort_keys=True))
                first = False

        for triple in ox.parse(path=ntriples, format=ox.RdfFormat.N_TRIPLES):
            if triple.subject.value != subject:
                flush()
                subject, node = triple.subject.value, {"@id": triple.subject.value}
            predicate = triple.predicate.value
            if predicate == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type":
                node.setdefault("@type", []).append(compact(triple.object.value))
            else:
                node.setdefault(compact(predicate), []).append(_jsonld_value(triple.object, compact))
        flush()
        handle.write("\n]}\n")
    temporary.replace(path)


WRITER = RdfWriter("json-ld", "kg.jsonld", write_jsonld)
