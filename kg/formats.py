"""Streaming writers for the export formats.

A build may hold a hundred thousand works and millions of citations, so
nothing here keeps the whole graph in memory: N-Triples lines are sorted on
disk, Turtle and JSON-LD are written while reading the sorted N-Triples back,
graph edges and work rows go to files as they arrive. Only the entities that
many works share (authors, institutions, venues, topics, cited works) are kept
in memory, once each.
"""

from __future__ import annotations

import heapq
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pyoxigraph as ox

from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, Edge, Node, merge_node
from kg.tables import ENTITY_TABLES, SCHEMAS

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def replace_atomically(path: Path) -> Path:
    """The temporary sibling a writer fills before it is renamed over `path` (no half-written exports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(path.name + ".tmp")


class SortedLines:
    """Unique lines in sorted order, sorted on disk in runs of `run_size` lines (an external merge sort)."""

    def __init__(self, scratch: Path, run_size: int = 1_000_000):
        self.scratch = scratch
        self.run_size = run_size
        self.buffer: set[str] = set()
        self.runs: list[Path] = []

    def add(self, lines: Iterable[str]) -> None:
        self.buffer.update(lines)
        if len(self.buffer) >= self.run_size:
            self._spill()

    def _spill(self) -> None:
        run = self.scratch / f"run-{len(self.runs):05d}.nt"
        with open(run, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(sorted(self.buffer))
        self.runs.append(run)
        self.buffer.clear()

    def __iter__(self) -> Iterator[str]:
        if not self.runs:
            yield from sorted(self.buffer)
            return
        if self.buffer:
            self._spill()
        with ExitStack() as stack:
            files = [stack.enter_context(open(run, encoding="utf-8", newline="")) for run in self.runs]
            previous = None
            for line in heapq.merge(*files):
                if line != previous:
                    yield line
                    previous = line


def write_json(data: object, path: Path) -> Path:
    temporary = replace_atomically(path)
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def write_lines(lines: Iterable[str], path: Path) -> int:
    temporary = replace_atomically(path)
    count = 0
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        for line in lines:
            handle.write(line)
            count += 1
    temporary.replace(path)
    return count


def write_turtle(ntriples: Path, path: Path, prefixes: dict[str, str]) -> None:
    """Turtle from sorted N-Triples, streamed through Oxigraph's serializer (subjects stay grouped)."""
    temporary = replace_atomically(path)
    ox.serialize(ox.parse(path=ntriples, format=ox.RdfFormat.N_TRIPLES), temporary,
                 format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    temporary.replace(path)


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


_GRAPHML_TYPES = {str: "string", int: "long", bool: "boolean"}
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                              **{chr(c): " " for c in range(0x20) if chr(c) not in "\t\n\r"}})
NODE_KEYS = {name: f"n{i}" for i, name in enumerate(NODE_ATTRIBUTES)}
EDGE_KEYS = {name: f"e{i}" for i, name in enumerate(EDGE_ATTRIBUTES)}


def _xml(value: object) -> str:
    """Text for XML content or a quoted attribute (control characters XML forbids become spaces)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).translate(_XML_ESCAPES)


def _graphml_node(node_id: str, attributes: dict) -> str:
    data = "".join(f'<data key="{NODE_KEYS[k]}">{_xml(v)}</data>' for k, v in attributes.items())
    return f'    <node id="{_xml(node_id)}">{data}</node>\n'


def _gexf_node(node_id: str, attributes: dict) -> str:
    values = "".join(f'<attvalue for="{k}" value="{_xml(v)}" />' for k, v in attributes.items())
    label = _xml(attributes.get("label", node_id))
    return f'      <node id="{_xml(node_id)}" label="{label}"><attvalues>{values}</attvalues></node>\n'


class GraphFiles:
    """GraphML and GEXF of the graph, fed one work's nodes and edges at a time.

    A work's own node and every edge are formatted in both XML dialects as they
    arrive and go to scratch files; nodes seen only from other works (authors,
    venues, cited works) are merged in memory and written at the end, sorted.
    Edges that do not touch the work (author affiliations) can repeat across
    works and are deduplicated. The final files are header, nodes, edges.
    """

    def __init__(self, scratch: Path):
        self.parts = {name: open(scratch / f"{name}.part", "w+", encoding="utf-8")
                      for name in ("graphml-nodes", "graphml-edges", "gexf-nodes", "gexf-edges")}
        self.complete: set[str] = set()
        self.partial: dict[str, dict] = {}
        self.shared_attributes: dict[tuple, dict] = {}
        self.cross_work_edges: set[tuple[str, str, str]] = set()
        self.node_counts: dict[str, int] = {}
        self.edge_counts: dict[str, int] = {}

    def add(self, nodes: list[Node], edges: list[Edge]) -> None:
        work_id = nodes[0].id
        for node in nodes:
            if node.complete:
                self.complete.add(node.id)
                self._count_node(node.attributes)
                self.parts["graphml-nodes"].write(_graphml_node(node.id, node.attributes))
                self.parts["gexf-nodes"].write(_gexf_node(node.id, node.attributes))
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
            number = sum(self.edge_counts.values())
            self.edge_counts[edge.relation] = self.edge_counts.get(edge.relation, 0) + 1
            ends = f'source="{_xml(edge.source)}" target="{_xml(edge.target)}"'
            self.parts["graphml-edges"].write(
                f'    <edge {ends} id="{edge.relation}">'
                + "".join(f'<data key="{EDGE_KEYS[k]}">{_xml(v)}</data>' for k, v in edge.attributes.items())
                + "</edge>\n")
            self.parts["gexf-edges"].write(
                f'      <edge id="{number}" {ends}><attvalues>'
                + "".join(f'<attvalue for="{k}" value="{_xml(v)}" />' for k, v in edge.attributes.items())
                + "</attvalues></edge>\n")

    def _count_node(self, attributes: dict) -> None:
        self.node_counts[attributes["kind"]] = self.node_counts.get(attributes["kind"], 0) + 1

    def _shared_nodes(self) -> Iterator[tuple[str, dict]]:
        for node_id in sorted(self.partial.keys() - self.complete):
            yield node_id, self.partial[node_id]

    def counts(self) -> dict[str, int]:
        nodes = dict(self.node_counts)
        for _, attributes in self._shared_nodes():
            nodes[attributes["kind"]] = nodes.get(attributes["kind"], 0) + 1
        return {**{f"nodes_{k}": v for k, v in sorted(nodes.items())},
                **{f"edges_{k}": v for k, v in sorted(self.edge_counts.items())}}

    def _assemble(self, path: Path, header: str, dialect: str, node_line, between: str, footer: str) -> None:
        temporary = replace_atomically(path)
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(header)
            for name, middle in ((f"{dialect}-nodes", None), (f"{dialect}-edges", between)):
                if middle is not None:
                    out.write(middle)
                part = self.parts[name]
                part.seek(0)
                shutil.copyfileobj(part, out)
                if middle is None:
                    out.writelines(node_line(node_id, attributes) for node_id, attributes in self._shared_nodes())
            out.write(footer)
        temporary.replace(path)

    def write_graphml(self, path: Path) -> None:
        keys = "".join(f'  <key id="{keys[name]}" for="{kind}" attr.name="{name}" '
                       f'attr.type="{_GRAPHML_TYPES[python_type]}" />\n'
                       for kind, attributes, keys in (("node", NODE_ATTRIBUTES, NODE_KEYS), ("edge", EDGE_ATTRIBUTES, EDGE_KEYS))
                       for name, python_type in attributes.items())
        self._assemble(path, "<?xml version='1.0' encoding='utf-8'?>\n"
                             '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
                             + keys + '  <graph edgedefault="directed">\n',
                       "graphml", _graphml_node, "", "  </graph>\n</graphml>\n")

    def write_gexf(self, path: Path) -> None:
        declarations = "".join(
            f'    <attributes class="{kind}" mode="static">\n'
            + "".join(f'      <attribute id="{name}" title="{name}" type="{_GRAPHML_TYPES[python_type]}" />\n'
                      for name, python_type in attributes.items()) + "    </attributes>\n"
            for kind, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)))
        self._assemble(path, "<?xml version='1.0' encoding='utf-8'?>\n"
                             '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
                             '  <graph defaultedgetype="directed" mode="static">\n' + declarations + "    <nodes>\n",
                       "gexf", _gexf_node, "    </nodes>\n    <edges>\n", "    </edges>\n  </graph>\n</gexf>\n")

    def close(self) -> None:
        for part in self.parts.values():
            part.close()


class TableFiles:
    """CSV and Parquet per table, written in batches of `batch_size` rows with fixed schemas.

    Work-keyed tables arrive sorted (works in id order) and are streamed;
    entity tables keep each id's first row and are written sorted at the end.
    """

    def __init__(self, folder: Path, schemas: dict[str, pa.Schema] = SCHEMAS, batch_size: int = 50_000):
        self.folder = folder
        self.schemas = schemas
        self.batch_size = batch_size
        self.batches: dict[str, list[dict]] = {name: [] for name in schemas if name not in ENTITY_TABLES}
        self.entities: dict[str, dict[str, dict]] = {name: {} for name in schemas if name in ENTITY_TABLES}
        self.rows: dict[str, int] = {name: 0 for name in schemas}
        self.stack = ExitStack()
        self.writers: dict[str, tuple] = {}

    def _writer(self, name: str) -> tuple:
        if name not in self.writers:
            csv_path = replace_atomically(self.folder / f"{name}.csv")
            parquet_path = replace_atomically(self.folder / f"{name}.parquet")
            self.writers[name] = (
                self.stack.enter_context(pa_csv.CSVWriter(str(csv_path), self.schemas[name],
                                                          write_options=pa_csv.WriteOptions(quoting_style="needed"))),
                self.stack.enter_context(pq.ParquetWriter(str(parquet_path), self.schemas[name])))
        return self.writers[name]

    def _write(self, name: str, rows: list[dict]) -> None:
        table = pa.Table.from_pylist(rows, schema=self.schemas[name])
        for writer in self._writer(name):
            writer.write_table(table)
        self.rows[name] += len(rows)

    def add(self, rows: Iterable[tuple[str, dict]]) -> None:
        for name, row in rows:
            if name in self.entities:
                self.entities[name].setdefault(row["id"], row)
                continue
            batch = self.batches[name]
            batch.append(row)
            if len(batch) >= self.batch_size:
                self._write(name, batch)
                batch.clear()

    def close(self) -> list[Path]:
        """Finish every table (empty ones included) and return the files written."""
        for name, batch in self.batches.items():
            self._write(name, batch)
        for name, entities in self.entities.items():
            self._write(name, [entities[key] for key in sorted(entities)])
        self.stack.close()
        written = []
        for name in self.schemas:
            for suffix in (".csv", ".parquet"):
                path = self.folder / f"{name}{suffix}"
                replace_atomically(path).replace(path)
                written.append(path)
        return written


def scratch_folder(near: Path) -> tempfile.TemporaryDirectory:
    """Scratch space next to the output (same disk, usually the roomiest place the user chose)."""
    near.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=".kg-build-", dir=near)
