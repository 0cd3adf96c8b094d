"""`kg.columns`: JSON work records into the flat tables, in batches, with merged ids replaced."""

import gzip
import json

from conftest import WORLD
from kg import columns
from kg.ids import full_id
from kg.model import FeedFacts
from kg.store import Store

RECORDS = sorted([line for line in gzip.open(WORLD / "works.jsonl.gz", "rt", encoding="utf-8")][:300],
                 key=lambda line: json.loads(line)["id"])


def stored(path, texts) -> Store:
    """A store at `path` holding exactly these records (others removed), each as its text."""
    store = Store(path)
    records = [json.loads(t) for t in texts]
    store.save_works(records, "reference", complete=1)
    with store.db:
        store.db.execute("DELETE FROM works WHERE id NOT IN (SELECT value FROM json_each(?))",
                         (json.dumps([r["id"] for r in records]),))
    return store


def flat(tmp_path, batch_size: int, aliases=None, feed=None, progress=lambda done: None) -> dict[str, list]:
    tmp_path.mkdir(exist_ok=True)
    connection = columns.connect(tmp_path)
    with stored(tmp_path / "store.sqlite", RECORDS) as store:
        columns.load_records(connection, store, aliases or {}, feed or {}, batch_size=batch_size, progress=progress)
    tables = {name: connection.sql(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in columns.FLAT_TABLES}
    connection.close()
    return tables


def test_batches_do_not_change_the_tables_and_progress_counts_them(tmp_path):
    heard: list[int] = []
    small = flat(tmp_path / "small", 7, progress=heard.append)
    assert small == flat(tmp_path / "whole", 10_000)
    assert heard == [*range(7, 300, 7), 300]
    assert len(small["works"]) == 300 and [row[0] for row in small["works"]] == list(range(300))
    assert len(small["citations"]) > 300 and len(small["authorships"]) > 300


def test_merged_ids_are_replaced_everywhere_but_in_the_works_own_id(tmp_path):
    records = [json.loads(r) for r in RECORDS]
    cited = records[0]["referenced_works"][0]
    author = records[0]["authorships"][0]["author"]["id"]
    own = records[1]["id"]
    aliases = {cited: records[0]["referenced_works"][1], author: "https://openalex.org/A42", own: "https://openalex.org/W42"}
    tables = flat(tmp_path, 50, aliases=aliases)
    every_id = {value for rows in tables.values() for row in rows for value in row if isinstance(value, str)}
    assert cited not in every_id and author not in every_id and "https://openalex.org/A42" in every_id
    assert own in {row[1] for row in tables["works"]}  # a stored work keeps its own id
    first = [row for row in tables["citations"] if row[0] == 0]
    assert len(first) == len(set(records[0]["referenced_works"])) - 1  # the merged reference and its survivor: once


def test_an_empty_or_null_reference_is_no_citation(tmp_path):
    """A reference list holding null or "" (OpenAlex sends neither, a hand-edited record may) is read as the
    ids it does hold: no citation of nothing, which the graph files could not write."""
    record = json.loads(RECORDS[0])
    record["referenced_works"] = [None, "", *record["referenced_works"][:2]]
    connection = columns.connect(tmp_path)
    with stored(tmp_path / "store.sqlite", [json.dumps(record)]) as store:
        columns.load_records(connection, store, {}, {})
    cited = connection.sql("SELECT cited_id FROM citations ORDER BY cited_id").fetchall()
    connection.close()
    assert cited == [(full_id(work),) for work in sorted(record["referenced_works"][2:])]


def test_feed_facts_become_the_feed_tables(tmp_path):
    work = json.loads(RECORDS[3])["id"]
    facts = {work: FeedFacts(feeds=("a.txt", "b.txt"), feed_date="2025-06-01", upvotes=4, matched_by="doi",
                             match_score=0.95)}
    tables = flat(tmp_path, 100, feed=facts)
    assert tables["feed"] == [(work, "a.txt;b.txt", "2025-06-01", 4, None, None, "doi", 0.95)]
    assert tables["feed_names"] == [(work, "a.txt"), (work, "b.txt")]


def cached_flat(tmp_path, records, cache, aliases=None, store_path=None) -> tuple[dict[str, list], int]:
    """The flat tables loaded through the record-column cache, and how many records were parsed; the
    records are stored at `store_path` (by default a store of their own)."""
    tmp_path.mkdir(exist_ok=True)
    connection = columns.connect(tmp_path)
    with stored(store_path or tmp_path / "store.sqlite", records) as store:
        columns.load_records(connection, store, aliases or {}, {}, batch_size=70, cache=cache)
    tables = {name: connection.sql(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in columns.FLAT_TABLES}
    parsed = connection.sql("SELECT count(*) FROM record_keys WHERE parsed").fetchall()[0][0]
    connection.close()
    return tables, parsed


def test_unchanged_records_are_read_from_the_record_columns_and_the_tables_are_the_same(tmp_path):
    store = tmp_path / "store.sqlite"
    cache = columns.folder_beside(store)
    whole = flat(tmp_path / "plain", 10_000)
    assert cached_flat(tmp_path / "first", RECORDS, cache, store_path=store) == (whole, 300)
    assert (cache / "works.parquet").exists()
    assert cached_flat(tmp_path / "second", RECORDS, cache, store_path=store) == (whole, 0)

    changed = [json.loads(r) for r in RECORDS]
    changed[5]["title"] = "A title changed overnight"
    changed_texts = [*RECORDS[:5], json.dumps(changed[5]), *RECORDS[6:250]]  # one changed, fifty gone
    tables, parsed = cached_flat(tmp_path / "third", changed_texts, cache, store_path=store)
    assert parsed == 1  # the changed record got a new revision; the unchanged ones, stored again, kept theirs
    assert tables == cached_flat(tmp_path / "fresh", changed_texts, None)[0]
    assert "A title changed overnight" in {row[2] for row in tables["works"]}

    aliases = {changed[0]["referenced_works"][0]: "https://openalex.org/W42"}  # applied to cached rows too
    assert cached_flat(tmp_path / "aliased", changed_texts, cache, aliases, store_path=store) == \
        (cached_flat(tmp_path / "aliased-plain", changed_texts, None, aliases)[0], 0)


def test_kept_columns_let_the_next_load_parse_nothing(tmp_path):
    with stored(tmp_path / "store.sqlite", RECORDS) as store:
        cache = columns.folder_beside(tmp_path / "store.sqlite")
        assert columns.keep(store, cache) == 300
        assert columns.keep(store, cache) == 0
        assert not list(tmp_path.glob(".kg-columns-*"))  # its scratch database is gone
    assert cached_flat(tmp_path / "load", RECORDS, cache, store_path=tmp_path / "store.sqlite") == \
        (flat(tmp_path / "plain", 10_000), 0)


def test_a_store_made_before_revisions_numbers_its_records_when_opened_for_writing(tmp_path):
    path = tmp_path / "store.sqlite"
    with stored(path, RECORDS[:3]) as store:
        store.db.executescript("DROP TRIGGER work_stored; DROP TRIGGER work_changed; DROP TRIGGER work_removed; "
                               "DROP TABLE revisions")
    with Store(path, read_only=True) as old:
        assert [revision for _, revision in old.work_revisions()] == [None] * 3
    with Store(path) as store:
        assert None not in [revision for _, revision in store.work_revisions()]


def test_record_columns_from_other_code_are_not_used(tmp_path):
    store = tmp_path / "store.sqlite"
    cache = columns.folder_beside(store)
    cached_flat(tmp_path / "first", RECORDS, cache, store_path=store)
    (cache / "version").write_text("an older kg")
    assert cached_flat(tmp_path / "second", RECORDS, cache, store_path=store)[1] == 300
    assert (cache / "version").read_text() != "an older kg"  # rewritten for this code


def test_record_columns_that_cannot_be_written_are_left_out(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    cache = tmp_path / "a-file" / "store.sqlite.columns"  # its folder cannot be made
    assert cached_flat(tmp_path / "load", RECORDS, cache) == (flat(tmp_path / "plain", 10_000), 300)
    assert not list(tmp_path.glob("**/*.tmp"))
