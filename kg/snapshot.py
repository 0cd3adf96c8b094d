"""The OpenAlex snapshot to RDF and Parquet on Apache Spark: `kg snapshot build`.

Reads the snapshot layout (`data/works/updated_date=…/part_*.gz`; only the
files its `manifest` lists when there is one; `data/merged_ids/works/*.csv.gz`
applied as aliases) and sends every work record through the same pure
per-record functions `kg build` uses (`model.from_record`, `rdf.work_lines`,
`graph.work_elements`). Output: partitioned, gzip-compressed N-Triples
(sorted across parts, duplicates removed) and Parquet node and edge tables.

With a feed, only the feed works' neighbourhood is kept: the works matched by
OpenAlex id, DOI or arXiv DOI, then the works they cite and the works citing
them, hop by hop up to `depth`. (Titles are not matched here: a title-only
feed goes through `kg enrich --snapshot`, whose rules need the fuzzy matcher.)

Entity records (authors, sources, institutions, topics) are not read: works
embed what the graph uses, so the output equals `kg build`'s.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import sys
from pathlib import Path

from kg.feeds import FeedPaper
from kg.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, work_elements
from kg.model import from_record
from kg.openalex import arxiv_doi, bare_doi, full_id
from kg.rdf import work_lines



class SnapshotError(Exception):
    """A user-facing problem with the snapshot folder or Spark (no works, no Java)."""


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
        return files
    files = sorted(folder.glob("updated_date=*/part_*"))
    if not files:
        raise SnapshotError(f"no work files under {folder}/updated_date=*/: is {root} an OpenAlex snapshot folder?")
    return files


def merged_ids(root: Path) -> dict[str, str]:
    """Merged work ids (old → surviving id) from `data/merged_ids/works/*.csv.gz`."""
    aliases = {}
    for path in sorted((root / "data" / "merged_ids" / "works").glob("*.csv*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                aliases[full_id(row["id"])] = full_id(row["merge_into_id"])
    return aliases


def seed_keys(papers: list[FeedPaper]) -> tuple[set[str], set[str]]:
    """The OpenAlex ids and DOIs (arXiv DOIs included) a feed names."""
    ids = {full_id(p.openalex_id) for p in papers if p.openalex_id}
    dois = {bare_doi(p.doi) for p in papers if p.doi} | {arxiv_doi(p.arxiv_id) for p in papers if p.arxiv_id}
    return ids, {d.lower() for d in dois if d}


def _citations(record: dict, aliases: dict[str, str]) -> list[tuple[str, str]]:
    work = full_id(record["id"])
    return [(work, aliases.get(full_id(r), full_id(r))) for r in record.get("referenced_works") or []]


def _merge_sightings(a: tuple, b: tuple) -> tuple:
    """Two sightings of a node → one: the work's own node wins; otherwise the sighting from the smaller
    work id wins and the other fills gaps (what `kg build` does, reading works in id order)."""
    if a[0] != b[0]:
        return a if a[0] else b
    first, second = (a, b) if a[1] <= b[1] else (b, a)
    return first[0], first[1], {**second[2], **first[2]}


def spark_session(master: str | None, app: str = "kg snapshot build"):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SnapshotError("PySpark is not installed: pip install 'kg[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        builder = SparkSession.builder.master(master) if master else SparkSession.builder
        return (builder.appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", str(max(2, os.cpu_count() or 2)))
                .getOrCreate())
    except Exception as error:  # PySpark reports a missing JVM as a generic exception
        if "JAVA" in str(error).upper():
            raise SnapshotError("Spark needs Java 17+: install it (e.g. `sudo apt-get install default-jre-headless`, "
                                "or run `make setup`)") from None
        raise


def build_snapshot(root: Path, out: Path, master: str | None = None, feed: list[FeedPaper] | None = None,
                   depth: int = 1, partitions: int | None = None) -> dict:
    """Run the Spark job; returns counts (works kept, triples, nodes, edges)."""
    from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

    files = work_files(root)
    spark = spark_session(master)
    context = spark.sparkContext
    context.setLogLevel("ERROR")
    aliases = context.broadcast(merged_ids(root))
    merged = set(aliases.value)
    records = (context.textFile(",".join(str(f) for f in files), minPartitions=partitions or len(files))
               .filter(lambda line: line.strip())
               .map(json.loads)
               .filter(lambda record: full_id(record["id"]) not in merged))
    if feed is not None:
        keep = neighbourhood(records, feed, depth, aliases)
        kept = context.broadcast(keep)
        records = records.filter(lambda record: full_id(record["id"]) in kept.value)
    records = records.map(lambda record: from_record(record, aliases.value)).cache()
    works = records.count()

    lines = records.flatMap(lambda work: (line.rstrip("\n") for line in work_lines(work))).distinct()
    lines = lines.sortBy(lambda line: line, numPartitions=partitions or max(1, context.defaultParallelism))
    lines.saveAsTextFile(str(out / "ntriples"), compressionCodecClass="org.apache.hadoop.io.compress.GzipCodec")

    elements = records.map(work_elements)
    nodes = (elements.flatMap(lambda e: ((n.id, (n.complete, e[0][0].id, n.attributes)) for n in e[0]))
             .reduceByKey(_merge_sightings)
             .map(lambda item: [item[0]] + [item[1][2].get(name) for name in NODE_ATTRIBUTES]))
    edges = (elements.flatMap(lambda e: ((edge.source, edge.target, edge.relation) + tuple(
        edge.attributes.get(name) for name in EDGE_ATTRIBUTES if name != "relation") for edge in e[1]))
             .distinct())
    spark_type = {str: StringType(), int: LongType(), bool: BooleanType()}
    node_schema = StructType([StructField("id", StringType(), False)] + [
        StructField(name, spark_type[kind], True) for name, kind in NODE_ATTRIBUTES.items()])
    edge_schema = StructType([StructField(name, StringType(), False) for name in ("source", "target", "relation")]
                             + [StructField(name, spark_type[kind], True)
                                for name, kind in EDGE_ATTRIBUTES.items() if name != "relation"])
    spark.createDataFrame(nodes, node_schema).sort("id").write.mode("overwrite").parquet(str(out / "nodes"))
    spark.createDataFrame(edges, edge_schema).sort("source", "target", "relation") \
        .write.mode("overwrite").parquet(str(out / "edges"))
    counts = {"works": works, "triples": spark.read.text(str(out / "ntriples")).count(),
              "nodes": spark.read.parquet(str(out / "nodes")).count(),
              "edges": spark.read.parquet(str(out / "edges")).count(), "files": len(files)}
    (out / "summary.json").write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
    spark.stop()
    return counts


def neighbourhood(records, feed: list[FeedPaper], depth: int, aliases) -> set[str]:
    """The feed works and the works within `depth` citation hops of them (either direction)."""
    ids, dois = seed_keys(feed)
    seeds = set(records.filter(lambda r: full_id(r["id"]) in ids or (bare_doi(r.get("doi")) or "").lower() in dois)
                .map(lambda r: full_id(r["id"])).collect())
    citations = records.flatMap(lambda r: _citations(r, aliases.value)).cache()
    keep, frontier = set(seeds), set(seeds)
    for _ in range(depth):
        if not frontier:
            break
        edge_frontier = records.context.broadcast(frontier)
        reached = set(citations.flatMap(lambda c: [c[1]] if c[0] in edge_frontier.value else
                                        [c[0]] if c[1] in edge_frontier.value else []).collect())
        frontier = reached - keep
        keep |= reached
    return keep
