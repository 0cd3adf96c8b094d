"""Build and export: counts reconcile across forms, files round-trip, output is deterministic."""

import errno
import json
import threading
from pathlib import Path

import duckdb
import networkx as nx
import pandas as pd
import pytest
from pyshacl import validate
from rdflib import RDF, XSD, Graph, Literal

from conftest import PAGES, WORLD
from kg.enrich import Enricher
from kg.errors import BuildError, KgError
from kg.export import build, load
from kg.feeds import read_inputs
from kg.ids import full_id
from kg.rdf import CITO, SOA, THREAD_BASE
from kg.sources.local import Snapshot
from kg.store import Store

SHAPES = Path(__file__).parent.parent / "kg" / "shapes" / "kg-shapes.ttl"


@pytest.fixture(scope="module")
def world_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("world") / "store.sqlite"
    with Store(path) as store:
        Enricher(Snapshot(WORLD), store).run(read_inputs([str(p) for p in PAGES], year=2025).papers)
    return path


@pytest.fixture(scope="module")
def world_export(world_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    manifest = build(world_store, out)
    return out, manifest


def test_counts_reconcile_across_forms(world_store, world_export):
    out, manifest = world_export
    with Store(world_store) as store:
        records = list(store.works())
        aliases = store.aliases()
    authorships = sum(1 for r in records for a in r.get("authorships") or [] if (a.get("author") or {}).get("id"))
    references = sum(len({aliases.get(full_id(x), full_id(x)) for x in r.get("referenced_works") or []}) for r in records)
    rdf = Graph().parse(out / "kg.nt", format="nt")
    assert manifest.counts["edges_authored"] == authorships
    assert len(set(rdf.subjects(RDF.type, SOA.Authorship))) == authorships
    assert manifest.counts["edges_cites"] == references == len(list(rdf.triples((None, CITO.cites, None))))
    tables = {name: pd.read_parquet(out / "tables" / f"{name}.parquet") for name in ("authorships", "citations")}
    assert len(tables["authorships"]) == authorships and len(tables["citations"]) == references


def test_turtle_ntriples_jsonld_parse_to_the_same_graph(world_export):
    out, _ = world_export
    nt = set(Graph().parse(out / "kg.nt", format="nt"))
    assert set(Graph().parse(out / "kg.ttl", format="turtle")) == nt
    assert set(Graph().parse(out / "kg.jsonld", format="json-ld")) == nt


def test_graphml_and_gexf_load_back(world_export):
    out, manifest = world_export
    nodes = sum(v for k, v in manifest.counts.items() if k.startswith("nodes_"))
    edges = sum(v for k, v in manifest.counts.items() if k.startswith("edges_"))
    for graph in (nx.read_graphml(out / "kg.graphml"), nx.read_gexf(out / "kg.gexf")):
        assert graph.number_of_nodes() == nodes and graph.number_of_edges() == edges


def test_export_is_shacl_valid(world_export):
    out, _ = world_export
    conforms, _, report = validate(Graph().parse(out / "kg.nt", format="nt"),
                                   shacl_graph=Graph().parse(SHAPES, format="turtle"))
    assert conforms, report


def test_shacl_shapes_catch_a_broken_export(world_export):
    out, _ = world_export
    graph = Graph().parse(out / "kg.nt", format="nt")
    authorship = next(graph.subjects(RDF.type, SOA.Authorship))
    graph.remove((authorship, SOA.hasAuthor, None))
    conforms, _, _ = validate(graph, shacl_graph=Graph().parse(SHAPES, format="turtle"))
    assert not conforms


def test_same_store_gives_byte_identical_files(world_store, world_export, tmp_path):
    """The second build reads the records' flat columns kept beside the store by the first: same bytes."""
    from kg.columns import folder_beside

    out, manifest = world_export
    assert (folder_beside(world_store) / "works.parquet").exists()
    again = build(world_store, tmp_path)
    assert again == manifest
    for name in manifest.files:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_python_api_returns_graph_objects(world_store):
    kg = load(world_store)
    assert isinstance(kg.graph, nx.MultiDiGraph) and isinstance(kg.rdf, Graph)
    assert set(kg.tables) >= {"works", "authors", "institutions", "sources", "topics", "authorships", "citations"}
    feed = kg.tables["works"][kg.tables["works"].is_feed]
    assert len(feed) == 132  # every feed work that the synthetic world holds


def test_files_hold_the_same_graph_as_the_python_api(world_store, world_export):
    out, manifest = world_export
    kg = load(world_store)
    plain = {(s, p, Literal(str(o)) if isinstance(o, Literal) and o.datatype == XSD.string else o) for s, p, o in kg.rdf}
    from_file = {t for t in Graph().parse(out / "kg.nt", format="nt") if not t[0].startswith(THREAD_BASE)}
    assert from_file == plain  # Oxigraph types plain literals as xsd:string; threads come from the export tables
    graphml = nx.read_graphml(out / "kg.graphml")
    assert set(graphml.nodes) == set(kg.graph.nodes)
    work = next(n for n, d in kg.graph.nodes(data=True) if d.get("feed"))
    assert graphml.nodes[work] == kg.graph.nodes[work]
    for name, frame in kg.tables.items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / "tables" / f"{name}.parquet"), frame, check_dtype=False)


def test_interrupted_build_leaves_the_previous_export_whole(world_store, world_export, tmp_path, monkeypatch):
    from kg import export
    out = tmp_path / "export"
    first = build(world_store, out)

    def interrupted(*args, **kwargs):  # Ctrl-C while the graph files are being written
        raise KeyboardInterrupt
    monkeypatch.setattr(export, "write_graphs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(world_store, out)
    assert json.loads((out / "manifest.json").read_text()) == first.to_json()
    assert not list(out.glob(".kg-build-*")) and not list(out.rglob("*.tmp"))


def test_a_build_stopped_while_the_graph_files_are_written_beside_it_stops_them_too(world_store, tmp_path,
                                                                                 monkeypatch):
    """The graph files are written in a thread beside the RDF files; Ctrl-C in the main thread interrupts the
    thread's query rather than waiting for it."""
    from kg import export
    out = tmp_path / "export"
    first = build(world_store, out)
    started, seen = threading.Event(), []

    def endless_graph_files(cursor, targets):  # a query that would run for many minutes
        started.set()
        try:
            cursor.execute("SELECT sum(hash(i)) FROM range(1000000000000) t(i)").fetchall()
        except duckdb.InterruptException as error:
            seen.append(error)
            raise

    def interrupted(*args, **kwargs):  # Ctrl-C while kg.nt is written
        started.wait(30)
        raise KeyboardInterrupt
    monkeypatch.setattr(export, "write_graphs", endless_graph_files)
    monkeypatch.setattr(export, "write_sorted_lines", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(world_store, out)
    assert seen, "the graph files' query was not interrupted"
    assert json.loads((out / "manifest.json").read_text()) == first.to_json()
    assert not list(out.glob(".kg-build-*")) and not list(out.rglob("*.tmp"))


def test_a_full_disk_stops_the_build_with_the_folder_named(world_store, tmp_path, monkeypatch):
    from kg import export
    out = tmp_path / "export"
    first = build(world_store, out)

    def disk_full(*args, **kwargs):  # what a write to a full disk raises
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(export, "write_graphs", disk_full)
    with pytest.raises(BuildError, match=f"the disk holding {out} is full; {out} is as it was"):
        build(world_store, out)
    assert json.loads((out / "manifest.json").read_text()) == first.to_json()


def test_python_api_accepts_a_plain_string_path(world_store):
    assert load(str(world_store)).tables["works"].shape == load(world_store).tables["works"].shape


def test_only_the_formats_asked_for_are_written_and_they_are_the_same_bytes(world_store, world_export, tmp_path):
    out, manifest = world_export
    some = build(world_store, tmp_path, formats=["ttl", "graphml", "nt", "bibtex"])
    graph_files = {"kg.ttl", "kg.jsonld", "kg.graphml", "kg.gexf", "feed.bib", "feed.ris", "feed.json"}
    assert set(manifest.files) - set(some.files) == {"kg.jsonld", "kg.gexf", "feed.ris", "feed.json"}
    assert set(some.files) - set(manifest.files) == set()
    assert not [p.name for p in tmp_path.iterdir() if p.name in graph_files - set(some.files)]
    for name in some.files:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes() or name == "manifest.json", name
    assert some.counts == manifest.counts


def test_an_unknown_format_is_named_with_the_known_ones(world_store, tmp_path):
    with pytest.raises(KgError, match=r"--formats: no export writer named 'rdfxml'; known: turtle, json-ld"):
        build(world_store, tmp_path, formats=["ttl", "rdfxml"])
    assert not (tmp_path / "kg.nt").exists()
