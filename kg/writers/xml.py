"""XML text shared by the XML graph formats."""

from __future__ import annotations

from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES

XML_TYPES = {str: "string", int: "long", bool: "boolean"}
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                              **{chr(c): " " for c in range(0x20) if chr(c) not in "\t\n\r"}})
DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"
KINDS = (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES))


def xml(value: object) -> str:
    """Text for XML content or a quoted attribute (control characters XML forbids become spaces)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).translate(_XML_ESCAPES)
