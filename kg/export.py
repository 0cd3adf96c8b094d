"""Build the knowledge graph from the store and write it in the formats other tools open.

`build` streams: works are read from the store one at a time, in id order,
and each goes through the same pure per-work transforms (`rdf.work_lines`,
`graph.work_elements`, `tables.work_rows`) into the streaming writers of
`kg.writers`. Threads are then found over the written tables, their ids
carried over from the previous export in the folder, and what the latest run
changed is written beside them (`kg.changes`, `kg.digest`). Same store and
previous export in, byte-identical files out: N-Triples are sorted, tables
are in id order, and the only times written are the runs' own, from the store.
`load` is the notebook entry point: the same graph as Python objects, in memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pandas as pd
import pyarrow as pa
from rdflib import Graph

from kg import __version__, writers
from kg.changes import History, baseline, read_history, run_changes
from kg.coverage import summarise
from kg.digest import write_digest
from kg.errors import KgError
from kg.feeds import FeedPaper
from kg.graph import build_graph, work_elements
from kg.ids import full_id
from kg.model import FeedFacts, Work, from_record
from kg.rdf import PREFIXES, ntriples_lines, rdflib_graph, thread_lines, work_lines
from kg.resolve import Resolution
from kg.store import Store
from kg.tables import ENTITY_TABLES, FEED_SCHEMAS, SCHEMAS, TABLES, THREAD_SCHEMAS, feed_entry_rows, thread_rows, work_rows
from kg.thread_io import load_threads, read_thread_input, with_names
from kg.threads import Threads, find_threads, similarity_graph
from kg.writers.citations import citation_keys
from kg.writers.files import scratch_folder, write_json
from kg.writers.graph_files import GraphFiles
from kg.writers.ntriples import SortedLines, write_lines
from kg.writers.staging import settled, staged_export
from kg.writers.tables import TableFiles


@dataclass(frozen=True)
class Manifest:
    """What `kg build` wrote (`manifest.json`): kg's version, the store's counts, the graph's counts and
    every file with its SHA-256. It holds no timestamp, so the same store gives the same manifest."""

    kg_version: str
    inputs: dict[str, object]
    counts: dict[str, int]
    files: dict[str, str]

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def read(cls, export: Path) -> Manifest:
        path = settled(export) / "manifest.json"
        if not path.exists():
            raise KgError(f"no export in {export}/ (manifest.json missing): run `kg build --out {export}` first")
        return cls(**json.loads(path.read_text(encoding="utf-8")))


@dataclass
class KnowledgeGraph:
    works: list[Work]
    graph: nx.MultiDiGraph
    rdf: Graph
    tables: dict[str, pd.DataFrame]


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
            upvotes=max((v for v in (paper.upvotes, known.upvotes if known else None) if v is not None), default=None),
            organization=paper.organization or (known.organization if known else None),
            arxiv_id=paper.arxiv_id or (known.arxiv_id if known else None),
            matched_by=resolution.method,
            match_score=resolution.score,
        )
    return facts


def stream_works(store: Store) -> Iterator[Work]:
    """The store's works as model objects, streamed in id order."""
    facts = feed_facts(store.feed_papers(), store.resolutions())
    aliases = store.aliases()
    for record in store.works():
        yield from_record(record, aliases, facts.get(full_id(record["id"])))


def tables_of(works: list[Work]) -> dict[str, pd.DataFrame]:
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    entities: dict[str, dict[str, dict]] = {name: {} for name in ENTITY_TABLES}
    for work in works:
        for name, row in work_rows(work):
            if name in entities:
                entities[name].setdefault(row["id"], row)
            else:
                rows[name].append(row)
    for name, seen in entities.items():
        rows[name] = [seen[key] for key in sorted(seen)]
    return {name: pa.Table.from_pylist(rows[name], schema=SCHEMAS[name]).to_pandas() for name in TABLES}


def load(store_path: Path | str) -> KnowledgeGraph:
    """The knowledge graph of a store as Python objects (networkx, rdflib, pandas), for notebooks.

    It holds everything in memory; `build` writes the same graph to files
    without doing so.
    """
    with Store(Path(store_path), read_only=True) as store:
        works = list(stream_works(store))
    lines = ntriples_lines(line for work in works for line in work_lines(work))
    return KnowledgeGraph(works, build_graph(works), rdflib_graph(lines), tables_of(works))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(store_path: Path, out: Path, progress: Callable[[str], None] | None = None,
          cite_all: bool = False) -> Manifest:
    """Write every export file from the store, streaming, then a manifest of them.

    The export is built in a staging folder and swapped in as a whole (`kg.writers.staging`): an
    interrupted build leaves the previous export exactly as it was, and two builds of one folder wait
    for each other instead of interleaving.
    """
    with staged_export(out) as stage:
        return _build_into(store_path, stage, out, progress or (lambda message: None), cite_all)


def _previous_threads(export: Path) -> Threads | None:
    return load_threads(export) if (export / "threads.json").exists() else None


def _build_into(store_path: Path, out: Path, previous: Path, say: Callable[[str], None], cite_all: bool) -> Manifest:
    """Build into `out` (a staging folder); `previous` holds the previous export, which thread ids and the
    history of changes carry over from."""
    prefixes = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    with Store(store_path, read_only=True) as store, scratch_folder(out) as scratch_name:
        inputs = {"store": store_path.name, **store.counts()}
        scratch = Path(scratch_name)
        registered = writers.WRITERS
        dialects = [w for w in registered if isinstance(w, writers.GraphDialect)]
        lines, graph, tables = SortedLines(scratch), GraphFiles(scratch, dialects), TableFiles(out / "tables")
        works = feed_works = 0
        cited: list[Work] = []  # for the reference-manager files: the feed's works, or every work when asked
        say("reading works")
        for work in stream_works(store):
            if cite_all or work.feed is not None:
                cited.append(work)
            lines.add(work_lines(work))
            graph.add(*work_elements(work))
            tables.add(work_rows(work))
            works += 1
            feed_works += work.feed is not None
            if works % 10_000 == 0:
                say(f"{works:,} works read")
        say("writing tables")
        written = tables.close()
        papers, resolutions, coverage = {p.key: p for p in store.feed_papers()}, store.resolutions(), store.feed_coverage()
        feed_tables = TableFiles(out / "tables", FEED_SCHEMAS)
        feed_tables.add(feed_entry_rows(store.feed_entries(), papers, resolutions, coverage, store.sightings()))
        written += feed_tables.close()
        say("finding research threads")
        runs = store.runs()
        before, since, earlier = baseline(_previous_threads(previous), read_history(previous),
                                          runs[-1].id if runs else 0)
        data, topic_names = read_thread_input(out / "tables")
        similarity = similarity_graph(data)
        threads = with_names(find_threads(data, topic_names, before, runs[-1].id if runs else 0, similarity),
                             out / "tables")
        lines.add(thread_lines(threads))
        thread_tables = TableFiles(out / "tables", THREAD_SCHEMAS)
        thread_tables.add((name, row) for name, rows in thread_rows(threads).items() for row in rows)
        written += thread_tables.close()
        written.append(write_json(threads.to_json(), out / "threads.json"))
        say("comparing with the previous run")
        latest = run_changes(runs, since, threads, before, data, similarity, papers, resolutions, store.refreshes(),
                             coverage, threads.names)
        history = History(earlier + ([latest] if latest else []), before, since)
        written.append(write_json(history.to_json(), out / "changes.json"))
        if runs:
            written.append(write_digest(history, runs[0].at, out / "digest.atom"))
        say("writing N-Triples")
        triples = write_lines(lines, out / "kg.nt")
        written.append(out / "kg.nt")
        keys = citation_keys(cited)
        for writer in registered:
            say(f"writing {writer.file}")
            if isinstance(writer, writers.RdfWriter):
                writer.write(out / "kg.nt", out / writer.file, prefixes)
            elif isinstance(writer, writers.CitationWriter):
                writer.write(cited, keys, out / writer.file)
            else:
                graph.write(writer, out / writer.file)
            written.append(out / writer.file)
        graph_counts = graph.counts()
        graph.close()
    files = written
    rows = {**tables.rows, **feed_tables.rows, **thread_tables.rows}
    manifest = Manifest(
        kg_version=__version__,
        inputs=inputs,
        counts={"triples": triples, "feed_works": feed_works, "hydrated_works": works, **graph_counts,
                **{f"rows_{name}": count for name, count in rows.items()},
                "threads": len(threads.threads), "unconnected_feed_works": len(threads.unconnected),
                "new_feed_papers": len(latest.new_papers) if latest else 0,
                **{f"coverage_{name}": n for name, n in summarise(coverage.values()).items()}},
        files={path.relative_to(out).as_posix(): _sha256(path) for path in sorted(files)},
    )
    write_json(manifest.to_json(), out / "manifest.json")
    return manifest
