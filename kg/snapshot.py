"""The OpenAlex snapshot to RDF and Parquet on Apache Spark: `kg snapshot build`.

Reads the snapshot layout (`data/works/updated_date=…/part_*.gz`; only the
files its `manifest` lists when there is one; the merged ids of works, authors,
institutions and sources under `data/merged_ids/` applied: merged works are
dropped, ids that name a merged entity are replaced by the surviving one),
parses the records on the JVM (`from_json` with the fields kg uses), flattens
them into the flat tables `kg build` makes with DuckDB (`kg.columns`), and runs
the same transform on them, `kg.transform`'s SQL, in Spark SQL. Output:
partitioned, gzip-compressed N-Triples (sorted across parts, duplicates
removed) and Parquet node and edge tables.

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
from collections.abc import Callable
from pathlib import Path

from kg import ids, transform
from kg.columns import ALIASED, FLAT_TABLES, RECORD
from kg.errors import SnapshotError
from kg.feeds import FeedPaper
from kg.sources.local import merged_ids
from kg.sqltext import bare_doi, full_id, nonempty


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
    work_ids = {ids.full_id(p.openalex_id) for p in papers if p.openalex_id}
    dois = {ids.bare_doi(p.doi) for p in papers if p.doi} | {ids.arxiv_doi(p.arxiv_id) for p in papers if p.arxiv_id}
    return work_ids, {d.lower() for d in dois if d}


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
                .config("spark.ui.showConsoleProgress", "false")  # kg reports its phases itself
                .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
                .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
                .getOrCreate())
    except Exception as error:  # PySpark reports a missing JVM as a generic exception
        if "JAVA" in str(error).upper():
            raise SnapshotError("Spark needs Java 17+: install it (e.g. `sudo apt-get install default-jre-headless`, "
                                "or run `make setup`)") from None
        raise


BAD_LINE = "not an OpenAlex work record"
"""Names a line that is not a work record, so the error can say which file and line."""


def spark_type(structure: object) -> str:
    """A `kg.columns.RECORD` structure (DuckDB's spelling) as a Spark DDL type."""
    if isinstance(structure, dict):
        return "STRUCT<" + ", ".join(f"`{name}`: {spark_type(kind)}" for name, kind in structure.items()) + ">"
    if isinstance(structure, list):
        return f"ARRAY<{spark_type(structure[0])}>"
    return {"VARCHAR": "STRING", "BIGINT": "BIGINT", "BOOLEAN": "BOOLEAN",
            "MAP(VARCHAR, BIGINT[])": "MAP<STRING, ARRAY<BIGINT>>"}[str(structure)]


FLATTEN = {
    "works": f"""
        SELECT p.work_no, p.work_id AS id, CASE WHEN r.title <> '' THEN r.title ELSE r.display_name END AS title,
               a.abstract, r.publication_year AS year, r.publication_date AS date, {bare_doi('r.doi')} AS doi,
               r.type AS type, r.cited_by_count AS cited_by_count,
               CASE WHEN r.primary_location.source.id <> '' THEN {full_id('r.primary_location.source.id')} END
                   AS source_id,
               r.primary_location.source.display_name AS source_name, r.primary_location.source.type AS source_type,
               r.primary_location.source.issn_l AS source_issn_l,
               CASE WHEN r.primary_topic.id <> '' THEN {full_id('r.primary_topic.id')} END AS primary_topic_id,
               CASE WHEN r.primary_topic.id <> '' THEN r.primary_topic.display_name END AS primary_topic_name
        FROM parsed p LEFT JOIN abstracts a ON a.work_no = p.work_no""",
    "authorships": f"""
        SELECT p.work_no, p.work_id, t.place + 1 AS position, {full_id('a.author.id')} AS author_id,
               a.author.display_name AS name,
               CASE WHEN a.author.orcid <> '' THEN nullif(regexp_extract(a.author.orcid, '([^/]*)/*$', 1), '') END
                   AS orcid,
               a.is_corresponding AS is_corresponding,
               {nonempty('CASE WHEN size(a.raw_affiliation_strings) > 0 THEN array_join(a.raw_affiliation_strings, '
                          "'; ') ELSE a.raw_affiliation_string END")} AS raw_affiliation
        FROM parsed p LATERAL VIEW posexplode(p.r.authorships) t AS place, a
        WHERE a.author.id <> ''""",
    "affiliations": f"""
        SELECT p.work_no, p.work_id, t.place + 1 AS position, u.place + 1 AS rank, {full_id('a.author.id')} AS author_id,
               {full_id('i.id')} AS institution_id, i.display_name AS name, i.ror AS ror, i.country_code AS country
        FROM parsed p LATERAL VIEW posexplode(p.r.authorships) t AS place, a
                      LATERAL VIEW posexplode(a.institutions) u AS place, i
        WHERE a.author.id <> '' AND i.id <> ''""",
    "topics": f"""
        SELECT p.work_no, p.work_id, t.place + 1 AS rank, {full_id('topic.id')} AS topic_id, topic.display_name AS name
        FROM parsed p LATERAL VIEW posexplode(p.r.topics) t AS place, topic
        WHERE topic.id <> ''""",
    "citations": f"""
        SELECT DISTINCT p.work_no, p.work_id, {full_id('reference')} AS cited_id
        FROM parsed p LATERAL VIEW explode(p.r.referenced_works) t AS reference
        WHERE reference <> ''""",
}
"""The flat tables of `kg.columns.FLAT_TABLES` in Spark SQL, from the view `parsed` (work_no, work_id, r)."""

ABSTRACTS = """
    WITH entries AS (
        SELECT p.work_no, e.place AS entry_rank, e.entry
        FROM parsed p LATERAL VIEW posexplode(map_entries(p.r.abstract_inverted_index)) e AS place, entry),
    words AS (SELECT work_no, entry_rank, entry.key AS word, place
              FROM entries LATERAL VIEW explode(entry.value) x AS place),
    placed AS (SELECT work_no, place, max_by(word, entry_rank) AS word FROM words GROUP BY work_no, place)
    SELECT work_no, nullif(array_join(transform(array_sort(collect_list(struct(place, word))), x -> x.word), ' '), '')
           AS abstract
    FROM placed GROUP BY work_no"""
"""`kg.model.abstract_text` in Spark SQL, as `kg.columns` does it in DuckDB."""


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

    No record passes through Python: the JVM parses each record once into a
    scratch Parquet table (`OUT/_flat/parsed`), the flat tables are made from it
    and kept beside it, and `kg.transform`'s SQL turns them into the three
    outputs, removing duplicates and sorting (bench/RESULTS.md has the figures).
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
    if "Unexpected end of input stream" in text:
        file = re.search(r"reading file (\S+?)\.?\s", text)
        return SnapshotError(f"{file.group(1) if file else 'a snapshot file'} ends early (cut-short gzip): "
                             "finish the download (aws s3 sync) and run again")
    return None


def _convert(spark, files: list[Path], aliases: dict[str, str], out: Path, feed: list[FeedPaper] | None,
             depth: int, progress: Callable[[str], None]) -> dict:
    from pyspark.sql import functions as F

    spark.sparkContext.setLogLevel("FATAL")
    started = time.monotonic()
    scratch = out / "_flat"
    text = spark.read.text([str(f) for f in files]).select("value", F.col("_metadata.file_path").alias("file"))
    (text.select(F.from_json("value", spark_type(RECORD)).alias("r"), "value", "file")
     .select(F.expr(full_id("r.id")).alias("work_id"), "r",
             F.when(F.col("r.id").isNull() & (F.trim("value") != ""), F.concat_ws(": ", "file", F.substring("value", 1, 80)))
             .alias("bad"))
     .write.mode("overwrite").parquet(str(scratch / "parsed")))
    parsed = spark.read.parquet(str(scratch / "parsed"))
    bad = parsed.filter(F.col("bad").isNotNull()).select("bad").first()
    if bad:
        file, line = bad.bad.split(": ", 1)
        raise SnapshotError(f"{BAD_LINE} in {file}: {line!r}: is the download complete and the file from the works "
                            "snapshot?")
    merged = spark.createDataFrame(sorted(aliases.items()), "old STRING, new STRING")
    (parsed.filter(F.col("bad").isNull() & F.col("r.id").isNotNull())
     .join(F.broadcast(merged), F.col("work_id") == F.col("old"), "left_anti")
     .select(F.col("work_id").alias("work_no"), "work_id", "r").createOrReplaceTempView("parsed"))
    spark.sql(ABSTRACTS).createOrReplaceTempView("abstracts")
    flat = {name: _surviving(spark.sql(query), name, merged) for name, query in FLATTEN.items()}
    if feed is not None:
        keep = neighbourhood(flat["works"], flat["citations"], feed, depth)
        flat = {name: frame.join(F.broadcast(keep), frame["work_no"] == keep["kept"], "left_semi")
                for name, frame in flat.items()}
    for name, frame in flat.items():
        frame.write.mode("overwrite").parquet(str(scratch / name))
        spark.read.parquet(str(scratch / name)).createOrReplaceTempView(name)
    for name in ("feed", "feed_names"):
        spark.createDataFrame([], FLAT_TABLES[name].replace(" VARCHAR", " STRING")).createOrReplaceTempView(name)
    works = spark.table("works").count()
    progress(f"{works:,} works read and transformed ({time.monotonic() - started:,.0f} s)")

    counts = {"works": works, "files": len(files)}
    ranges = max(int(spark.conf.get("spark.sql.shuffle.partitions")), -(-works // WORKS_PER_RANGE))
    splits = _split_points(spark, scratch, works, ranges)
    counts["triples"] = _write_ranges(_sorted_unique(spark.sql(TRIPLE_LINES), splits), out / "ntriples")
    progress(f"N-Triples written to {out / 'ntriples'} ({time.monotonic() - started:,.0f} s)")

    nodes = spark.sql(transform.nodes(transform.SPARK)).drop("part", "number")
    counts["nodes"] = _write(nodes.orderBy("id"), out / "nodes", ".parquet")
    progress(f"nodes written to {out / 'nodes'} ({time.monotonic() - started:,.0f} s)")

    edges = spark.sql(transform.edges(transform.SPARK)).select(
        "source", "target", "relation", "position", F.col("is_primary").alias("primary"))
    counts["edges"] = _write(edges.orderBy("source", "target", "relation"), out / "edges", ".parquet")
    progress(f"edges written to {out / 'edges'} ({time.monotonic() - started:,.0f} s)")

    (out / "summary.json").write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(scratch)
    return counts


TRIPLE_LINES = f"SELECT substring(line, 1, length(line) - 1) AS value FROM ({transform.triples(transform.SPARK)})"
"""The transform's N-Triples lines without their newline (Spark's text writer adds it)."""
WORKS_PER_RANGE = 10_000
"""About how many works' lines one range of the N-Triples holds (some 100 MB), so that a range is sorted in a
task's memory."""
SAMPLED_LINES = 100_000
"""About how many lines the split points of the N-Triples ranges are taken from (at least 50 per range)."""


def _split_points(spark, scratch: Path, works: int, ranges: int) -> list[str]:
    """Lines cutting the N-Triples into `ranges` ranges of about equal size, in order: quantiles of the lines
    the transform makes from a sample of each flat table (any split points give the same output; only the
    ranges' sizes depend on them). Sampling the tables, not the lines, spares a second run of the transform."""
    from pyspark.sql import functions as F

    fraction = min(1.0, max(SAMPLED_LINES, 50 * ranges) / (70 * max(works, 1)))  # about 70 lines per work
    tables = [name for name in FLAT_TABLES if (scratch / name).exists()]
    for name in tables:
        spark.read.parquet(str(scratch / name)).sample(fraction=fraction, seed=7).createOrReplaceTempView(name)
    try:
        sample = sorted(row.value for row in spark.sql(TRIPLE_LINES).select(F.col("value")).collect())
    finally:
        for name in tables:
            spark.read.parquet(str(scratch / name)).createOrReplaceTempView(name)
    return sorted({sample[len(sample) * k // ranges] for k in range(1, ranges)} if sample else set())


def _range_of(value, splits: list[str], low: int, high: int):
    """The number of `value`'s range among ranges low…high: a balanced tree of comparisons with the split
    points (as literals of the DataFrame API: lines hold quotes and backslashes that SQL text would escape)."""
    from pyspark.sql import functions as F

    if low == high:
        return F.lit(low)
    middle = (low + high) // 2
    return F.when(value < F.lit(splits[middle]), _range_of(value, splits, low, middle)).otherwise(
        _range_of(value, splits, middle + 1, high))


def _sorted_unique(lines, splits: list[str]):
    """The unique lines (column `value`), each range of `splits` in a partition of its own, sorted in it: one
    exchange (by the range's number; the repeats, all in one range, are dropped within it), where `distinct`
    then `orderBy` took two and a sampling pass over the transform."""
    from pyspark.sql import functions as F

    ranged = lines.withColumn("range", _range_of(F.col("value"), splits, 0, len(splits)))
    return (ranged.repartition(len(splits) + 1, "range").dropDuplicates(["range", "value"])
            .sortWithinPartitions("range", "value"))


def _write_ranges(frame, folder: Path) -> int:
    """Write the ranges of `_sorted_unique` as gzip N-Triples, one part per range, named in range order (so the
    parts, read in name order, are the sorted lines); returns the lines written."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    written = Observation()
    (frame.observe(written, F.count(F.lit(1)).alias("rows")).write.mode("overwrite").partitionBy("range")
     .text(str(folder), compression="gzip"))
    for ranged in folder.glob("range=*"):  # parts up out of their range's folder, named to sort in range order
        number = int(ranged.name.split("=", 1)[1])
        for index, part in enumerate(sorted(ranged.glob("part-*"))):
            part.rename(folder / f"part-{number:09d}-{index:05d}")
        shutil.rmtree(ranged)
    _name_parts(folder, ".nt.gz")
    return written.get["rows"]


def _surviving(frame, table: str, merged):
    """A flat table with merged ids replaced by the surviving ones (`kg.columns.ALIASED`)."""
    from pyspark.sql import functions as F

    for column in ALIASED.get(table, ()):
        alias = merged.select(F.col("old").alias(f"_old_{column}"), F.col("new").alias(f"_new_{column}"))
        frame = (frame.join(F.broadcast(alias), frame[column] == alias[f"_old_{column}"], "left")
                 .withColumn(column, F.coalesce(F.col(f"_new_{column}"), F.col(column)))
                 .drop(f"_old_{column}", f"_new_{column}"))
    return frame.distinct() if table == "citations" else frame


def neighbourhood(works, citations, feed: list[FeedPaper], depth: int):
    """The feed works and the works within `depth` citation hops of them (either direction), as a one-column
    frame (`kept`) of work ids."""
    from pyspark.sql import functions as F

    work_ids, dois = seed_keys(feed)
    seeds = {row.id for row in works.filter(F.col("id").isin(sorted(work_ids)) | F.col("doi").isin(sorted(dois)))
             .select("id").collect()}
    if not seeds:
        raise SnapshotError(f"none of the feed's papers ({len(feed)}) is in the snapshot "
                            "(looked up by OpenAlex id, DOI and arXiv DOI)")
    links = citations.select("work_id", "cited_id").cache()
    keep, frontier = set(seeds), set(seeds)
    for _ in range(depth):
        if not frontier:
            break
        near = links.sparkSession.createDataFrame([(i,) for i in sorted(frontier)], "near STRING")
        out_of = links.join(F.broadcast(near), links["work_id"] == near["near"]).select(F.col("cited_id").alias("id"))
        into = links.join(F.broadcast(near), links["cited_id"] == near["near"]).select(F.col("work_id").alias("id"))
        reached = {row.id for row in out_of.union(into).distinct().collect()}
        frontier = reached - keep
        keep |= reached
    links.unpersist()
    return works.sparkSession.createDataFrame([(i,) for i in sorted(keep)], "kept STRING")
