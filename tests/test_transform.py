"""The columnar transform (`kg.columns` flattening + `kg.transform` SQL, in DuckDB) against the output of
the per-record build it replaced, kept as a reference in tests/fixtures/reference-build (its README says how
it was made and when to update it): on the real records, the synthetic world (merged ids, feed facts), a
generated benchmark corpus and one awkward record, the same triples, the same nodes with the same settled
attributes in the same order, the same edges in the same order, the same table rows."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from conftest import FIXTURES, PAGES, REAL, WORLD, records_store, transformed
from kg import transform
from kg.enrich import Enricher
from kg.feeds import read_inputs
from kg.rdf import CITO, SOA
from kg.sources.local import Snapshot
from kg.store import FULL, Store
from kg.tables import SCHEMAS

REFERENCE = FIXTURES / "reference-build"
PARTS = ["triples", "nodes", "edges", *(f"tables/{name}" for name in SCHEMAS)]
WRITE = os.environ.get("KG_WRITE_REFERENCE") == "1"
"""Set when an intended change of the output is to become the reference (see the fixture's README)."""


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


def awkward_store(path: Path) -> Path:
    return records_store(path, [AWKWARD], aliases={"https://openalex.org/W9": "https://openalex.org/W8"})


CORPORA = {"real": real_store, "world": world_store, "generated": generated_store, "awkward": awkward_store}


def canonical(value: object) -> str:
    """The text a part is compared and digested as (dates as ISO text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def reference(name: str, got: dict[str, list]) -> tuple[dict[str, str], dict[str, object] | None]:
    """The reference's digest of every part, and the parts themselves where kept in full (small corpora)."""
    digests, full = REFERENCE / f"{name}.digests.json", REFERENCE / f"{name}.json{'' if name == 'awkward' else '.gz'}"
    if WRITE:
        digests.write_text(json.dumps({part: hashlib.sha256(canonical(got[part]).encode()).hexdigest()
                                       for part in PARTS}, indent=1, sort_keys=True) + "\n")
        if full.exists() and name == "awkward":
            full.write_text(json.dumps(json.loads(canonical(got)), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        elif full.exists():
            with gzip.GzipFile(full, "wb", mtime=0) as handle:
                handle.write(canonical(got).encode())
    kept = None
    if full.exists():
        kept = json.loads(gzip.decompress(full.read_bytes()) if full.suffix == ".gz" else full.read_text(encoding="utf-8"))
    return json.loads(digests.read_text()), kept


@pytest.fixture(scope="module", params=sorted(CORPORA))
def corpus(request, tmp_path_factory) -> tuple[str, dict[str, list]]:
    folder = tmp_path_factory.mktemp(request.param)
    return request.param, transformed(CORPORA[request.param](folder / "store.sqlite"), folder)


@pytest.mark.parametrize("part", PARTS)
def test_the_same_output_as_the_per_record_reference(corpus, part):
    name, got = corpus
    digests, kept = reference(name, got)
    if kept is not None:  # a readable difference first, where the reference is kept whole
        assert json.loads(canonical(got[part])) == kept[part]
    assert hashlib.sha256(canonical(got[part]).encode()).hexdigest() == digests[part], \
        f"{name}: {part} differs from the reference (tests/fixtures/reference-build/README.md)"


def test_the_corpora_cover_what_the_rules_are_about(corpus):
    """The reference would prove little on corpora without the cases: merged ids, feed works, every kind
    of node and relation, an entity seen by several works."""
    name, got = corpus
    kinds = {attributes["kind"] for _, attributes in got["nodes"]}
    relations = {attributes["relation"] for *_, attributes in got["edges"]}
    assert kinds >= {"work", "author", "topic"} and relations >= {"cites", "authored", "has_topic"}
    if name != "awkward":
        assert len(got["triples"]) > 1000 and kinds == {"work", "author", "institution", "source", "topic"}
    if name in ("world", "generated"):
        assert any(row["is_feed"] for row in got["tables/works"])


def test_an_awkward_record_keeps_its_edge_cases(tmp_path):
    got = transformed(awkward_store(tmp_path / "store.sqlite"), tmp_path)
    assert got["tables/citations"] == [{"citing_id": "https://openalex.org/W1", "cited_id": "https://openalex.org/W8"}]
    assert got["tables/works"][0]["abstract"] == "first second later "  # the empty word keeps its place
    assert got["tables/authorships"][0]["position"] == 2
    assert any('\\"quoted\\" \\\\ title\\twith\\u0001control\\nand é ✓ 🧪"' in line for line in got["triples"])


def test_the_triples_parse_as_n_triples(corpus):
    name, got = corpus
    assert len(Graph().parse(data="".join(got["triples"]), format="nt")) == len(got["triples"])


HOSTILE = 'a "quoted"\n\\ title\twith\r<tags> & 💡 \x01 \u2028'


def triples_of(records: list[dict], tmp_path: Path) -> Graph:
    return Graph().parse(data="".join(transformed(records_store(tmp_path / "store.sqlite", records), tmp_path)["triples"]),
                         format="nt")


def test_the_triples_use_semopenalex_terms_and_keep_any_text(tmp_path):
    record = {"id": "https://openalex.org/W1", "title": HOSTILE, "publication_year": 2024,
              "doi": "https://doi.org/10.1/X", "referenced_works": ["https://openalex.org/W2"],
              "abstract_inverted_index": {"a\tb": [0]},
              "authorships": [{"author": {"id": "https://openalex.org/A1", "display_name": "Ada"}, "institutions": []}]}
    graph = triples_of([record], tmp_path)
    w = URIRef("https://semopenalex.org/work/W1")
    assert (w, CITO.cites, URIRef("https://semopenalex.org/work/W2")) in graph
    assert (w, DCTERMS.title, Literal(HOSTILE)) in graph and (w, DCTERMS.abstract, Literal("a\tb")) in graph
    assert len(list(graph.objects(w, SOA.hasAuthorship))) == 1
    turtle = graph.serialize(format="turtle")
    assert Literal(HOSTILE) in set(Graph().parse(data=turtle, format="turtle").objects())


def test_typed_literals_are_escaped_like_plain_ones(tmp_path):
    record = {"id": "https://openalex.org/W1", "publication_date": '2024-01-01" . <urn:x> <urn:y> "z'}
    graph = triples_of([record], tmp_path)
    assert len(list(graph.subjects(URIRef("urn:x")))) == 0 and len(graph) >= 2


def test_sparse_records_make_works(tmp_path):
    records = [
        {"id": "https://openalex.org/W2"},
        {"id": "https://openalex.org/W3", "title": "No source", "primary_location": {"source": None}, "authorships": []},
        {"id": "https://openalex.org/W4", "title": "Truncated", "is_authors_truncated": True,
         "authorships": [{"author": {"id": f"https://openalex.org/A{i}", "display_name": f"A {i}"}} for i in range(100)]},
    ]
    graph = triples_of(records, tmp_path)
    assert {s for s in graph.subjects(RDF.type, SOA.Work)} == {URIRef(f"https://semopenalex.org/work/W{n}") for n in (2, 3, 4)}
    assert len(list(graph.subjects(RDF.type, SOA.Author))) == 100


def test_the_transform_is_portable_sql():
    """The Spark dialect differs only in its two spellings; no backslash reaches either engine's parser."""
    for dialect in (transform.DUCKDB, transform.SPARK):
        text = transform.triples(dialect) + transform.nodes(dialect) + transform.edges(dialect)
        assert "\\" not in text
    spark = transform.triples(transform.SPARK)
    assert "rlike" in spark and "regexp_matches" not in spark
