"""The OpenAlex snapshot to RDF and Parquet on Apache Spark: `kg snapshot build`.

Reads the snapshot layout (`data/works/updated_date=…/part_*.gz`; only the
files its `manifest` lists when there is one; the merged ids of works, authors,
institutions and sources under `data/merged_ids/` applied: merged works are
dropped, ids that name a merged entity are replaced by the surviving one) and
sends every work record through the same pure
per-record functions `kg build` uses (`model.from_record`, `rdf.work_lines`,
`graph.work_elements`). Output: partitioned, gzip-compressed N-Triples
(sorted across parts, duplicates removed) and Parquet node and edge tables.

With a feed, only the feed works' neighbourhood is kept: the works matched by
OpenAlex id, DOI or arXiv DOI, then the works they cite and the works citing
them, hop by hop up to `depth`. (Titles are not matched here: a title-only
feed goes through `kg enrich --snapshot`, whose rules need the fuzzy matcher.)

Entity records (authors, sources, institutions, topics) are not read: works
embed what the graph uses (names, ORCID, ROR, country, venue, topic labels),
so the output equals `kg build`'s on the same records.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from kg.errors import SnapshotError
from kg.feeds import FeedPaper
from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, work_elements
from kg.ids import arxiv_doi, bare_doi, full_id
from kg.model import from_record
from kg.rdf import work_lines
from kg.sources.local import merged_ids


def work_files(root: Path) -> list[Path]:
    """The works part files: those the manifest lists (Redshift manifest format), else every part file."""
    folder = root / "data" / "works"
    manifest = folder / "manifest"
    if manifest.exists():
        entries = json.loads(manifest.read_text(encoding="utf-8"))["entries"]
        files = [folder / entry["url"].split("/data/works/", 1)[1] for entry in entries]
        missing = [f for f in files if not f.exists()]
        if missing:
            raise SnapshotError(f"{manifest} lists {len(missing)} files that are not there, e.g. {missing[0]}: "
                                "finish the download (aws s3 sync) first")
        sizes = [(f, entry.get("meta", {}).get("content_length")) for f, entry in zip(files, entries)]
        partial = [(f, size) for f, size in sizes if size is not None and f.stat().st_size != size]
        if partial:
            path, size = partial[0]
            raise SnapshotError(f"{len(partial)} files differ in size from what {manifest} lists, e.g. {path} "
                                f"({path.stat().st_size:,} bytes, not {size:,}): finish the download "
                                "(aws s3 sync) first")
        return files
    files = sorted(folder.glob("updated_date=*/part_*"))
    if not files:
        raise SnapshotError(f"no work files under {folder}/updated_date=*/: is {root} an OpenAlex snapshot folder?")
    return files


def seed_keys(papers: list[FeedPaper]) -> tuple[set[str], set[str]]:
    """The OpenAlex ids and DOIs (arXiv DOIs included) a feed names."""
    ids = {full_id(p.openalex_id) for p in papers if p.openalex_id}
    dois = {bare_doi(p.doi) for p in papers if p.doi} | {arxiv_doi(p.arxiv_id) for p in papers if p.arxiv_id}
    return ids, {d.lower() for d in dois if d}


def _citations(record: dict, aliases: dict[str, str]) -> list[tuple[str, str]]:
    work = full_id(record["id"])
    return [(work, aliases.get(full_id(r), full_id(r))) for r in record.get("referenced_works") or []]


def spark_session(master: str | None, shuffle_partitions: int, memory: str | None = None,
                  app: str = "kg snapshot build"):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SnapshotError("PySpark is not installed: pip install 'kg[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master) if master else SparkSession.builder
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    try:
        return (builder.appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
                .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
                .getOrCreate())
    except Exception as error:  # PySpark reports a missing JVM as a generic exception
        if "JAVA" in str(error).upper():
            raise SnapshotError("Spark needs Java 17+: install it (e.g. `sudo apt-get install default-jre-headless`, "
                                "or run `make setup`)") from None
        raise


_ARROW_TYPES = {str: pa.string(), int: pa.int64(), bool: pa.bool_()}
EDGE_FIELDS = [name for name in EDGE_ATTRIBUTES if name != "relation"]
TRIPLE_SCHEMA = pa.schema([("value", pa.string())])
SIGHTING_SCHEMA = pa.schema([("id", pa.string()), ("partial", pa.bool_()), ("seen_in", pa.string())]
                            + [(name, _ARROW_TYPES[kind]) for name, kind in NODE_ATTRIBUTES.items()])
EDGE_SCHEMA = pa.schema([("source", pa.string()), ("target", pa.string()), ("relation", pa.string())]
                        + [(name, _ARROW_TYPES[EDGE_ATTRIBUTES[name]]) for name in EDGE_FIELDS])
ELEMENT_SCHEMA = pa.schema([("output", pa.string()), *TRIPLE_SCHEMA, *SIGHTING_SCHEMA, *EDGE_SCHEMA])
"""One table for the three outputs, so each record is parsed and transformed once; `output` says which."""


def element_rows(work) -> tuple[list[str], list[tuple], list[tuple]]:
    """A work's N-Triples lines, node sightings and edges as rows of the three schemas above.

    A sighting records who saw the node; `partial` is false for the work's own
    node so that it sorts first when sightings are settled.
    """
    nodes, edges = work_elements(work)
    return ([line.rstrip("\n") for line in work_lines(work)],
            [(node.id, not node.complete, work.id, *(node.attributes.get(name) for name in NODE_ATTRIBUTES))
             for node in nodes],
            [(edge.source, edge.target, edge.relation, *(edge.attributes.get(name) for name in EDGE_FIELDS))
             for edge in edges])


def _table(rows: list, schema: pa.Schema, output: str) -> pa.Table:
    columns = [list(column) for column in zip(*rows)] if rows else [[] for _ in schema]
    table = pa.table([pa.array(column, field.type) for column, field in zip(columns, schema)], schema=schema)
    return table.append_column("output", pa.array([output] * len(rows), pa.string()))


BAD_LINE = "not an OpenAlex work record"
"""Marks the error a worker raises for a bad line, so the driver can report it in one line."""


def parse_record(text: str, file: str) -> dict:
    try:
        record = json.loads(text)
        full_id(record["id"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError(f"{BAD_LINE} in {file}: {text[:80]!r}") from None
    return record


def element_batches(batches, aliases: dict[str, str], keep: set[str] | None) -> Iterator[pa.RecordBatch]:
    """Snapshot lines (Arrow batches of text and file) → element rows; merged works and works outside `keep`
    are skipped."""
    for batch in batches:
        triples, sightings, edges = [], [], []
        for text, file in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
            if not text.strip():
                continue
            record = parse_record(text, file)
            work_id = full_id(record["id"])
            if work_id in aliases or (keep is not None and work_id not in keep):
                continue
            lines, seen, links = element_rows(from_record(record, aliases))
            triples += [(line,) for line in lines]
            sightings += seen
            edges += links
        tables = [_table(triples, TRIPLE_SCHEMA, "triple"), _table(sightings, SIGHTING_SCHEMA, "node"),
                  _table(edges, EDGE_SCHEMA, "edge")]
        yield from pa.concat_tables(tables, promote_options="default").select(ELEMENT_SCHEMA.names).to_batches()


def _settled(name: str):
    """A node attribute as `kg build` settles it: from the work's own node, else from the sighting in the
    smallest work id that has it (`graph.merge_node` applied in id order)."""
    from pyspark.sql import functions as F

    sighting = F.when(F.col(name).isNotNull(), F.struct("partial", "seen_in", name))
    return F.min(sighting).getField(name).alias(name)


def _write(frame, folder: Path, suffix: str) -> int:
    """Write a frame as gzip text (`.nt.gz`) or Parquet parts; returns the rows, counted while writing."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    written = Observation()
    writer = frame.observe(written, F.count(F.lit(1)).alias("rows")).write.mode("overwrite")
    if suffix == ".nt.gz":
        writer.text(str(folder), compression="gzip")
    else:
        writer.parquet(str(folder))
    _name_parts(folder, suffix)
    return written.get["rows"]


def _name_parts(folder: Path, suffix: str) -> None:
    """Spark names parts with a per-run UUID; give them stable names so reruns are diffable."""
    for stale in folder.glob(".*.crc"):
        stale.unlink()
    for number, part in enumerate(sorted(folder.glob("part-*"))):
        part.rename(folder / f"part-{number:05d}{suffix}")


def build_snapshot(root: Path, out: Path, master: str | None = None, feed: list[FeedPaper] | None = None,
                   depth: int = 1, partitions: int | None = None, memory: str | None = None,
                   progress: Callable[[str], None] = lambda message: None) -> dict:
    """Run the Spark job; returns counts (works kept, triples, nodes, edges).

    Python does only the per-record work (parse, `from_record`, `element_rows`),
    once per record, into a scratch Parquet table the three outputs are read
    from (cheaper than Spark's cache here); removing duplicates, settling node
    sightings and sorting run in Spark SQL on the JVM, faster than shuffles of
    Python objects (bench/RESULTS.md has the figures).
    """
    files = work_files(root)
    if out.exists() and not out.is_dir():
        raise SnapshotError(f"--out {out} is a file: give a folder for ntriples/, nodes/, edges/ and summary.json")
    if feed is not None:
        titles_only = [paper for paper in feed if not (paper.openalex_id or paper.doi or paper.arxiv_id)]
        if len(titles_only) == len(feed):
            raise SnapshotError(f"the feed's {len(feed)} papers have no OpenAlex id, DOI or arXiv id to look up: "
                                "match titles with `kg enrich --snapshot` instead")
        if titles_only:
            progress(f"{len(titles_only)} of {len(feed)} feed papers have only a title and are skipped "
                     "(match titles with `kg enrich --snapshot`)")
    spark = spark_session(master, partitions or len(files), memory)
    try:
        return _convert(spark, files, merged_ids(root), out, feed, depth, progress)
    except Exception as error:
        problem = _bad_input(error)
        if problem is None:
            raise
        raise problem from None
    finally:
        spark.stop()


def _bad_input(error: Exception) -> SnapshotError | None:
    """A Spark failure caused by the snapshot's content, as one line; Spark wraps worker errors in pages
    of Java and Python stack traces."""
    text = str(error)
    if found := re.search(rf"{BAD_LINE} in [^\n]*", text):
        return SnapshotError(f"{found.group(0)}: is the download complete and the file from the works snapshot?")
    if "Unexpected end of input stream" in text:
        file = re.search(r"reading file (\S+?)\.?\s", text)
        return SnapshotError(f"{file.group(1) if file else 'a snapshot file'} ends early (cut-short gzip): "
                             "finish the download (aws s3 sync) and run again")
    return None


def _convert(spark, files: list[Path], aliases: dict[str, str], out: Path, feed: list[FeedPaper] | None,
             depth: int, progress: Callable[[str], None]) -> dict:
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    context = spark.sparkContext
    context.setLogLevel("FATAL")
    merged = context.broadcast(aliases)
    text = spark.read.text([str(f) for f in files]).select("value", F.col("_metadata.file_path").alias("file"))
    kept = None
    if feed is not None:
        records = (text.rdd.filter(lambda row: row.value.strip())
                   .map(lambda row: parse_record(row.value, row.file))
                   .filter(lambda record: full_id(record["id"]) not in merged.value))
        kept = context.broadcast(neighbourhood(records, feed, depth, merged))
    scratch = out / "_elements"
    started = time.monotonic()
    (text.mapInArrow(lambda batches: element_batches(batches, merged.value, kept.value if kept else None),
                     from_arrow_schema(ELEMENT_SCHEMA))
     .write.mode("overwrite").parquet(str(scratch)))
    elements = spark.read.parquet(str(scratch))
    output = F.col("output")
    works = elements.filter((output == "node") & ~F.col("partial")).count()
    progress(f"{works:,} works read and transformed ({time.monotonic() - started:,.0f} s)")

    counts = {"works": works, "files": len(files)}
    triples = elements.filter(output == "triple").select("value").distinct().orderBy("value")
    counts["triples"] = _write(triples, out / "ntriples", ".nt.gz")
    progress(f"N-Triples written to {out / 'ntriples'} ({time.monotonic() - started:,.0f} s)")

    nodes = elements.filter(output == "node").groupBy("id").agg(*(_settled(name) for name in NODE_ATTRIBUTES))
    counts["nodes"] = _write(nodes.orderBy("id"), out / "nodes", ".parquet")
    progress(f"nodes written to {out / 'nodes'} ({time.monotonic() - started:,.0f} s)")

    edges = elements.filter(output == "edge").select(EDGE_SCHEMA.names).distinct()
    counts["edges"] = _write(edges.orderBy("source", "target", "relation"), out / "edges", ".parquet")
    progress(f"edges written to {out / 'edges'} ({time.monotonic() - started:,.0f} s)")

    (out / "summary.json").write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(scratch)
    return counts


def neighbourhood(records, feed: list[FeedPaper], depth: int, aliases) -> set[str]:
    """The feed works and the works within `depth` citation hops of them (either direction)."""
    ids, dois = seed_keys(feed)
    seeds = set(records.filter(lambda r: full_id(r["id"]) in ids or (bare_doi(r.get("doi")) or "").lower() in dois)
                .map(lambda r: full_id(r["id"])).collect())
    if not seeds:
        raise SnapshotError(f"none of the feed's papers ({len(feed)}) is in the snapshot "
                            "(looked up by OpenAlex id, DOI and arXiv DOI)")
    citations = records.flatMap(lambda r: _citations(r, aliases.value)).cache()
    keep, frontier = set(seeds), set(seeds)
    for _ in range(depth):
        if not frontier:
            break
        edge_frontier = records.context.broadcast(frontier)
        reached = set(citations.flatMap(lambda c, near=edge_frontier: [c[1]] if c[0] in near.value else
                                        [c[0]] if c[1] in near.value else []).collect())
        frontier = reached - keep
        keep |= reached
    return keep
