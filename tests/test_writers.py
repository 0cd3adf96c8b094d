"""The export writers: the registry, the on-disk sort, and adding a format as one writer plus one registration."""

import json
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
    assert {w.file for w in writers.WRITERS} == {"kg.ttl", "kg.jsonld", "kg.graphml", "kg.gexf", "feed.bib", "feed.ris",
                                                 "feed.json"}
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


# -- reference managers: out, and back in ---------------------------------------------------------

def test_feed_works_round_trip_through_bibtex_ris_and_csl_json(demo_export, tmp_path):
    import bibtexparser
    import rispy
    from bibtexparser.middlewares import LatexDecodingMiddleware

    from kg.export import load
    from kg.feeds import read_inputs

    out = tmp_path / "export"
    build(demo_export / "kg-store.sqlite", out)
    feed = {w.id: w for w in load(demo_export / "kg-store.sqlite").works if w.feed}
    library = bibtexparser.parse_string((out / "feed.bib").read_text(), append_middleware=[LatexDecodingMiddleware()])
    assert not library.failed_blocks and len(library.entries) == len(feed) == 53
    for entry in library.entries:
        work = feed[entry["url"]]
        doi = entry.fields_dict["doi"].value if "doi" in entry.fields_dict else None
        assert entry["title"] == work.title and doi == work.doi
        assert entry["eprint"] == work.feed.arxiv_id
    ris = rispy.loads((out / "feed.ris").read_text())
    csl = json.loads((out / "feed.json").read_text())
    assert {r["id"] for r in ris} == {i["id"] for i in csl} == {e.key for e in library.entries}
    for name in ("feed.bib", "feed.ris", "feed.json"):  # kg reads its own files back as feeds
        papers = read_inputs([str(out / name)]).papers
        assert {p.arxiv_id for p in papers} == {w.feed.arxiv_id for w in feed.values()}, name


def test_citation_keys_are_stable_and_latex_is_escaped(demo_export, tmp_path):
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    from kg.model import from_record
    from kg.writers.citations import citation_keys, write_bibtex

    hostile = 'Costs & 100% of $x_1$ #hash {braces} ~tilde^ back\\slash'
    works = [from_record({"id": f"https://openalex.org/W{n}", "title": hostile, "publication_year": 2024,
                          "authorships": [{"author": {"id": "https://openalex.org/A1", "display_name": "Ada Lovelace"}}]})
             for n in (2, 1)]
    keys = citation_keys(works)
    assert keys == {"https://openalex.org/W1": "lovelace2024costsa", "https://openalex.org/W2": "lovelace2024costsb"}
    assert citation_keys(list(reversed(works))) == keys
    write_bibtex(works, keys, tmp_path / "x.bib")
    entries = bibtexparser.parse_string((tmp_path / "x.bib").read_text(),
                                        append_middleware=[LatexDecodingMiddleware()]).entries
    assert [e["title"] for e in entries] == [hostile, hostile]
