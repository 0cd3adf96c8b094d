"""The SQL expressions of `kg.sqltext` say in SQL what `kg.ids` and `kg.rdf.literal_term` say in Python."""

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import ids, sqltext
from kg.rdf import literal_term
from kg.transform import DUCKDB


def evaluate(expression: str, values: list[str]) -> list:
    """The expression over a column `v` holding the values, in DuckDB."""
    connection = duckdb.connect()
    connection.register("input", pa.table({"v": pa.array(values, pa.string())}))
    return [row[0] for row in connection.sql(f"SELECT {expression} FROM input").fetchall()]


TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F680, blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=30))
def test_nt_escape_is_literal_term(values):
    assert evaluate(f"chr(34) || {sqltext.nt_escape('v', DUCKDB.matches)} || chr(34)", values) == \
        [literal_term(v) for v in values]


def test_every_control_character_escapes_as_literal_term():
    values = [chr(c) + "x" for c in [*range(0x20), 0x7F]] + ['"', "\\", "é✓🧪", "\\u0041"]
    assert evaluate(f"chr(34) || {sqltext.nt_escape('v', DUCKDB.matches)} || chr(34)", values) == \
        [literal_term(v) for v in values]


IDS = ["https://openalex.org/W123", "https://openalex.org/w123", "W5", "w5/", "https://api.openalex.org/works/W9",
       "https://openalex.org/A1/", "https://openalex.org/T10537"]


def test_full_id_and_short_are_the_python_ones():
    assert evaluate(sqltext.full_id("v"), IDS) == [ids.full_id(v) for v in IDS]
    full = [ids.full_id(v) for v in IDS] + ["https://ror.org/05x2bcf33", "https://ror.org/05x2bcf33/"]
    assert evaluate(sqltext.short("v"), full) == [ids.last_segment(v) for v in full]


def test_bare_doi_is_the_python_one():
    dois = ["https://doi.org/10.1/ABC", " HTTP://DX.DOI.ORG/10.2/x ", "doi:10.3/y", "10.4/z",
            "https://doi.org/doi:10.5/w", "https://doiXorg/10.6/v", ""]
    assert evaluate(sqltext.bare_doi("v"), dois) == [ids.bare_doi(d) or None for d in dois]


def test_a_backslash_never_reaches_either_engine():
    with pytest.raises(ValueError, match="backslash"):
        sqltext.text("a\\b")
