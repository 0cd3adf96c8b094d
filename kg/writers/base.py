"""The two kinds of export writer.

* `RdfWriter`: another RDF serialisation, written from the sorted N-Triples file `kg.nt`.
* `GraphDialect`: a graph file format whose node and edge lines are formatted as works stream by
  (`kg.writers.graph_files.GraphFiles` assembles header, nodes, edges and footer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.graph import Edge


@dataclass(frozen=True)
class RdfWriter:
    """`write(ntriples, target, prefixes)` serialises the sorted N-Triples at `ntriples` into `target`."""

    name: str
    file: str
    write: Callable[[Path, Path, dict[str, str]], None]


@dataclass(frozen=True)
class GraphDialect:
    """How one graph format writes a node, an edge (numbered from 0) and what surrounds them."""

    name: str
    file: str
    header: Callable[[], str]
    node: Callable[[str, dict], str]
    edge: Callable[[int, Edge], str]
    between: str
    footer: str
