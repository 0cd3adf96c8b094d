"""The two kinds of export writer.

* `RdfWriter`: another RDF serialisation, written from the sorted N-Triples file `kg.nt`.
* `GraphDialect`: a graph file format whose node and edge lines are SQL expressions over the graph's node
  and edge tables (`kg.writers.graph_files` assembles header, nodes, edges and footer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RdfWriter:
    """`write(ntriples, target, prefixes)` serialises the sorted N-Triples at `ntriples` into `target`."""

    name: str
    file: str
    write: Callable[[Path, Path, dict[str, str]], None]


@dataclass(frozen=True)
class GraphDialect:
    """How one graph format writes a node, an edge and what surrounds them.

    `node(id, attributes)` and `edge(number, source, target, relation, attributes)` receive SQL expressions
    (attributes: name → XML text, NULL when not set) and return the SQL expression of one line.
    """

    name: str
    file: str
    header: Callable[[], str]
    node: Callable[[str, dict[str, str]], str]
    edge: Callable[[str, str, str, str, dict[str, str]], str]
    between: str
    footer: str
