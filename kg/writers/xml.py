"""XML text shared by the XML graph formats, as SQL expressions over the graph's node and edge tables."""

from __future__ import annotations

from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES

XML_TYPES = {str: "string", int: "long", bool: "boolean"}
DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"
KINDS = (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES))

_FORBIDDEN = "[' || chr(0) || '-' || chr(8) || chr(11) || chr(12) || chr(14) || '-' || chr(31) || ']"
"""Control characters XML 1.0 does not allow (they become spaces), as a SQL regular expression."""
_SPECIAL = "[&<>' || chr(34) || chr(0) || '-' || chr(8) || chr(11) || chr(12) || chr(14) || '-' || chr(31) || ']"


def xml_text(expression: str, kind: type = str) -> str:
    """SQL for a value as XML content or a quoted attribute; NULL stays NULL (the attribute is left out).
    The replaces run only on the rare values that need them."""
    if kind is bool:
        return f"CASE WHEN {expression} THEN 'true' WHEN NOT {expression} THEN 'false' END"
    if kind is int:
        return f"CAST({expression} AS VARCHAR)"
    escaped = (f"replace(replace(replace(replace(regexp_replace({expression}, '{_FORBIDDEN}', ' ', 'g'), "
               "'&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(34), '&quot;')")
    return f"CASE WHEN regexp_matches({expression}, '{_SPECIAL}') THEN {escaped} ELSE {expression} END"


def optional(*parts: str) -> str:
    """SQL concatenating the parts, or '' when any is NULL (an attribute not set). A line joins these and the
    ids with `sqltext.joined`: ids are never NULL (`kg.columns` keeps no row without one)."""
    return f"coalesce({' || '.join(parts)}, '')"
