"""Turtle, streamed from the sorted N-Triples through Oxigraph's serializer."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.writers.base import RdfWriter
from kg.writers.files import replace_atomically


def write_turtle(ntriples: Path, path: Path, prefixes: dict[str, str]) -> None:
    """Turtle from sorted N-Triples, streamed through Oxigraph's serializer (subjects stay grouped)."""
    temporary = replace_atomically(path)
    ox.serialize(ox.parse(path=ntriples, format=ox.RdfFormat.N_TRIPLES), temporary,
                 format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    temporary.replace(path)


WRITER = RdfWriter("turtle", "kg.ttl", write_turtle)
