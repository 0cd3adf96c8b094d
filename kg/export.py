"""Build the knowledge graph from the store and write it in the formats other tools open.

Same store in, byte-identical files out: works are read in id order, RDF is
written from sorted N-Triples, tables are sorted, and the manifest holds no
timestamps. `load` is the notebook entry point and returns the same objects
the files are made from.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pandas as pd
from rdflib import Graph

from kg import __version__
from kg.feeds import FeedPaper
from kg.graph import build_graph
from kg.model import FeedFacts, Work, from_record
from kg.rdf import PREFIXES, graph_from_lines, ntriples_lines, work_triples
from kg.resolve import Resolution
from kg.store import Store

TABLES = ["works", "authors", "institutions", "sources", "topics", "authorships", "citations"]


@dataclass
class KnowledgeGraph:
    works: list[Work]
    graph: nx.MultiDiGraph
    rdf: Graph
    tables: dict[str, pd.DataFrame]
    ntriples: list[str]


def feed_facts(papers: list[FeedPaper], resolutions: dict[str, Resolution]) -> dict[str, FeedFacts]:
    """Feed facts per matched work; a work matched by several feed papers gets them all."""
    facts: dict[str, FeedFacts] = {}
    for paper in papers:
        resolution = resolutions.get(paper.key)
        if not resolution or not resolution.work_id:
            continue
        known = facts.get(resolution.work_id)
        feeds = tuple(sorted({p.source for p in paper.provenance} | set(known.feeds if known else ())))
        facts[resolution.work_id] = FeedFacts(
            feeds=feeds,
            feed_date=min(filter(None, [paper.feed_date, known.feed_date if known else None]), default=None),
            upvotes=max(filter(lambda v: v is not None, [paper.upvotes, known.upvotes if known else None]), default=None),
            organization=paper.organization or (known.organization if known else None),
            arxiv_id=paper.arxiv_id or (known.arxiv_id if known else None),
            matched_by=resolution.method,
            match_score=resolution.score,
        )
    return facts


def load_works(store: Store) -> list[Work]:
    facts = feed_facts(store.feed_papers(), store.resolutions())
    aliases = store.aliases()
    return [from_record(record, aliases, facts.get(record["id"])) for record in store.works()]


def _join(values) -> str | None:
    values = [v for v in values if v]
    return ";".join(values) if values else None


def tables_of(works: list[Work]) -> dict[str, pd.DataFrame]:
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    seen: dict[str, dict[str, dict]] = {"authors": {}, "institutions": {}, "sources": {}, "topics": {}}
    for work in works:
        rows["works"].append({
            "id": work.id, "title": work.title, "year": work.year, "date": work.date, "doi": work.doi,
            "type": work.type, "cited_by_count": work.cited_by_count,
            "source_id": work.source.id if work.source else None,
            "primary_topic_id": work.primary_topic.id if work.primary_topic else None,
            "is_feed": work.feed is not None, "feeds": _join(work.feed.feeds) if work.feed else None,
            "upvotes": work.feed.upvotes if work.feed else None,
            "arxiv_id": work.feed.arxiv_id if work.feed else None,
            "matched_by": work.feed.matched_by if work.feed else None,
            "match_score": work.feed.match_score if work.feed else None,
            "reference_count": len(work.references)})
        rows["citations"].extend({"citing_id": work.id, "cited_id": ref} for ref in work.references)
        if work.source:
            seen["sources"].setdefault(work.source.id, {"id": work.source.id, "name": work.source.name,
                                                        "type": work.source.type, "issn_l": work.source.issn_l})
        for topic in work.topics + ([work.primary_topic] if work.primary_topic else []):
            seen["topics"].setdefault(topic.id, {"id": topic.id, "name": topic.name})
        for a in work.authorships:
            seen["authors"].setdefault(a.author.id, {"id": a.author.id, "name": a.author.name, "orcid": a.author.orcid})
            for i in a.institutions:
                seen["institutions"].setdefault(i.id, {"id": i.id, "name": i.name, "ror": i.ror, "country": i.country})
            rows["authorships"].append({
                "work_id": work.id, "author_id": a.author.id, "position": a.position,
                "institution_ids": _join(i.id for i in a.institutions),
                "is_corresponding": a.is_corresponding, "raw_affiliation": a.raw_affiliation})
    for name, entities in seen.items():
        rows[name] = list(entities.values())
    keys = {"works": ["id"], "authors": ["id"], "institutions": ["id"], "sources": ["id"], "topics": ["id"],
            "authorships": ["work_id", "position"], "citations": ["citing_id", "cited_id"]}
    frames = {}
    for name in TABLES:
        frame = pd.DataFrame(rows[name])
        if not frame.empty:
            frame = frame.sort_values(keys[name], kind="stable").reset_index(drop=True)
        frames[name] = frame
    return frames


def load(store_path: Path) -> KnowledgeGraph:
    """The knowledge graph of a store as Python objects (networkx, rdflib, pandas)."""
    with Store(store_path) as store:
        works = load_works(store)
    lines = ntriples_lines(t for work in works for t in work_triples(work))
    return KnowledgeGraph(works, build_graph(works), graph_from_lines(lines), tables_of(works), lines)


def _gexf_bytes(graph: nx.MultiDiGraph) -> bytes:
    """GEXF without its date stamp, so unchanged graphs give unchanged files."""
    buffer = io.BytesIO()
    nx.write_gexf(graph, buffer)
    return re.sub(rb'\s*lastmodifieddate="[^"]*"', b"", buffer.getvalue())


def _graphml_bytes(graph: nx.MultiDiGraph) -> bytes:
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    return buffer.getvalue()


def write_exports(kg: KnowledgeGraph, out: Path, inputs: dict[str, object]) -> dict:
    """Write every export file atomically (temp file, then rename) and a manifest of them."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {"kg.nt": "".join(kg.ntriples).encode("utf-8")}
    context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
    files["kg.ttl"] = kg.rdf.serialize(format="turtle").encode("utf-8")
    files["kg.jsonld"] = kg.rdf.serialize(format="json-ld", context=context, indent=1, sort_keys=True).encode("utf-8")
    files["kg.graphml"] = _graphml_bytes(kg.graph)
    files["kg.gexf"] = _gexf_bytes(kg.graph)
    for name, frame in kg.tables.items():
        files[f"tables/{name}.csv"] = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        files[f"tables/{name}.parquet"] = buffer.getvalue()
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
    manifest = {
        "kg_version": __version__,
        "inputs": inputs,
        "counts": counts(kg),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def counts(kg: KnowledgeGraph) -> dict[str, int]:
    kinds = {}
    for _, data in kg.graph.nodes(data=True):
        kinds[data["kind"]] = kinds.get(data["kind"], 0) + 1
    relations = {}
    for _, _, key in kg.graph.edges(keys=True):
        relations[key] = relations.get(key, 0) + 1
    return {"triples": len(kg.ntriples), "feed_works": sum(1 for w in kg.works if w.feed),
            "hydrated_works": len(kg.works),
            **{f"nodes_{k}": v for k, v in sorted(kinds.items())},
            **{f"edges_{k}": v for k, v in sorted(relations.items())}}


def build(store_path: Path, out: Path) -> dict:
    kg = load(store_path)
    with Store(store_path) as store:
        inputs = {"store": store_path.name, **store.counts()}
    return write_exports(kg, out, inputs)
