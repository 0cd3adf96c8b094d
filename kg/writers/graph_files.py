"""Graph files (every registered `GraphDialect`), written from the graph's node and edge tables.

The tables (`graph_nodes`, `graph_edges`, made from `kg.transform.nodes` and `edges`) live in the build's
DuckDB connection; every dialect's lines are formatted there in one query and streamed out, sorted range by range
(`kg.writers.lines`) into the order of `transform.NODE_ORDER` and `EDGE_ORDER`. Edges are numbered from 0 in
that order, counting on from range to range.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import duckdb

from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES
from kg.transform import EDGE_COLUMNS, EDGE_ORDER
from kg.writers.base import GraphDialect
from kg.writers.files import Behind, Hashed, Writable, replace_atomically
from kg.writers.lines import SORT_BYTES, key_ranges, write_columns
from kg.writers.xml import xml_text


def counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Nodes per kind and edges per relation, as the manifest lists them."""
    nodes = connection.sql("SELECT kind, count(*) FROM graph_nodes GROUP BY kind ORDER BY kind").fetchall()
    edges = connection.sql("SELECT relation, count(*) FROM graph_edges GROUP BY relation ORDER BY relation").fetchall()
    return {**{f"nodes_{kind}": n for kind, n in nodes}, **{f"edges_{relation}": n for relation, n in edges}}


NODE_WEIGHT = "64 + strlen(id) + 2 * coalesce(strlen(label), 0)"
EDGE_WEIGHT = "64 + strlen(source) + strlen(target)"
"""About what a row weighs in a sort (bytes), to size the ranges sorted at once."""


def _write_nodes(connection: duckdb.DuckDBPyConnection, lines: list[str], outs: Sequence[Writable], sort_bytes: int) -> None:
    """Works by their number, then the other nodes by id (`transform.NODE_ORDER`)."""
    for part, key in ((0, "number"), (1, "id")):
        for condition, params in key_ranges(connection, "graph_nodes", key, NODE_WEIGHT, sort_bytes,
                                            where=f"part = {part}"):
            write_columns(connection, f"SELECT {', '.join(lines)} FROM graph_nodes WHERE part = {part} AND "
                                      f"{condition} ORDER BY {key}", outs, params)


def _write_edges(connection: duckdb.DuckDBPyConnection, dialects: list[GraphDialect], outs: Sequence[Writable],
                 sort_bytes: int) -> None:
    """Edges in `transform.EDGE_ORDER`, which begins with the work's number, numbered on across ranges."""
    attributes = {name: xml_text(EDGE_COLUMNS[name], kind) for name, kind in EDGE_ATTRIBUTES.items()}
    written = 0
    for condition, params in key_ranges(connection, "graph_edges", "work_no", EDGE_WEIGHT, sort_bytes):
        number = f"({written} + row_number() OVER (ORDER BY {EDGE_ORDER}) - 1)"
        lines = [d.edge(number, xml_text("source"), xml_text("target"), "relation", attributes) for d in dialects]
        written += write_columns(connection, f"SELECT {', '.join(lines)} FROM graph_edges WHERE {condition} "
                                             f"ORDER BY {EDGE_ORDER}", outs, params)


def write_graphs(connection: duckdb.DuckDBPyConnection, targets: list[tuple[GraphDialect, Path]],
                 sort_bytes: int = SORT_BYTES) -> dict[Path, str]:
    """Each dialect's file: header, nodes, what comes between, edges, footer. The nodes and the edges are
    sorted once for every dialect (each range's query gives a line per dialect); `sort_bytes` bounds each
    sort (`lines.key_ranges`). Returns each file's SHA-256, taken as it was written."""
    if not targets:
        return {}
    dialects = [dialect for dialect, _ in targets]
    node_attributes = {name: xml_text(f'"{name}"', kind) for name, kind in NODE_ATTRIBUTES.items()}
    temporaries = [replace_atomically(path) for _, path in targets]
    with ExitStack() as stack:
        hashed = [Hashed(stack.enter_context(open(temporary, "wb"))) for temporary in temporaries]
        outs = [Behind(out) for out in hashed]
        for out in outs:
            stack.callback(out.close)  # closed, its writes done, before the files are
        for dialect, out in zip(dialects, outs):
            out.write(dialect.header().encode())
        _write_nodes(connection, [d.node(xml_text("id"), node_attributes) for d in dialects], outs, sort_bytes)
        for dialect, out in zip(dialects, outs):
            out.write(dialect.between.encode())
        _write_edges(connection, dialects, outs, sort_bytes)
        for dialect, out in zip(dialects, outs):
            out.write(dialect.footer.encode())
    for temporary, (_, path) in zip(temporaries, targets):
        temporary.replace(path)
    return {path: out.sha256.hexdigest() for (_, path), out in zip(targets, hashed)}
