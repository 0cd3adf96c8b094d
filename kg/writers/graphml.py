"""GraphML (networkx, Gephi, yEd, Cytoscape read it)."""

from __future__ import annotations

from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES
from kg.sqltext import joined
from kg.writers.base import GraphDialect
from kg.writers.xml import DECLARATION, KINDS, XML_TYPES, optional

NODE_KEYS = {name: f"n{i}" for i, name in enumerate(NODE_ATTRIBUTES)}
EDGE_KEYS = {name: f"e{i}" for i, name in enumerate(EDGE_ATTRIBUTES)}


def header() -> str:
    keys = "".join(f'  <key id="{(NODE_KEYS if kind == "node" else EDGE_KEYS)[name]}" for="{kind}" '
                   f'attr.name="{name}" attr.type="{XML_TYPES[python_type]}" />\n'
                   for kind, attributes in KINDS for name, python_type in attributes.items())
    return (DECLARATION + '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n' + keys
            + '  <graph edgedefault="directed">\n')


def _data(keys: dict[str, str], attributes: dict[str, str]) -> list[str]:
    return [optional(f"'<data key=\"{keys[name]}\">'", value, "'</data>'") for name, value in attributes.items()]


def node(node_id: str, attributes: dict[str, str]) -> str:
    return joined("'    <node id=\"'", node_id, "'\">'", *_data(NODE_KEYS, attributes), "'</node>'", "chr(10)")


def edge(_number: str, source: str, target: str, relation: str, attributes: dict[str, str]) -> str:
    return joined("'    <edge source=\"'", source, "'\" target=\"'", target, "'\" id=\"'", relation, "'\">'",
                *_data(EDGE_KEYS, attributes), "'</edge>'", "chr(10)")


WRITER = GraphDialect("graphml", "kg.graphml", header, node, edge, "", "  </graph>\n</graphml>\n")
