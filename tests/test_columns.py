"""`kg.columns`: JSON work records into the flat tables, in batches, with merged ids replaced."""

import gzip
import json

from conftest import WORLD
from kg import columns
from kg.model import FeedFacts

RECORDS = [line for line in gzip.open(WORLD / "works.jsonl.gz", "rt", encoding="utf-8")][:300]


def flat(tmp_path, batch_size: int, aliases=None, feed=None, progress=lambda done: None) -> dict[str, list]:
    tmp_path.mkdir(exist_ok=True)
    connection = columns.connect(tmp_path)
    columns.load_records(connection, iter(RECORDS), aliases or {}, feed or {}, batch_size=batch_size,
                         progress=progress)
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


def test_feed_facts_become_the_feed_tables(tmp_path):
    work = json.loads(RECORDS[3])["id"]
    facts = {work: FeedFacts(feeds=("a.txt", "b.txt"), feed_date="2025-06-01", upvotes=4, matched_by="doi",
                             match_score=0.95)}
    tables = flat(tmp_path, 100, feed=facts)
    assert tables["feed"] == [(work, "a.txt;b.txt", "2025-06-01", 4, None, None, "doi", 0.95)]
    assert tables["feed_names"] == [(work, "a.txt"), (work, "b.txt")]
