"""Hostile input end to end: whatever a feed holds, kg reads what it can, says what it skipped, and every file it
writes parses (N-Triples, Turtle, JSON-LD, GraphML, GEXF, SVG, HTML)."""

import copy
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph

from conftest import HF_WORLD, WORLD, kg
from kg.errors import FeedError
from kg.feeds.hf_json import read_hf_json

HOSTILE = ['</script><script>alert("x")</script>', "[/] [bold]markup[/bold]", "NUL\x00ESC\x1b[31m\x0b\x0c",
           'quote " backslash \\ newline\n tab\t', "lone \ud800 surrogate", "💡 émoji ünïcode", "{{curly}} <b>&amp;</b>"]
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["id", "title", "summary", "upvotes", "publishedAt", "authors",
                                                  "submittedOnDailyAt", "organization"]), JSON_VALUES), max_size=5))
def test_any_json_values_in_a_papers_response_are_read_or_refused_with_a_message(papers):
    try:
        found, warnings = read_hf_json([{"paper": paper} for paper in papers], "random.json")
    except FeedError as error:
        assert str(error).startswith("random.json: ")
        return
    for paper in found:
        json.dumps(paper.to_json(), ensure_ascii=False).encode("utf-8")  # storable as it is
        assert paper.upvotes is None or (type(paper.upvotes) is int and paper.upvotes >= 0)
    assert all(str(w).startswith("random.json: item ") for w in warnings)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_feed_values_survive_the_whole_pipeline(tmp_path):
    items = [json.loads(line) for line in HF_WORLD.read_text().splitlines()[:12]]
    hostile = []
    for n, item in enumerate(items):
        item = copy.deepcopy(item)
        text = HOSTILE[n % len(HOSTILE)]
        item["paper"]["title"] = f"{item['paper']['title']} {text}" if n % 2 else text  # half still match
        item["paper"]["summary"] = text
        item["paper"]["upvotes"] = [True, -3, "7", 2.5, None, 10**30][n % 6]
        item["organization"] = {"fullname": text}
        if n == 0:
            item["paper"]["id"] = "2612.99999"  # known nowhere: the report lists it, hostile title and all
        hostile.append(item)
    feed = tmp_path / 'feed "odd" <name>.json'
    feed.write_text(json.dumps(hostile))
    out = tmp_path / "out"
    result = kg("run", feed, "--snapshot", WORLD, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "ignored" in result.stderr
    triples = Graph().parse(out / "kg.nt", format="nt")
    assert len(Graph().parse(out / "kg.ttl", format="turtle")) == len(triples)
    assert len(Graph().parse(out / "kg.jsonld", format="json-ld")) == len(triples)
    assert any('feed "odd" <name>.json' in str(o) for o in triples.objects())
    nx.read_graphml(out / "kg.graphml")
    nx.read_gexf(out / "kg.gexf")
    for svg in (out / "figures").glob("*.svg"):
        ET.parse(svg)
    page = _Collect()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    assert page.tags.count("script") == 3  # kg's own: the map's data, vis-network, the page code; no feed text
    assert any("</script>" in chunk for chunk in page.text)  # shown as text, never run


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["", "Daily Papers\n\nbyAK and the research community\n\n"]))
def test_any_text_is_read_or_refused_with_a_message(text, header):
    from kg.feeds import read_text

    try:
        papers, warnings = read_text(header + text, "random.txt", 2025)
    except FeedError as error:
        assert str(error).startswith("random.txt: ")
        return
    for paper in papers:
        json.dumps(paper.to_json(), ensure_ascii=False).encode("utf-8")
        assert paper.provenance and paper.provenance[0].source == "random.txt"
    assert all(w.source == "random.txt" for w in warnings)
