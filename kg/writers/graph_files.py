"""Graph files (every registered `GraphDialect`), written from the graph's node and edge tables.

The tables (`graph_nodes`, `graph_edges`, made from `kg.transform.nodes` and `edges`) live in the build's
DuckDB connection; each dialect's lines are formatted there and streamed out, sorted range by range
(`kg.writers.lines`) into the order of `transform.NODE_ORDER` and `EDGE_ORDER`. Edges are numbered from 0 in
that order, counting on from range to range.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import duckdb

from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES
from kg.transform import EDGE_COLUMNS, EDGE_ORDER
from kg.writers.base import GraphDialect
from kg.writers.files import replace_atomically
from kg.writers.lines import SORT_BYTES, key_ranges, write_column
from kg.writers.xml import xml_text


def counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Nodes per kind and edges per relation, as the manifest lists them."""
    nodes = connection.sql("SELECT kind, count(*) FROM graph_nodes GROUP BY kind ORDER BY kind").fetchall()
    edges = connection.sql("SELECT relation, count(*) FROM graph_edges GROUP BY relation ORDER BY relation").fetchall()
    return {**{f"nodes_{kind}": n for kind, n in nodes}, **{f"edges_{relation}": n for relation, n in edges}}


NODE_WEIGHT = "64 + strlen(id) + 2 * coalesce(strlen(label), 0)"
EDGE_WEIGHT = "64 + strlen(source) + strlen(target)"
"""About what a row weighs in a sort (bytes), to size the ranges sorted at once."""


def _write_nodes(connection: duckdb.DuckDBPyConnection, line: str, out: BinaryIO, sort_bytes: int) -> None:
    """Works by their number, then the other nodes by id (`transform.NODE_ORDER`)."""
    for part, key in ((0, "number"), (1, "id")):
        for condition, params in key_ranges(connection, "graph_nodes", key, NODE_WEIGHT, sort_bytes,
                                            where=f"part = {part}"):
            write_column(connection, f"SELECT {line} FROM graph_nodes WHERE part = {part} AND {condition} "
                                     f"ORDER BY {key}", out, params)


def _write_edges(connection: duckdb.DuckDBPyConnection, dialect: GraphDialect, out: BinaryIO, sort_bytes: int) -> None:
    """Edges in `transform.EDGE_ORDER`, which begins with the work's number, numbered on across ranges."""
    attributes = {name: xml_text(EDGE_COLUMNS[name], kind) for name, kind in EDGE_ATTRIBUTES.items()}
    written = 0
    for condition, params in key_ranges(connection, "graph_edges", "work_no", EDGE_WEIGHT, sort_bytes):
        number = f"({written} + row_number() OVER (ORDER BY {EDGE_ORDER}) - 1)"
        line = dialect.edge(number, xml_text("source"), xml_text("target"), "relation", attributes)
        written += write_column(connection, f"SELECT {line} FROM graph_edges WHERE {condition} ORDER BY {EDGE_ORDER}",
                                out, params)


def write_graph(connection: duckdb.DuckDBPyConnection, dialect: GraphDialect, path: Path,
                sort_bytes: int = SORT_BYTES) -> Path:
    """Header, nodes, what comes between, edges, footer; `sort_bytes` bounds each sort (`lines.key_ranges`)."""
    node_line = dialect.node(xml_text("id"), {name: xml_text(f'"{name}"', kind) for name, kind in NODE_ATTRIBUTES.items()})
    temporary = replace_atomically(path)
    with open(temporary, "wb") as out:
        out.write(dialect.header().encode())
        _write_nodes(connection, node_line, out, sort_bytes)
        out.write(dialect.between.encode())
        _write_edges(connection, dialect, out, sort_bytes)
        out.write(dialect.footer.encode())
    temporary.replace(path)
    return path
