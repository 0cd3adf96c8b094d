"""Graph files (every registered `GraphDialect`), fed one work's nodes and edges at a time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from kg.graph import Edge, Node, merge_node
from kg.writers.base import GraphDialect
from kg.writers.files import replace_atomically


class GraphFiles:
    """A work's own node and every edge are formatted in each dialect as they arrive and go to scratch
    files; nodes seen only from other works (authors, venues, cited works) are merged in memory and
    written at the end, sorted. Edges that do not touch the work (author affiliations) can repeat across
    works and are deduplicated. Each final file is header, nodes, edges, footer.
    """

    def __init__(self, scratch: Path, dialects: list[GraphDialect]):
        self.dialects = dialects
        self.parts = {(d.name, part): open(scratch / f"{d.name}-{part}.part", "w+", encoding="utf-8")
                      for d in dialects for part in ("nodes", "edges")}
        self.complete: set[str] = set()
        self.partial: dict[str, dict] = {}
        self.shared_attributes: dict[tuple, dict] = {}
        self.cross_work_edges: set[tuple[str, str, str]] = set()
        self.node_counts: dict[str, int] = {}
        self.edge_counts: dict[str, int] = {}
        self.edges_written = 0

    def add(self, nodes: list[Node], edges: list[Edge]) -> None:
        work_id = nodes[0].id
        for node in nodes:
            if node.complete:
                self.complete.add(node.id)
                kind = str(node.attributes["kind"])
                self.node_counts[kind] = self.node_counts.get(kind, 0) + 1
                for dialect in self.dialects:
                    self.parts[dialect.name, "nodes"].write(dialect.node(node.id, node.attributes))
            else:
                known = self.partial.get(node.id)
                if known is not None and node.attributes.keys() <= known.keys():
                    continue  # a later partial sighting only fills gaps, and there are none
                merged = merge_node(known, node)
                key = tuple(sorted(merged.items()))
                self.partial[node.id] = self.shared_attributes.setdefault(key, merged)
        for edge in edges:
            if work_id not in (edge.source, edge.target):
                edge_key = (edge.source, edge.target, edge.relation)
                if edge_key in self.cross_work_edges:
                    continue
                self.cross_work_edges.add(edge_key)
            self.edge_counts[edge.relation] = self.edge_counts.get(edge.relation, 0) + 1
            for dialect in self.dialects:
                self.parts[dialect.name, "edges"].write(dialect.edge(self.edges_written, edge))
            self.edges_written += 1

    def _shared_nodes(self) -> Iterator[tuple[str, dict]]:
        for node_id in sorted(self.partial.keys() - self.complete):
            yield node_id, self.partial[node_id]

    def counts(self) -> dict[str, int]:
        nodes = dict(self.node_counts)
        for _, attributes in self._shared_nodes():
            nodes[attributes["kind"]] = nodes.get(attributes["kind"], 0) + 1
        return {**{f"nodes_{k}": v for k, v in sorted(nodes.items())},
                **{f"edges_{k}": v for k, v in sorted(self.edge_counts.items())}}

    def write(self, dialect: GraphDialect, path: Path) -> Path:
        temporary = replace_atomically(path)
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(dialect.header())
            nodes = self.parts[dialect.name, "nodes"]
            nodes.seek(0)
            shutil.copyfileobj(nodes, out)
            out.writelines(dialect.node(node_id, attributes) for node_id, attributes in self._shared_nodes())
            out.write(dialect.between)
            edges = self.parts[dialect.name, "edges"]
            edges.seek(0)
            shutil.copyfileobj(edges, out)
            out.write(dialect.footer)
        temporary.replace(path)
        return path

    def close(self) -> None:
        for part in self.parts.values():
            part.close()
