"""The export writers: the registry, the on-disk sort, and adding a format as one writer plus one registration."""

from pathlib import Path

import networkx as nx
import pytest

from kg import writers
from kg.export import build
from kg.graph import Edge
from kg.writers.ntriples import SortedLines


def test_external_sort_merges_runs_into_unique_sorted_lines(tmp_path):
    lines = [f"<s{n % 37}> <p> \"{n % 53}\" .\n" for n in range(500)]
    sorter = SortedLines(tmp_path, run_size=40)
    for start in range(0, len(lines), 25):
        sorter.add(lines[start:start + 25])
    assert len(sorter.runs) > 3
    assert list(sorter) == sorted(set(lines))


def test_writers_are_found_by_format_or_file_name():
    assert writers.writer("turtle") is writers.writer("kg.ttl")
    assert {w.file for w in writers.WRITERS} == {"kg.ttl", "kg.jsonld", "kg.graphml", "kg.gexf"}
    with pytest.raises(KeyError, match="known: turtle"):
        writers.writer("kg.docx")


# -- a toy format of each kind, as a user would add one ------------------------------------------

def write_triple_count(ntriples: Path, target: Path, prefixes: dict[str, str]) -> None:
    with open(ntriples, encoding="utf-8") as lines:
        target.write_text(f"{sum(1 for _ in lines)}\n", encoding="utf-8")


TRIPLE_COUNT = writers.RdfWriter("triple-count", "kg.count", write_triple_count)
EDGE_LIST = writers.GraphDialect(
    "edge-list", "kg.edges.tsv", header=lambda: "source\ttarget\trelation\n", node=lambda node_id, attributes: "",
    edge=lambda number, edge: f"{edge.source}\t{edge.target}\t{edge.relation}\n", between="", footer="")


def test_a_new_format_is_one_writer_and_one_registration(demo_export, tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "WRITERS", writers.WRITERS + (TRIPLE_COUNT, EDGE_LIST))  # the registration
    manifest = build(demo_export / "kg-store.sqlite", tmp_path)
    assert {"kg.count", "kg.edges.tsv"} <= set(manifest.files)
    assert int((tmp_path / "kg.count").read_text()) == manifest.counts["triples"]
    rows = (tmp_path / "kg.edges.tsv").read_text(encoding="utf-8").splitlines()[1:]
    graph = nx.read_graphml(tmp_path / "kg.graphml")
    assert len(rows) == graph.number_of_edges()
    assert sum(1 for row in rows if row.endswith("\tcites")) == manifest.counts["edges_cites"]


def test_graph_dialects_escape_what_xml_forbids():
    edge = Edge("https://openalex.org/W1", "https://openalex.org/A\x0b&<1>", "authored", {"position": 'a"b'})
    for dialect in (writers.writer("graphml"), writers.writer("gexf")):
        line = dialect.edge(0, edge)
        assert "\x0b" not in line and "&amp;&lt;1&gt;" in line and "a&quot;b" in line
