"""SQL expressions both engines of the columnar build understand (DuckDB and Spark SQL).

The transform (`kg.transform`) is SQL text run unchanged by DuckDB in `kg build` and by Spark in
`kg snapshot build`. The two dialects differ in string literals (Spark reads a backslash as an escape,
DuckDB does not), so special characters are written as `chr(n)` and regular expressions avoid
backslashes. Everything here returns SQL text; nothing is executed.
"""

from __future__ import annotations

OPENALEX = "https://openalex.org/"


def text(value: str) -> str:
    """A SQL string literal of plain text (no backslashes: they mean different things to the two engines)."""
    if "\\" in value:
        raise ValueError(f"backslash in a SQL literal: {value!r}")
    return "'" + value.replace("'", "''") + "'"


def concat(*parts: str) -> str:
    return "(" + " || ".join(parts) + ")"


def joined(*parts: str) -> str:
    """The parts joined by one `concat` call, not a chain of `||` (DuckDB builds every intermediate string of a
    chain). The engines differ on NULL: Spark's `concat` (like `||`) is NULL when a part is, DuckDB's reads
    NULL as ''; callers pass parts that are never NULL where the result is used (`concat` keeps NULLs)."""
    return f"concat({', '.join(parts)})"


def nonempty(expression: str) -> str:
    """The value, or NULL when it is empty (Python's `value or None`)."""
    return f"CASE WHEN {expression} <> '' THEN {expression} END"


def last_segment(expression: str) -> str:
    """`kg.ids.last_segment`: the last path segment, trailing slashes ignored."""
    return f"regexp_extract({expression}, '([^/]*)/*$', 1)"


def full_id(expression: str) -> str:
    """`kg.ids.full_id`: any form of an OpenAlex id → https://openalex.org/W123."""
    return concat(text(OPENALEX), f"upper({last_segment(expression)})")


_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


def bare_doi(expression: str) -> str:
    """`kg.ids.bare_doi`: lower case, resolver prefixes removed in turn (one optional group each)."""
    prefixes = "".join(f"({prefix.replace('.', '[.]')})?" for prefix in _DOI_PREFIXES)
    return f"CASE WHEN {expression} <> '' THEN regexp_replace(lower(trim({expression})), '^{prefixes}', '') END"


def short(expression: str) -> str:
    """`kg.ids.last_segment` of an id already in full form (https://openalex.org/W123 → W123), without a
    regular expression when the id has the usual form."""
    return (f"CASE WHEN substr({expression}, 1, {len(OPENALEX)}) = {text(OPENALEX)} AND instr(substr({expression}, "
            f"{len(OPENALEX) + 1}), '/') = 0 THEN substr({expression}, {len(OPENALEX) + 1}) "
            f"ELSE {last_segment(expression)} END")


# N-Triples escaping, as `kg.rdf.literal_term`: ECHAR for the seven characters that have one (backslash
# first), UCHAR for every other control character.
_ECHARS = [(92, "chr(92) || chr(92)"), (34, "chr(92) || chr(34)"), (8, "chr(92) || 'b'"), (9, "chr(92) || 't'"),
           (10, "chr(92) || 'n'"), (12, "chr(92) || 'f'"), (13, "chr(92) || 'r'")]
_UCHARS = [(c, f"chr(92) || 'u{c:04X}'") for c in [*range(0x20), 0x7F] if c not in (8, 9, 10, 12, 13)]


def nt_escape(expression: str, matches: str) -> str:
    """A string escaped for an N-Triples literal; the replaces run only on the rare values that need them.
    `matches` is the dialect's regular-expression test (`regexp_matches` in DuckDB, `rlike` in Spark)."""
    chain = expression
    for code, replacement in _ECHARS + _UCHARS:
        chain = f"replace({chain}, chr({code}), {replacement})"
    pattern = "'[' || chr(0) || '-' || chr(31) || chr(127) || chr(34) || chr(92) || chr(92) || ']'"
    return f"CASE WHEN {matches.format(expression, pattern)} THEN {chain} ELSE {expression} END"

