"""Build the knowledge graph from the store and write it in the formats other tools open.

`build` is columnar: the store's records are parsed and flattened by DuckDB (`kg.columns`), and the
triples, graph nodes and edges and export tables are SQL over those columns (`kg.transform`), sorted,
deduplicated and formatted by the engine, out of core when large, then streamed into the writers of
`kg.writers`. Threads are found over the written tables, their ids carried over from the previous export
in the folder, and what the latest run changed is written beside them (`kg.changes`, `kg.digest`). Same
store and previous export in, byte-identical files out: N-Triples are sorted, tables are in id order,
and the only times written are the runs' own, from the store.
`load` is the notebook entry point: the same graph, from the same transform, as Python objects in memory.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import networkx as nx
import pandas as pd
import pyarrow as pa
from rdflib import Graph

from kg import __version__, columns, transform, writers
from kg.changes import History, baseline, read_history, run_changes
from kg.coverage import summarise
from kg.digest import write_digest
from kg.errors import BuildError, KgError
from kg.feeds import FeedPaper
from kg.follow import named_ids
from kg.graph import EDGE_ATTRIBUTES, graph_from
from kg.ids import full_id
from kg.model import FeedFacts, Work, from_record
from kg.rdf import PREFIXES, rdflib_graph, thread_lines
from kg.resolve import Resolution
from kg.store import Store
from kg.tables import FEED_SCHEMAS, SCHEMAS, THREAD_SCHEMAS, feed_entry_rows, follow_rows, thread_rows
from kg.thread_io import load_threads, names_of, read_thread_input, with_names
from kg.threads import Threads, find_threads, import_text_model, similarity_graph
from kg.writers.citations import citation_keys
from kg.writers.files import scratch_folder, write_json
from kg.writers.graph_files import counts as graph_file_counts
from kg.writers.graph_files import write_graphs
from kg.writers.ntriples import write_sorted_lines
from kg.writers.rdf_files import RdfFiles
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


def flat_tables(store: Store, scratch: Path, memory_limit: str = columns.MEMORY_LIMIT,
                progress: Callable[[int], None] = lambda done: None, cache: Path | None = None
                ) -> tuple[duckdb.DuckDBPyConnection, dict[str, FeedFacts], int]:
    """The store's works loaded into the flat tables (`kg.columns`) of a DuckDB database in `scratch`: the
    connection, the feed facts per work and how many works there are. With a `cache` folder, records
    unchanged since it was written are read from it instead of parsed."""
    connection = columns.connect(scratch, memory_limit)
    facts = feed_facts(store.feed_papers(), store.resolutions())
    with store.reading():
        works = columns.load_records(connection, store, store.aliases(), facts, progress=progress, cache=cache)
    return connection, facts, works


def load(store_path: Path | str) -> KnowledgeGraph:
    """The knowledge graph of a store as Python objects (networkx, rdflib, pandas), for notebooks: what
    `kg build` writes, from the same transform, held in memory."""
    with Store(Path(store_path), read_only=True) as store, tempfile.TemporaryDirectory(prefix="kg-load-") as scratch:
        connection, facts, _ = flat_tables(store, Path(scratch))
        aliases = store.aliases()
        works = [from_record(record, aliases, facts.get(full_id(record["id"]))) for record in store.works()]
        edge_columns = ", ".join(["source", "target", *(transform.EDGE_COLUMNS[name] for name in EDGE_ATTRIBUTES)])
        graph = graph_from(
            connection.sql(f"SELECT {', '.join(transform.NODE_COLUMNS)} FROM ({transform.nodes(transform.DUCKDB)}) "
                           f"ORDER BY {transform.NODE_ORDER}").fetchall(),
            connection.sql(f"SELECT {edge_columns} FROM ({transform.edges(transform.DUCKDB)}) "
                           f"ORDER BY {transform.EDGE_ORDER}").fetchall())
        lines = connection.sql(f"SELECT DISTINCT line FROM ({transform.triples(transform.DUCKDB)}) ORDER BY line")
        rdf = rdflib_graph(line for (line,) in lines.fetchall())
        tables = {name: connection.sql(query).to_arrow_table().cast(SCHEMAS[name]).to_pandas()
                  for name, query in transform.TABLES.items()}
        connection.close()
    return KnowledgeGraph(works, graph, rdf, tables)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(store_path: Path, out: Path, progress: Callable[[str], None] | None = None,
          cite_all: bool = False, memory_limit: str = columns.MEMORY_LIMIT,
          formats: list[str] | None = None) -> Manifest:
    """Write the export files from the store, streaming, then a manifest of them: the base files (`kg.nt`, the
    tables, threads, changes, digest) and the formats named (`writers.chosen`; None: every one).

    The export is built in a staging folder and swapped in as a whole (`kg.writers.staging`): an
    interrupted build leaves the previous export exactly as it was, and two builds of one folder wait
    for each other instead of interleaving. `memory_limit` bounds what the engine (DuckDB) holds.
    """
    try:
        chosen = writers.chosen(formats)
    except KeyError as error:
        raise KgError(f"--formats: {error.args[0]} (or {', '.join(writers.BASE_FORMATS[:1])}, always written)") from None
    try:
        with staged_export(out) as stage:
            return _build_into(store_path, stage, out, progress or (lambda message: None), cite_all, memory_limit,
                               chosen)
    except duckdb.OutOfMemoryException as error:
        raise BuildError(
            f"kg build needed more than its memory limit of {memory_limit} ({str(error).splitlines()[0]}); "
            f"{out} is as it was. Rerun with a larger --memory-limit if the machine has the memory, or build a "
            "graph this large with `kg snapshot build` (Spark).") from None
    except (OSError, duckdb.IOException) as error:
        if getattr(error, "errno", None) != errno.ENOSPC and "No space left on device" not in str(error):
            raise
        raise BuildError(f"the disk holding {out} is full; {out} is as it was. A build needs room for every export "
                         "file and the engine's scratch files beside them (about 50 GB for 1M works): free space "
                         "there and rerun.") from None


def _cited_works(store: Store, facts: dict[str, FeedFacts], cite_all: bool) -> list[Work]:
    """The works the reference-manager files list: the feed's works, or every work when asked."""
    aliases = store.aliases()
    records = store.works() if cite_all else filter(None, (store.record(work_id) for work_id in sorted(facts)))
    return [from_record(record, aliases, facts.get(full_id(record["id"]))) for record in records]


class _Checksums:
    """SHA-256 of each file written, taken in a thread of its own as soon as the file is complete, so that
    reading the large files back overlaps the rest of the build (hashlib and file reads release the GIL)."""

    def __init__(self, hashing: ThreadPoolExecutor):
        self._hashing = hashing
        self._pending: dict[Path, Future[str]] = {}

    def add(self, paths: list[Path]) -> None:
        for path in paths:
            if path not in self._pending:
                self._pending[path] = self._hashing.submit(_sha256, path)

    def known(self, checksums: dict[Path, str]) -> None:
        """Checksums taken as the files were written."""
        for path, checksum in checksums.items():
            self._pending[path] = Future()
            self._pending[path].set_result(checksum)

    def of(self, out: Path) -> dict[str, str]:
        """Every file's checksum, by its path in `out`."""
        return {path.relative_to(out).as_posix(): self._pending[path].result() for path in sorted(self._pending)}


def _previous_threads(export: Path) -> Threads | None:
    return load_threads(export) if (export / "threads.json").exists() else None


@contextmanager
def _graph_files(connection: duckdb.DuckDBPyConnection, targets: list[tuple[writers.GraphDialect, Path]]
                 ) -> Iterator[Future[tuple[dict[Path, str], dict[str, int]]]]:
    """The graph's node and edge tables, its files (GraphML, GEXF) written from them, and its counts, made in
    a thread beside the tables, threads and RDF files (on a cursor of their connection): those leave a core
    idle now and then. Yields the future of the files' checksums and the counts; leaving by an exception
    interrupts the thread's query, so that the build stops at once."""

    def graph(cursor: duckdb.DuckDBPyConnection) -> tuple[dict[Path, str], dict[str, int]]:
        with cursor:
            cursor.execute(f"CREATE TEMP TABLE graph_nodes AS {transform.nodes(transform.DUCKDB)}")
            cursor.execute(f"CREATE TEMP TABLE graph_edges AS {transform.edges(transform.DUCKDB)}")
            return write_graphs(cursor, targets), graph_file_counts(cursor)

    cursor = connection.cursor()
    with ThreadPoolExecutor(1, "kg-graph") as thread:
        future = thread.submit(graph, cursor)
        try:
            yield future
        except BaseException:
            with suppress(duckdb.Error):  # the thread may have closed it just now
                cursor.interrupt()
            raise


def _build_into(store_path: Path, out: Path, previous: Path, say: Callable[[str], None], cite_all: bool,
                memory_limit: str, chosen: tuple[writers.Writer, ...]) -> Manifest:
    """Build into `out` (a staging folder); `previous` holds the previous export, which thread ids and the
    history of changes carry over from."""
    prefixes = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    rdf_writers = [w for w in chosen if isinstance(w, writers.RdfWriter)]
    with Store(store_path, read_only=True) as store, scratch_folder(out) as scratch_name, \
            ThreadPoolExecutor(2, "kg-checksums") as hashing, ExitStack() as beside:
        checksums = _Checksums(hashing)
        inputs = {"store": store_path.name, **store.counts()}
        say("reading works")
        connection, facts, works = flat_tables(store, Path(scratch_name), memory_limit,
                                               progress=lambda n: say(f"{n:,} works read"),
                                               cache=columns.folder_beside(store_path))
        feed_works = connection.execute("SELECT count(*) FROM feed JOIN works ON works.id = feed.work_id").fetchall()[0][0]
        graph_dialects = [w for w in chosen if isinstance(w, writers.GraphDialect)]
        if graph_dialects:
            say(f"writing {', '.join(w.file for w in graph_dialects)} (beside what follows)")
        graph_files = beside.enter_context(_graph_files(connection, [(w, out / w.file) for w in graph_dialects]))
        say("writing tables")
        threading.Thread(target=import_text_model, name="kg-import", daemon=True).start()  # while DuckDB writes
        tables = TableFiles(out / "tables")
        for name, query in transform.TABLES.items():
            tables.add_query(connection, name, query)
        written = tables.close()
        papers, resolutions, coverage = {p.key: p for p in store.feed_papers()}, store.resolutions(), store.feed_coverage()
        feed_tables = TableFiles(out / "tables", FEED_SCHEMAS)
        feed_tables.add(feed_entry_rows(store.feed_entries(), papers, resolutions, coverage, store.sightings()))
        feed_tables.add(("follows", row) for row in follow_rows(store))
        written += feed_tables.close()
        say("finding research threads")
        runs = store.runs()
        before, since, earlier = baseline(_previous_threads(previous), read_history(previous),
                                          runs[-1].id if runs else 0)
        data, topic_names = read_thread_input(out / "tables")
        similarity = similarity_graph(data)
        threads = with_names(find_threads(data, topic_names, before, runs[-1].id if runs else 0, similarity),
                             out / "tables")
        thread_tables = TableFiles(out / "tables", THREAD_SCHEMAS)
        thread_tables.add((name, row) for name, rows in thread_rows(threads).items() for row in rows)
        written += thread_tables.close()
        written.append(write_json(threads.to_json(), out / "threads.json"))
        say("comparing with the previous run")
        followed = named_ids([p.source for paper in papers.values() for p in paper.provenance])
        latest = run_changes(runs, since, threads, before, data, similarity, papers, resolutions, store.refreshes(),
                             coverage, {**names_of(followed, out / "tables"), **threads.names})
        history = History(earlier + ([latest] if latest else []), before, since)
        written.append(write_json(history.to_json(), out / "changes.json"))
        if runs:
            written.append(write_digest(history, runs[0].at, out / "digest.atom"))
        say(f"writing {', '.join(['kg.nt', *(w.file for w in rdf_writers)])}")
        connection.register("thread_triples", pa.table({"line": pa.array(thread_lines(threads), pa.string())}))
        checksums.add(written)
        with RdfFiles([(w, out / w.file) for w in rdf_writers], prefixes) as rdf_files:
            triples, ntriples_checksum = write_sorted_lines(
                connection, f"{transform.triples(transform.DUCKDB)} UNION ALL SELECT line FROM thread_triples",
                out / "kg.nt", Path(scratch_name), each=rdf_files.add)
            checksums.known({out / "kg.nt": ntriples_checksum, **rdf_files.close()})
        graph_checksums, graph_counts = graph_files.result()
        checksums.known(graph_checksums)
        citation_writers = [w for w in chosen if isinstance(w, writers.CitationWriter)]
        if citation_writers:
            say(f"writing {', '.join(w.file for w in citation_writers)}")
            cited = _cited_works(store, facts, cite_all)
            keys = citation_keys(cited)
            for writer in citation_writers:
                writer.write(cited, keys, out / writer.file)
        written += [out / w.file for w in citation_writers]
        connection.close()
        say("recording the files' checksums")
        checksums.add(written)
        files = checksums.of(out)
    rows = {**tables.rows, **feed_tables.rows, **thread_tables.rows}
    manifest = Manifest(
        kg_version=__version__,
        inputs=inputs,
        counts={"triples": triples, "feed_works": feed_works, "hydrated_works": works, **graph_counts,
                **{f"rows_{name}": count for name, count in rows.items()},
                "threads": len(threads.threads), "unconnected_feed_works": len(threads.unconnected),
                "new_feed_papers": len(latest.new_papers) if latest else 0,
                **{f"coverage_{name}": n for name, n in summarise(coverage.values()).items()}},
        files=files,
    )
    write_json(manifest.to_json(), out / "manifest.json")
    return manifest
