"""GEXF 1.2 (Gephi's own format)."""

from __future__ import annotations

from kg.sqltext import joined
from kg.writers.base import GraphDialect
from kg.writers.xml import DECLARATION, KINDS, XML_TYPES, optional


def header() -> str:
    declarations = "".join(
        f'    <attributes class="{kind}" mode="static">\n'
        + "".join(f'      <attribute id="{name}" title="{name}" type="{XML_TYPES[python_type]}" />\n'
                  for name, python_type in attributes.items()) + "    </attributes>\n"
        for kind, attributes in KINDS)
    return (DECLARATION + '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
            '  <graph defaultedgetype="directed" mode="static">\n' + declarations + "    <nodes>\n")


def _values(attributes: dict[str, str]) -> list[str]:
    return [optional(f"'<attvalue for=\"{name}\" value=\"'", value, "'\" />'") for name, value in attributes.items()]


def node(node_id: str, attributes: dict[str, str]) -> str:
    return joined("'      <node id=\"'", node_id, "'\" label=\"'", f"coalesce({attributes['label']}, {node_id})",
                "'\"><attvalues>'", *_values(attributes), "'</attvalues></node>'", "chr(10)")


def edge(number: str, source: str, target: str, _relation: str, attributes: dict[str, str]) -> str:
    return joined("'      <edge id=\"'", f"CAST({number} AS VARCHAR)", "'\" source=\"'", source,
                "'\" target=\"'", target, "'\"><attvalues>'", *_values(attributes),
                "'</attvalues></edge>'", "chr(10)")


WRITER = GraphDialect("gexf", "kg.gexf", header, node, edge, "    </nodes>\n    <edges>\n",
                      "    </edges>\n  </graph>\n</gexf>\n")
