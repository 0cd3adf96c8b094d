"""Identifiers: parsing list items, normalising DOIs and OpenAlex ids, and telling filter-safe values apart."""

import pytest

from kg.ids import arxiv_id, bare_doi, filter_safe, full_id, is_openalex_key, parse_identifier, short_id


@pytest.mark.parametrize("line, expected", [
    ("2406.06484", ("arxiv", "2406.06484")),
    ("arXiv:2406.06484v2", ("arxiv", "2406.06484")),
    ("https://arxiv.org/abs/2406.06484v3", ("arxiv", "2406.06484")),
    ("https://arxiv.org/pdf/hep-th/9711200", ("arxiv", "hep-th/9711200")),
    ("10.1613/JAIR.1523", ("doi", "10.1613/jair.1523")),
    ("https://doi.org/10.1103/physrevb.50.17953", ("doi", "10.1103/physrevb.50.17953")),
    ("https://doi.org/10.48550/arXiv.2406.06484", ("arxiv", "2406.06484")),
    ("W2741809807", ("openalex", "W2741809807")),
    ("https://openalex.org/W2741809807", ("openalex", "W2741809807")),
    ("https://huggingface.co/papers/2406.06484", ("arxiv", "2406.06484")),
    ("Attention Is All You Need", None),
])
def test_list_identifiers(line, expected):
    assert parse_identifier(line) == expected


def test_openalex_ids_and_dois_have_one_form():
    assert short_id("https://openalex.org/w123") == "W123" and full_id("W123") == "https://openalex.org/W123"
    assert bare_doi("https://doi.org/10.1/ABC") == "10.1/abc" and bare_doi("doi:10.1/x") == "10.1/x"
    assert arxiv_id("arXiv:2406.06484v2") == "2406.06484" and arxiv_id(2406.06484) is None and arxiv_id("x") is None


@pytest.mark.parametrize("value, safe", [
    ("10.1613/jair.1523", True), ("W2741809807", True),
    ("10.9999/zzz,publication_year:1800", False), ("10.1/a|10.2/b", False), ("10.1/a:b", False),
    ("10.1/\u00e9", False), ("", False), (" 10.1/a", False),
])
def test_values_that_would_change_a_filter_are_not_filter_safe(value, safe):
    assert filter_safe(value) is safe


def test_openalex_keys_are_ascii_only():
    assert is_openalex_key("W123") and not is_openalex_key("W\u0be6") and not is_openalex_key("W12x")
