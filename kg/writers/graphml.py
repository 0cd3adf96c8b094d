"""GraphML (networkx, Gephi, yEd, Cytoscape read it)."""

from __future__ import annotations

from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, Edge
from kg.writers.base import GraphDialect
from kg.writers.xml import DECLARATION, KINDS, XML_TYPES, xml

NODE_KEYS = {name: f"n{i}" for i, name in enumerate(NODE_ATTRIBUTES)}
EDGE_KEYS = {name: f"e{i}" for i, name in enumerate(EDGE_ATTRIBUTES)}


def header() -> str:
    keys = "".join(f'  <key id="{(NODE_KEYS if kind == "node" else EDGE_KEYS)[name]}" for="{kind}" '
                   f'attr.name="{name}" attr.type="{XML_TYPES[python_type]}" />\n'
                   for kind, attributes in KINDS for name, python_type in attributes.items())
    return (DECLARATION + '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n' + keys
            + '  <graph edgedefault="directed">\n')


def node(node_id: str, attributes: dict) -> str:
    data = "".join(f'<data key="{NODE_KEYS[k]}">{xml(v)}</data>' for k, v in attributes.items())
    return f'    <node id="{xml(node_id)}">{data}</node>\n'


def edge(_number: int, item: Edge) -> str:
    data = "".join(f'<data key="{EDGE_KEYS[k]}">{xml(v)}</data>' for k, v in item.attributes.items())
    return f'    <edge source="{xml(item.source)}" target="{xml(item.target)}" id="{item.relation}">{data}</edge>\n'


WRITER = GraphDialect("graphml", "kg.graphml", header, node, edge, "", "  </graph>\n</graphml>\n")
