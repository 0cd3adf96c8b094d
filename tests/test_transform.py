"""The columnar build (`kg.columns` flattening + `kg.transform` SQL, in DuckDB) against the per-record
functions it replaced (`model.from_record` with `rdf.work_lines`, `graph.work_elements` and
`tables.work_rows`), on the real records, the synthetic world (merged ids, feed facts) and a generated
benchmark corpus: the same triples, the same nodes with the same settled attributes in the same order, the
same edges in the same order, the same table rows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conftest import PAGES, REAL, WORLD
from kg import columns, transform
from kg.enrich import Enricher
from kg.export import feed_facts, stream_works, table_rows
from kg.feeds import read_inputs
from kg.graph import merge_node, work_elements
from kg.rdf import work_lines
from kg.sources.local import Snapshot
from kg.store import FULL, Store
from kg.tables import SCHEMAS


def real_store(path: Path) -> Path:
    with gzip.open(REAL / "works.jsonl.gz", "rt", encoding="utf-8") as handle, Store(path) as store:
        store.save_works([json.loads(line) for line in handle], "reference", FULL)
    return path


def world_store(path: Path) -> Path:
    with Store(path) as store:
        Enricher(Snapshot(WORLD), store).run(read_inputs([str(p) for p in PAGES], year=2025).papers)
    return path


def generated_store(path: Path) -> Path:
    from bench.generate import make_store

    return make_store(path, 400, references_per_work=12, feed=20)


CORPORA = {"real": real_store, "world": world_store, "generated": generated_store}


def per_record(store_path: Path) -> dict:
    """What the per-record functions give, assembled as the previous `kg build` assembled them."""
    with Store(store_path, read_only=True) as store:
        works = list(stream_works(store))
    triples = {line for work in works for line in work_lines(work)}
    complete, partial, seen_edges, edges = [], {}, set(), []
    for work in works:
        nodes, work_edges = work_elements(work)
        for node in nodes:
            if node.complete:
                complete.append((node.id, node.attributes))
            else:
                partial[node.id] = merge_node(partial.get(node.id), node)
        for edge in work_edges:
            if work.id not in (edge.source, edge.target):  # affiliations repeat across works: kept once
                if (edge.source, edge.target, edge.relation) in seen_edges:
                    continue
                seen_edges.add((edge.source, edge.target, edge.relation))
            edges.append((edge.source, edge.target, edge.attributes))
    hydrated = {node_id for node_id, _ in complete}
    rows = table_rows(works)
    return {"triples": triples, "nodes": complete + [(i, partial[i]) for i in sorted(partial.keys() - hydrated)],
            "edges": edges, "tables": rows}


def columnar(store_path: Path, scratch: Path) -> dict:
    """The same, from the columnar transform."""
    with Store(store_path, read_only=True) as store:
        connection = columns.connect(scratch)
        columns.load_records(connection, store.work_texts(), store.aliases(),
                             feed_facts(store.feed_papers(), store.resolutions()), batch_size=250)
    lines = connection.sql(transform.triples(transform.DUCKDB)).fetchall()
    nodes = connection.sql(f"SELECT * FROM ({transform.nodes(transform.DUCKDB)}) ORDER BY {transform.NODE_ORDER}")
    node_rows = nodes.fetchall()
    attributes = transform.NODE_COLUMNS[1:]
    edges = connection.sql(f"SELECT * FROM ({transform.edges(transform.DUCKDB)}) ORDER BY {transform.EDGE_ORDER}")
    edge_columns = edges.columns
    edge_rows = [dict(zip(edge_columns, row)) for row in edges.fetchall()]
    result = {
        "lines": [line for (line,) in lines],
        "nodes": [(row[0], {k: v for k, v in zip(attributes, row[1:]) if v is not None}) for row in node_rows],
        "edges": [(e["source"], e["target"], {name: e[column] for name, column in transform.EDGE_COLUMNS.items()
                                              if e[column] is not None}) for e in edge_rows],
        "tables": {name: connection.sql(query).to_arrow_table().cast(SCHEMAS[name]).to_pylist()
                   for name, query in transform.TABLES.items()},
    }
    connection.close()
    return result


@pytest.fixture(scope="module", params=sorted(CORPORA))
def both(request, tmp_path_factory) -> tuple[dict, dict]:
    folder = tmp_path_factory.mktemp(request.param)
    store = CORPORA[request.param](folder / "store.sqlite")
    return per_record(store), columnar(store, folder)


def test_the_same_triples(both):
    expected, got = both
    assert len(got["lines"]) >= len(expected["triples"]) > 1000  # shared entities repeat before the sort
    assert set(got["lines"]) == expected["triples"]


def test_the_same_nodes_in_the_same_order(both):
    expected, got = both
    assert got["nodes"] == expected["nodes"]
    assert {attributes["kind"] for _, attributes in got["nodes"]} >= {"work", "author", "topic"}


def test_the_same_edges_in_the_same_order(both):
    expected, got = both
    assert got["edges"] == expected["edges"]


def test_the_same_table_rows(both):
    expected, got = both
    for name in SCHEMAS:
        assert got["tables"][name] == expected["tables"][name], name
    assert got["tables"]["works"] and got["tables"]["citations"]


def one_record_store(path: Path, record: dict, aliases: dict[str, str] | None = None) -> Path:
    with Store(path) as store:
        store.save_works([record], "reference", FULL, aliases=aliases)
    return path


AWKWARD = {
    "id": "https://openalex.org/W1", "display_name": 'A "quoted" \\ title\twith\x01control\nand é ✓ 🧪',
    "title": "", "publication_year": 2024, "doi": "  HTTPS://DOI.ORG/10.1/ABC ", "cited_by_count": 0,
    "abstract_inverted_index": {"first": [0], "second": [1], "overwritten": [2], "later": [2], "": [3]},
    "referenced_works": ["https://openalex.org/W9", "https://openalex.org/w8", "https://openalex.org/W9"],
    "authorships": [
        {"author": {"id": "", "display_name": "no id: skipped, but counted"}},
        {"author": {"id": "https://openalex.org/A1", "display_name": "Ann <&> Author",
                    "orcid": "https://orcid.org/0000-0001/"},
         "institutions": [{"id": "https://openalex.org/I1", "ror": "https://ror.org/01x/", "country_code": "FR"},
                          {"id": "", "display_name": "no id"}],
         "raw_affiliation_string": "Lab, Paris", "is_corresponding": False},
        {"author": {"id": "https://openalex.org/A1"}, "raw_affiliation_strings": ["X", "Y"]}],
    "topics": [{"id": "https://openalex.org/T2", "display_name": "Two"}, {"id": None}],
    "primary_topic": {"id": "https://openalex.org/T3", "display_name": "Three"},
}
"""One record with the cases the rules spell out: an empty title (the display name is used), escapes,
a DOI in another form, a shared abstract place (the later word wins), duplicate and lower-case references,
an authorship without author (skipped but counted), an author twice, partial institutions, a primary topic
not among the topics."""


def test_an_awkward_record_comes_out_as_the_per_record_functions_say(tmp_path):
    store = one_record_store(tmp_path / "store.sqlite", AWKWARD, aliases={"https://openalex.org/W9":
                                                                           "https://openalex.org/W8"})
    expected, got = per_record(store), columnar(store, tmp_path)
    assert set(got["lines"]) == expected["triples"]
    assert (got["nodes"], got["edges"], got["tables"]) == (expected["nodes"], expected["edges"], expected["tables"])
    assert got["tables"]["citations"] == [{"citing_id": "https://openalex.org/W1", "cited_id": "https://openalex.org/W8"}]
    assert got["tables"]["works"][0]["abstract"] == "first second later "  # the empty word keeps its place
    assert got["tables"]["authorships"][0]["position"] == 2
    assert any('\\"quoted\\" \\\\ title\\twith\\u0001control\\nand é ✓ 🧪"' in line for line in got["lines"])


def test_the_transform_is_portable_sql():
    """The Spark dialect differs only in its two spellings; no backslash reaches either engine's parser."""
    for dialect in (transform.DUCKDB, transform.SPARK):
        text = transform.triples(dialect) + transform.nodes(dialect) + transform.edges(dialect)
        assert "\\" not in text
    spark = transform.triples(transform.SPARK)
    assert "rlike" in spark and "regexp_matches" not in spark
