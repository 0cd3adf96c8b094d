"""GEXF 1.2 (Gephi's own format)."""

from __future__ import annotations

from kg.graph import Edge
from kg.writers.base import GraphDialect
from kg.writers.xml import DECLARATION, KINDS, XML_TYPES, xml


def header() -> str:
    declarations = "".join(
        f'    <attributes class="{kind}" mode="static">\n'
        + "".join(f'      <attribute id="{name}" title="{name}" type="{XML_TYPES[python_type]}" />\n'
                  for name, python_type in attributes.items()) + "    </attributes>\n"
        for kind, attributes in KINDS)
    return (DECLARATION + '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
            '  <graph defaultedgetype="directed" mode="static">\n' + declarations + "    <nodes>\n")


def node(node_id: str, attributes: dict) -> str:
    values = "".join(f'<attvalue for="{k}" value="{xml(v)}" />' for k, v in attributes.items())
    label = xml(attributes.get("label", node_id))
    return f'      <node id="{xml(node_id)}" label="{label}"><attvalues>{values}</attvalues></node>\n'


def edge(number: int, item: Edge) -> str:
    values = "".join(f'<attvalue for="{k}" value="{xml(v)}" />' for k, v in item.attributes.items())
    return (f'      <edge id="{number}" source="{xml(item.source)}" target="{xml(item.target)}">'
            f"<attvalues>{values}</attvalues></edge>\n")


WRITER = GraphDialect("gexf", "kg.gexf", header, node, edge, "    </nodes>\n    <edges>\n",
                      "    </edges>\n  </graph>\n</gexf>\n")
