"""The export writers: the registry, the on-disk sort, and adding a format as one writer plus one registration."""

import hashlib
import json

import networkx as nx
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from kg import columns, writers
from kg.export import build
from kg.writers.graph_files import write_graphs
from kg.writers.ntriples import write_sorted_lines


def test_sorted_lines_are_unique_and_in_code_point_order_as_python_sorts(tmp_path):
    """The engine sorts and deduplicates; the order must be Python's (code points), non-ASCII included, whether
    the lines are sorted at once or written range by range first."""
    starts = ["é", "z", "Z", "✓", "🧪", "a", "'q", "\\\\"]  # quotes, backslashes: split points are SQL literals
    lines = [f"<s{n % 37}> <p> \"{starts[n % 8]}{n % 53}\" .\n" for n in range(5000)]
    lines += lines[:700]  # repeats, as shared entities give
    connection = columns.connect(tmp_path)
    connection.register("some_lines", pa.table({"line": lines}))
    # one sort; a few ranges filtered from the stored lines; about thirty, written apart first
    for sort_bytes in (1 << 30, 40_000, 5_000):
        count, checksum = write_sorted_lines(connection, "SELECT line FROM some_lines", tmp_path / "out.nt", tmp_path,
                                             sort_bytes)
        assert not (tmp_path / "line-ranges").exists()
        assert (tmp_path / "out.nt").read_text(encoding="utf-8") == "".join(sorted(set(lines)))
        assert checksum == hashlib.sha256((tmp_path / "out.nt").read_bytes()).hexdigest()
        assert count == len(set(lines)) < len(lines)


HOSTILE = ['quote " and backslash \\ and tab \t', "new\nline\r", "bell \x07 del \x7f", "é ✓ 🧪 \u2028", "", "'single'"]


def hostile_lines() -> list[str]:
    """Sorted unique lines as kg writes them: several subjects and predicates, plain and typed literals,
    classes, every escape N-Triples has."""
    from kg.rdf import literal_term

    s, rdf_type = "https://semopenalex.org/work/", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    lines = []
    for n in range(12):
        subject = f"<{s}W{n}>"
        lines += [f"{subject} {rdf_type} <https://semopenalex.org/ontology/Work> .\n",
                  f"{subject} <http://purl.org/dc/terms/title> {literal_term(HOSTILE[n % len(HOSTILE)])} .\n",
                  f'{subject} <https://semopenalex.org/ontology/position> "{n}"^^<http://www.w3.org/2001/XMLSchema#integer> .\n',
                  f'{subject} <https://w3id.org/kg-feeds/ns#rank> "1.5"^^<http://example.org/dt/x-y> .\n',
                  *(f"{subject} <http://purl.org/spar/cito/cites> <{s}W{m}> .\n" for m in range(n % 4)),
                  f"{subject} <http://example.org/p/odd.name> <http://example.org/{n}> .\n"]
    return sorted(set(lines))


@pytest.mark.parametrize("batch", [1, 7, 10_000])
def test_turtle_and_json_ld_formatted_from_the_lines_are_the_same_graph(tmp_path, batch):
    """Whatever the batches (a subject's triples split across two, or one triple a batch), Turtle and JSON-LD
    parse back to the lines' triples, and JSON-LD is what Oxigraph's serializer writes (the same JSON; the
    bytes differ only where a control character is escaped, as N-Triples has it, or raw)."""
    import pyoxigraph as ox

    from kg.rdf import PREFIXES
    from kg.writers.rdf_files import RdfFiles

    lines = hostile_lines()
    prefixes = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    targets = [(writers.writer(name), tmp_path / writers.writer(name).file) for name in ("ttl", "jsonld")]
    with RdfFiles(targets, prefixes) as files:
        for start in range(0, len(lines), batch):
            files.add(pa.array(lines[start:start + batch], pa.large_string()))
        files.close()
    expected = set(ox.parse("".join(lines), format=ox.RdfFormat.N_TRIPLES))
    assert set(ox.parse(path=tmp_path / "kg.ttl", format=ox.RdfFormat.TURTLE)) == expected
    assert set(ox.parse(path=tmp_path / "kg.jsonld", format=ox.RdfFormat.JSON_LD)) == expected
    assert json.loads((tmp_path / "kg.jsonld").read_text(encoding="utf-8")) == json.loads(ox.serialize(
        ox.parse("".join(lines), format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.JSON_LD))
    turtle = (tmp_path / "kg.ttl").read_text(encoding="utf-8")
    assert "a soa:Work ;" in turtle and '"3"^^xsd:integer' in turtle and "<http://example.org/p/odd.name>" in turtle


def test_rdf_files_with_no_triples_and_kg_refuses_what_it_never_writes(tmp_path):
    from kg.writers.rdf_files import RdfFiles
    from kg.writers.triples import split

    targets = [(writers.writer(name), tmp_path / writers.writer(name).file) for name in ("ttl", "jsonld")]
    with RdfFiles(targets, {}) as files:
        files.close()
    assert (tmp_path / "kg.ttl").read_text().startswith("@prefix") is False and (tmp_path / "kg.jsonld").read_text() == "[]"
    with pytest.raises(ValueError, match="blank node"):
        split(pa.array(["_:b1 <p> <o> .\n"], pa.large_string()), None)
    with pytest.raises(ValueError, match="language-tagged"), RdfFiles(targets, {}) as files:
        files.add(pa.array(['<s> <p> "chat"@fr .\n'], pa.large_string()))
        files.close()
    assert not list(tmp_path.glob("*.tmp"))


def test_writers_are_found_by_format_or_file_name():
    assert writers.writer("turtle") is writers.writer("kg.ttl")
    assert {w.file for w in writers.WRITERS} == {"kg.ttl", "kg.jsonld", "kg.graphml", "kg.gexf", "feed.bib", "feed.ris",
                                                 "feed.json"}
    with pytest.raises(KeyError, match="known: turtle"):
        writers.writer("kg.docx")


# -- a toy format of each kind, as a user would add one ------------------------------------------

def subject_list(batch, prefixes) -> pa.Array:  # pieces are vectorised text, one per triple
    return pc.if_else(batch.new_subject, pc.binary_join_element_wise(batch.subject, pa.scalar("\n", pa.large_string()),
                                                                      pa.scalar("", pa.large_string())),
                      pa.scalar("", pa.large_string()))


SUBJECTS = writers.RdfWriter("subjects", "kg.subjects", header=lambda prefixes: "", pieces=subject_list,
                             footer=lambda empty: "")
EDGE_LIST = writers.GraphDialect(  # lines are SQL expressions over the node and edge tables
    "edge-list", "kg.edges.tsv", header=lambda: "source\ttarget\trelation\n", node=lambda node_id, attributes: "''",
    edge=lambda number, source, target, relation, attributes: f"{source} || chr(9) || {target} || chr(9) || {relation} "
                                                              "|| chr(10)", between="", footer="")


def test_a_new_format_is_one_writer_and_one_registration(demo_export, tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "WRITERS", writers.WRITERS + (SUBJECTS, EDGE_LIST))  # the registration
    manifest = build(demo_export / "kg-store.sqlite", tmp_path)
    assert {"kg.subjects", "kg.edges.tsv"} <= set(manifest.files)
    subjects = [line.split(" ", 1)[0] for line in (tmp_path / "kg.nt").read_text(encoding="utf-8").splitlines()]
    assert (tmp_path / "kg.subjects").read_text(encoding="utf-8").splitlines() == sorted(set(subjects))
    rows = (tmp_path / "kg.edges.tsv").read_text(encoding="utf-8").splitlines()[1:]
    graph = nx.read_graphml(tmp_path / "kg.graphml")
    assert len(rows) == graph.number_of_edges()
    assert sum(1 for row in rows if row.endswith("\tcites")) == manifest.counts["edges_cites"]


def test_graph_dialects_escape_what_xml_forbids(tmp_path):
    connection = columns.connect(tmp_path)
    connection.execute("CREATE TABLE graph_nodes AS SELECT 'https://openalex.org/A\x0b&<1>' AS id, 'author' AS kind, "
                       "'Ann \"A\" <&>' AS label, NULL AS title, NULL AS year, NULL AS doi, NULL AS cited_by_count, "
                       "NULL AS feed, NULL AS hydrated, NULL AS upvotes, NULL AS arxiv_id, 'Ann' AS name, NULL AS orcid, "
                       "NULL AS ror, NULL AS country, NULL AS source_type, 1 AS part, 0 AS number")
    connection.execute("CREATE TABLE graph_edges AS SELECT 'https://openalex.org/A\x0b&<1>' AS source, "
                       "'https://openalex.org/W1' AS target, 'authored' AS relation, 3 AS position, "
                       "NULL AS is_primary, 0 AS work_no, 1 AS part, 3 AS position_key, 0 AS rank")
    dialects = [writers.writer("graphml"), writers.writer("gexf")]
    write_graphs(connection, [(dialect, tmp_path / dialect.file) for dialect in dialects])
    for dialect in dialects:
        text = (tmp_path / dialect.file).read_text(encoding="utf-8")
        assert "\x0b" not in text and text.count("A &amp;&lt;1&gt;") == 2 and "Ann &quot;A&quot; &lt;&amp;&gt;" in text
    graph = nx.read_graphml(tmp_path / "kg.graphml")
    assert graph.nodes["https://openalex.org/A &<1>"] == {"kind": "author", "label": 'Ann "A" <&>', "name": "Ann"}
    assert list(graph.edges(data=True)) == [("https://openalex.org/A &<1>", "https://openalex.org/W1",
                                             {"relation": "authored", "position": 3, "id": "authored"})]



def test_graph_files_sorted_range_by_range_are_the_files_sorted_at_once(demo_export, tmp_path):
    """Large graphs are sorted in ranges of the sort key, edges numbered on from range to range; the files
    must not depend on where the ranges fall."""
    from kg import transform
    from kg.export import flat_tables
    from kg.store import Store
    from kg.writers.lines import key_ranges

    with Store(demo_export / "kg-store.sqlite", read_only=True) as store:
        connection, _, _ = flat_tables(store, tmp_path)
    connection.execute(f"CREATE TABLE graph_nodes AS {transform.nodes(transform.DUCKDB)}")
    connection.execute(f"CREATE TABLE graph_edges AS {transform.edges(transform.DUCKDB)}")
    small = 20_000
    assert len(key_ranges(connection, "graph_edges", "work_no", "64", small)) > 5
    assert len(key_ranges(connection, "graph_nodes", "id", "64", small, where="part = 1")) > 5
    dialects = [writers.writer("graphml"), writers.writer("gexf")]
    whole = write_graphs(connection, [(dialect, tmp_path / "whole" / dialect.file) for dialect in dialects])
    ranged = write_graphs(connection, [(dialect, tmp_path / "ranged" / dialect.file) for dialect in dialects],
                          sort_bytes=small)
    for dialect in dialects:
        assert (tmp_path / "ranged" / dialect.file).read_bytes() == (tmp_path / "whole" / dialect.file).read_bytes()
        assert ranged[tmp_path / "ranged" / dialect.file] == whole[tmp_path / "whole" / dialect.file] == \
            hashlib.sha256((tmp_path / "whole" / dialect.file).read_bytes()).hexdigest()
    graph = nx.read_gexf(tmp_path / "ranged" / "kg.gexf")
    numbers = sorted(int(number) for *_, number in graph.edges(data="id"))
    assert numbers == list(range(graph.number_of_edges()))
    assert graph.number_of_edges() == connection.sql("SELECT count(*) FROM graph_edges").fetchall()[0][0]

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
