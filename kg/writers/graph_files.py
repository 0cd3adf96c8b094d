"""Graph files (every registered `GraphDialect`), written from the graph's node and edge tables.

The tables (`graph_nodes`, `graph_edges`, made from `kg.transform.nodes` and `edges`, with an `ordinal` and
a `number` giving the order to write them in) live in the build's DuckDB connection; each dialect's lines
are formatted there and streamed out (`write_column`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES
from kg.transform import EDGE_COLUMNS
from kg.writers.base import GraphDialect
from kg.writers.files import replace_atomically
from kg.writers.ntriples import write_column
from kg.writers.xml import xml_text


def counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Nodes per kind and edges per relation, as the manifest lists them."""
    nodes = connection.sql("SELECT kind, count(*) FROM graph_nodes GROUP BY kind ORDER BY kind").fetchall()
    edges = connection.sql("SELECT relation, count(*) FROM graph_edges GROUP BY relation ORDER BY relation").fetchall()
    return {**{f"nodes_{kind}": n for kind, n in nodes}, **{f"edges_{relation}": n for relation, n in edges}}


def write_graph(connection: duckdb.DuckDBPyConnection, dialect: GraphDialect, path: Path) -> Path:
    """Header, nodes (by ordinal), what comes between, edges (by number), footer."""
    node_line = dialect.node(xml_text("id"), {name: xml_text(f'"{name}"', kind) for name, kind in NODE_ATTRIBUTES.items()})
    edge_line = dialect.edge("number", xml_text("source"), xml_text("target"), "relation",
                             {name: xml_text(EDGE_COLUMNS[name], kind) for name, kind in EDGE_ATTRIBUTES.items()})
    temporary = replace_atomically(path)
    with open(temporary, "wb") as out:
        out.write(dialect.header().encode())
        write_column(connection, f"SELECT {node_line} FROM graph_nodes ORDER BY ordinal", out)
        out.write(dialect.between.encode())
        write_column(connection, f"SELECT {edge_line} FROM graph_edges ORDER BY number", out)
        out.write(dialect.footer.encode())
    temporary.replace(path)
    return path
