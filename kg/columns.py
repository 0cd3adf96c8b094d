"""Work records as flat columns: the first step of the columnar build (`kg build`).

DuckDB parses each batch of JSON records in C++ (`json_transform` with the fields kg uses) and flattens
them with `unnest` into the flat tables below, which hold every value `kg.model.from_record` reads, with
the same rules (aliases applied to every id but the work's own, DOIs bare, abstracts rebuilt from the
inverted index, authorships numbered before those without an author are dropped). `kg.transform` turns
these tables into triples, graph nodes and edges and the export tables; Spark builds the same tables
from the snapshot (`kg.snapshot`) and runs the same transform.

DuckDB was chosen over pyarrow compute and Polars because the transform is SQL that Spark also runs,
and because it sorts and deduplicates out of core under a memory limit (bench/RESULTS.md §2).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from kg.errors import BuildError
from kg.model import FeedFacts
from kg.sqltext import bare_doi, full_id, nonempty, text

FLAT_TABLES = {
    "works": "work_no BIGINT NOT NULL, id VARCHAR NOT NULL, title VARCHAR, abstract VARCHAR, year BIGINT, "
             "date VARCHAR, doi VARCHAR, type VARCHAR, cited_by_count BIGINT, source_id VARCHAR, source_name VARCHAR, "
             "source_type VARCHAR, source_issn_l VARCHAR, primary_topic_id VARCHAR, primary_topic_name VARCHAR",
    "authorships": "work_no BIGINT NOT NULL, work_id VARCHAR NOT NULL, position BIGINT NOT NULL, "
                   "author_id VARCHAR NOT NULL, name VARCHAR, orcid VARCHAR, is_corresponding BOOLEAN, "
                   "raw_affiliation VARCHAR",
    "affiliations": "work_no BIGINT NOT NULL, work_id VARCHAR NOT NULL, position BIGINT NOT NULL, rank BIGINT NOT NULL, "
                    "author_id VARCHAR NOT NULL, institution_id VARCHAR NOT NULL, name VARCHAR, ror VARCHAR, "
                    "country VARCHAR",
    "topics": "work_no BIGINT NOT NULL, work_id VARCHAR NOT NULL, rank BIGINT NOT NULL, topic_id VARCHAR NOT NULL, "
              "name VARCHAR",
    "citations": "work_no BIGINT NOT NULL, work_id VARCHAR NOT NULL, cited_id VARCHAR NOT NULL",
    "feed": "work_id VARCHAR NOT NULL, feeds VARCHAR, feed_date VARCHAR, upvotes BIGINT, organization VARCHAR, "
            "arxiv_id VARCHAR, matched_by VARCHAR, match_score DOUBLE",
    "feed_names": "work_id VARCHAR NOT NULL, feed VARCHAR NOT NULL",
}
"""The flat tables the transform reads. `work_no` is the work's rank in id order (the store's order);
`position` numbers a work's authorships from 1, `rank` a list's items. Ids are never NULL (rows without
one are not kept), which the transform's lines rely on (`kg.transform._line`)."""


MEMORY_LIMIT = "2GB"
"""What DuckDB may hold in memory during a build; beyond it, sorts and aggregates spill to the scratch
folder. The build's process as a whole peaks above it (Python, Arrow batches, DuckDB's own overhead):
3.3 GB at 1M works (bench/RESULTS.md §2)."""


def _fields(*names: str) -> dict[str, str]:
    return {name: "VARCHAR" for name in names}


RECORD = {
    "id": "VARCHAR", "title": "VARCHAR", "display_name": "VARCHAR", "publication_year": "BIGINT",
    "publication_date": "VARCHAR", "doi": "VARCHAR", "type": "VARCHAR", "cited_by_count": "BIGINT",
    "primary_location": {"source": _fields("id", "display_name", "type", "issn_l")},
    "authorships": [{"author": _fields("id", "display_name", "orcid"),
                     "institutions": [_fields("id", "display_name", "ror", "country_code")],
                     "is_corresponding": "BOOLEAN", "raw_affiliation_strings": ["VARCHAR"],
                     "raw_affiliation_string": "VARCHAR"}],
    "topics": [_fields("id", "display_name")], "primary_topic": _fields("id", "display_name"),
    "referenced_works": ["VARCHAR"], "abstract_inverted_index": "MAP(VARCHAR, BIGINT[])",
}
"""The part of an OpenAlex work record kg reads, as DuckDB's `json_transform` structure."""

# Ids other than the work's own are written in full form here and replaced by their surviving ids once every
# batch is in (`_apply_aliases`), as `from_record` does per record.
ALIASED = {"works": ("source_id", "primary_topic_id"), "authorships": ("author_id",),
           "affiliations": ("author_id", "institution_id"), "topics": ("topic_id",), "citations": ("cited_id",)}
"""The flat columns holding ids that a merge in OpenAlex may have replaced."""


_FLATTEN = {
    "works": f"""
        SELECT p.work_no, {full_id('r.id')}, CASE WHEN r.title <> '' THEN r.title ELSE r.display_name END,
               a.abstract, r.publication_year, r.publication_date, {bare_doi('r.doi')}, r.type, r.cited_by_count,
               CASE WHEN r.primary_location.source.id <> '' THEN {full_id('r.primary_location.source.id')} END,
               r.primary_location.source.display_name, r.primary_location.source.type,
               r.primary_location.source.issn_l,
               CASE WHEN r.primary_topic.id <> '' THEN {full_id('r.primary_topic.id')} END,
               CASE WHEN r.primary_topic.id <> '' THEN r.primary_topic.display_name END
        FROM parsed p LEFT JOIN abstracts a USING (work_no)""",
    "authorships": f"""
        SELECT work_no, work_id, position, {full_id('a.author.id')}, a.author.display_name,
               CASE WHEN a.author.orcid <> '' THEN nullif(regexp_extract(a.author.orcid, '([^/]*)/*$', 1), '') END,
               a.is_corresponding,
               {nonempty('''CASE WHEN len(a.raw_affiliation_strings) > 0
                                  THEN array_to_string(a.raw_affiliation_strings, '; ')
                                  ELSE a.raw_affiliation_string END''')}
        FROM parsed_authorships WHERE a.author.id <> ''""",
    "affiliations": f"""
        SELECT work_no, work_id, position, rank, {full_id('author_id')}, {full_id('i.id')}, i.display_name,
               i.ror, i.country_code
        FROM (SELECT work_no, work_id, position, a.author.id AS author_id, unnest(a.institutions) AS i,
                     generate_subscripts(a.institutions, 1) AS rank
              FROM parsed_authorships WHERE a.author.id <> '')
        WHERE i.id <> ''""",
    "topics": f"""
        SELECT work_no, work_id, rank, {full_id('t.id')}, t.display_name
        FROM (SELECT work_no, {full_id('r.id')} AS work_id, unnest(r.topics) AS t,
                     generate_subscripts(r.topics, 1) AS rank FROM parsed)
        WHERE t.id <> ''""",
    "citations": f"""
        SELECT DISTINCT work_no, work_id, {full_id('reference')}
        FROM (SELECT work_no, {full_id('r.id')} AS work_id, unnest(r.referenced_works) AS reference FROM parsed)
        WHERE reference <> ''""",
}
_PARSED_AUTHORSHIPS = f"""
    CREATE OR REPLACE TEMP TABLE parsed_authorships AS
    SELECT work_no, {full_id('r.id')} AS work_id, unnest(r.authorships) AS a,
           generate_subscripts(r.authorships, 1) AS position
    FROM parsed"""

_ABSTRACTS = """
    CREATE OR REPLACE TEMP TABLE abstracts AS
    WITH entries AS (
        SELECT work_no, unnest(map_entries(r.abstract_inverted_index)) AS entry,
               generate_subscripts(map_entries(r.abstract_inverted_index), 1) AS entry_rank
        FROM parsed WHERE cardinality(r.abstract_inverted_index) > 0),
    words AS (SELECT work_no, entry_rank, entry.key AS word, unnest(entry.value) AS place FROM entries),
    placed AS (SELECT work_no, place, arg_max(word, entry_rank) AS word FROM words GROUP BY work_no, place)
    SELECT work_no, nullif(string_agg(word, ' ' ORDER BY place), '') AS abstract FROM placed GROUP BY work_no"""
"""`kg.model.abstract_text`: words in place order; when two words claim one place, the later one wins."""


def connect(scratch: Path, memory_limit: str = MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A DuckDB database in `scratch` with the flat tables, empty. On disk, so that its tables are
    compressed and its memory stays under `memory_limit` however many works there are (an in-memory
    database would hold every table)."""
    connection = duckdb.connect(str(scratch / "flat.duckdb"))
    connection.execute(f"SET temp_directory = {text(str(scratch))}")
    try:
        connection.execute(f"SET memory_limit = {text(memory_limit)}")
    except duckdb.Error:
        connection.close()
        raise BuildError(f"memory limit {memory_limit!r} is not a size; write it like 2GB or 500MB") from None
    connection.execute("SET preserve_insertion_order = false")
    connection.execute("SET enable_progress_bar = false")
    for name, columns in FLAT_TABLES.items():
        connection.execute(f"CREATE TABLE {name} ({columns})")
    return connection


RECORD_TABLES = ("works", "authorships", "affiliations", "topics", "citations")
"""The flat tables made from the records alone (the feed's come from the store's feed facts)."""


class StoredRecords(Protocol):
    """Where the records come from: the enrichment store (`kg.store.Store`)."""

    def work_revisions(self) -> list[tuple[str, int | None]]: ...

    def work_texts(self, ids: list[str] | None = None) -> Iterable[tuple[str, int | None, str]]: ...


def folder_beside(store_path: Path) -> Path:
    """Where the flat columns of a store's records are kept, beside the store: derived data, safe to delete
    (the next build or enrichment parses every record again)."""
    return store_path.with_name(store_path.name + ".columns")


def _cache_version() -> str:
    """What the cached rows depend on: their keys, the flattening SQL, the record structure and the engine's
    version (a cache keyed by each text's MD5, as kg wrote before revisions, is not current)."""
    parts = ["keyed by stored_id, revision", json.dumps(RECORD, sort_keys=True), *_FLATTEN.values(),
             _PARSED_AUTHORSHIPS, _ABSTRACTS, json.dumps(FLAT_TABLES, sort_keys=True), duckdb.__version__]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load_records(connection: duckdb.DuckDBPyConnection, store: StoredRecords, aliases: dict[str, str],
                 feed: dict[str, FeedFacts], batch_size: int = 20_000,
                 progress: Callable[[int], None] = lambda done: None, cache: Path | None = None) -> int:
    """Parse and flatten the store's JSON work records into the flat tables; returns how many records.
    `progress` hears the running count after each batch.

    With a `cache` folder, the flat rows of every record are kept there (Parquet, under the record's id and
    revision, `kg.store`'s random number for each stored version of a record), and a record whose revision
    is there is not read or parsed again: its rows are read back. Flattening is a pure function of the text,
    so the tables are the same either way (aliases are applied after, to cached and parsed rows alike). A
    cache from other code (`_cache_version`) is ignored; a store without revisions is parsed whole and not
    cached."""
    _load_feed(connection, feed)
    listed = store.work_revisions()
    connection.register("listed", pa.table({
        "work_no": pa.array(range(len(listed)), pa.int64()), "work_id": [work for work, _ in listed],
        "revision": pa.array([revision for _, revision in listed], pa.int64())}))
    cached = _open_cache(connection, cache)
    known = "(SELECT DISTINCT stored_id, revision FROM cached_works)" if cached else \
        "(SELECT NULL AS stored_id, NULL::BIGINT AS revision)"
    connection.execute(f"""CREATE TEMP TABLE record_keys AS
        SELECT l.work_no, l.work_id, l.revision, c.stored_id IS NULL AS parsed
        FROM listed l LEFT JOIN {known} c ON c.stored_id = l.work_id AND c.revision = l.revision""")
    connection.unregister("listed")
    wanted = [work for (work,) in connection.execute("SELECT work_id FROM record_keys WHERE parsed ORDER BY work_no")
              .fetchall()]
    count, done = len(listed), _count_of(connection, "NOT parsed")
    structure = text(json.dumps(RECORD))
    # Reading the next batch (SQLite, then Arrow) overlaps with DuckDB parsing this one: DuckDB releases the GIL.
    records = iter(store.work_texts(None if len(wanted) == count else wanted)) if wanted else iter(())
    with ThreadPoolExecutor(1) as reader:
        batches = iter(lambda: list(islice(records, batch_size)), [])
        upcoming = reader.submit(_arrow_batch, next(batches, []))
        while (raw := upcoming.result()).num_rows:
            upcoming = reader.submit(_arrow_batch, next(batches, []))
            _load_batch(connection, raw, structure)
            done += raw.num_rows
            progress(done)
    if cached:
        _read_cached(connection)
    numbered = _count_of(connection, "revision IS NULL") == 0
    if cache is not None and numbered and (wanted or not cached or _count_of(connection, None, "cached_works") != count):
        _write_cache(connection, cache)
    if aliases:
        _apply_aliases(connection, aliases)
    return count


def _count_of(connection: duckdb.DuckDBPyConnection, where: str | None, table: str = "record_keys") -> int:
    """How many rows of `table` (by default the records' keys) meet `where` (None: all)."""
    return connection.execute(f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")).fetchall()[0][0]


def _open_cache(connection: duckdb.DuckDBPyConnection, cache: Path | None) -> bool:
    """Attach the cached rows as views (`cached_<table>`), when the cache is there and current."""
    if cache is None or not (cache / "version").is_file() or (cache / "version").read_text() != _cache_version():
        return False
    for name in RECORD_TABLES:
        connection.execute(f"CREATE TEMP VIEW cached_{name} AS SELECT * FROM "
                           f"read_parquet({text(str(cache / f'{name}.parquet'))})")
    return True


def _read_cached(connection: duckdb.DuckDBPyConnection) -> None:
    """The rows of the records not parsed, from the cache, numbered as the records are now."""
    for name in RECORD_TABLES:
        columns = [c.split()[0] for c in FLAT_TABLES[name].split(", ")]
        values = ", ".join("k.work_no" if c == "work_no" else f"c.{c}" for c in columns)
        connection.execute(f"INSERT INTO {name} SELECT {values} FROM cached_{name} c JOIN record_keys k "
                           "ON k.work_id = c.stored_id AND k.revision = c.revision AND NOT k.parsed")


def _write_cache(connection: duckdb.DuckDBPyConnection, cache: Path) -> None:
    """Every record's rows (before aliases) into a new cache folder, swapped in for the old one. A cache
    that cannot be written is left out: the next build parses every record again."""
    fresh = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        for name in RECORD_TABLES:
            connection.execute(f"COPY (SELECT k.work_id AS stored_id, k.revision, t.* EXCLUDE (work_no) FROM {name} t "
                               f"JOIN record_keys k USING (work_no)) TO {text(str(fresh / f'{name}.parquet'))} "
                               "(FORMAT parquet)")
        (fresh / "version").write_text(_cache_version())
        shutil.rmtree(cache, ignore_errors=True)
        fresh.rename(cache)
    except (OSError, duckdb.IOException):
        pass
    finally:  # an interrupted or failed write leaves nothing behind
        shutil.rmtree(fresh, ignore_errors=True)


def keep(store: StoredRecords, cache: Path, memory_limit: str = MEMORY_LIMIT) -> int:
    """Bring the flat columns kept in `cache` up to date with the store, parsing only the records stored or
    changed since (`kg enrich` calls it after storing records, so that the next `kg build` parses none);
    returns how many records were parsed."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".kg-columns-", dir=cache.parent) as scratch:
        connection = connect(Path(scratch), memory_limit)
        try:
            load_records(connection, store, {}, {}, cache=cache)
            return _count_of(connection, "parsed")
        finally:
            connection.close()


def _apply_aliases(connection: duckdb.DuckDBPyConnection, aliases: dict[str, str]) -> None:
    """Replace merged ids by the surviving ones; a work that cited both a merged id and its survivor cites
    the survivor once."""
    connection.register("aliases", pa.table({"old": list(aliases), "new": list(aliases.values())}))
    for table, columns in ALIASED.items():
        for column in columns:
            connection.execute(f"UPDATE {table} SET {column} = aliases.new FROM aliases WHERE {column} = aliases.old")
    connection.execute("CREATE OR REPLACE TABLE citations AS SELECT DISTINCT * FROM citations")


def _arrow_batch(records: list[tuple[str, int | None, str]]) -> pa.Table:
    return pa.table({"work_id": pa.array([work for work, _, _ in records], pa.string()),
                     "record": pa.array([record for _, _, record in records], pa.string())})


def _load_batch(connection: duckdb.DuckDBPyConnection, records: pa.Table, structure: str) -> None:
    """Parse a batch of (work_id, record) rows into the flat tables, numbered as `record_keys` has them."""
    threads = int(connection.execute("SELECT current_setting('threads')").fetchall()[0][0])
    # DuckDB scans an Arrow table one record batch per thread: one batch per thread parses on every core.
    connection.register("raw", pa.Table.from_batches(records.to_batches(max_chunksize=-(-records.num_rows // threads))))
    connection.execute(f"CREATE OR REPLACE TEMP TABLE parsed AS SELECT k.work_no, json_transform(raw.record, {structure}) "
                       "AS r FROM raw JOIN record_keys k USING (work_id)")
    connection.execute(_PARSED_AUTHORSHIPS)
    connection.execute(_ABSTRACTS)
    for name, select in _FLATTEN.items():
        connection.execute(f"INSERT INTO {name} {select}")


def _load_feed(connection: duckdb.DuckDBPyConnection, feed: dict[str, FeedFacts]) -> None:
    ids = sorted(feed)
    facts = pa.table({
        "work_id": ids, "feeds": [";".join(filter(None, feed[i].feeds)) or None for i in ids],
        "feed_date": [feed[i].feed_date for i in ids],
        "upvotes": pa.array([feed[i].upvotes for i in ids], pa.int64()),
        "organization": [feed[i].organization for i in ids], "arxiv_id": [feed[i].arxiv_id for i in ids],
        "matched_by": [feed[i].matched_by for i in ids],
        "match_score": pa.array([feed[i].match_score for i in ids], pa.float64())})
    names = pa.table({"work_id": [i for i in ids for _ in feed[i].feeds],
                      "feed": [name for i in ids for name in feed[i].feeds]}, schema=pa.schema(
                          [("work_id", pa.string()), ("feed", pa.string())]))
    connection.register("feed_facts", facts)
    connection.register("feed_name_rows", names)
    connection.execute("INSERT INTO feed SELECT * FROM feed_facts")
    connection.execute("INSERT INTO feed_names SELECT * FROM feed_name_rows")
