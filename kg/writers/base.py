"""The two kinds of export writer.

* `RdfWriter`: another RDF serialisation, formatted from the sorted N-Triples lines of `kg.nt` as they are
  written (`kg.writers.rdf_files`), batch by batch, as vectorised text (`kg.writers.triples`).
* `GraphDialect`: a graph file format whose node and edge lines are SQL expressions over the graph's node
  and edge tables (`kg.writers.graph_files` assembles header, nodes, edges and footer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from kg.writers.triples import TripleBatch


@dataclass(frozen=True)
class RdfWriter:
    """`header(prefixes)`, then `pieces(batch, prefixes)` for each batch of sorted triples (one text per
    triple, in order), then `footer(empty)` (`empty`: no triple was written) make the file."""

    name: str
    file: str
    header: Callable[[dict[str, str]], str]
    pieces: Callable[[TripleBatch, dict[str, str]], pa.Array]
    footer: Callable[[bool], str]


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
