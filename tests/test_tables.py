"""The export tables: rows that fit their fixed schemas, feed entries with their evidence, thread tables."""

import pyarrow as pa

from kg.feeds import FeedPaper
from kg.model import from_record
from kg.resolve import Resolution
from kg.store import FeedEntry
from kg.tables import FEED_SCHEMAS, SCHEMAS, THREAD_SCHEMAS, feed_entry_rows, thread_rows, work_rows
from kg.threads import Thread, Threads


def test_work_rows_fit_their_schemas():
    record = {"id": "https://openalex.org/W1", "title": "T", "publication_year": 2024,
              "referenced_works": ["https://openalex.org/W2"],
              "authorships": [{"author": {"id": "https://openalex.org/A1", "display_name": "Ada"},
                               "institutions": [{"id": "https://openalex.org/I1", "display_name": "Lab"}]}],
              "primary_topic": {"id": "https://openalex.org/T1", "display_name": "Topic"}}
    rows: dict[str, list[dict]] = {}
    for name, row in work_rows(from_record(record)):
        rows.setdefault(name, []).append(row)
    for name, found in rows.items():
        table = pa.Table.from_pylist(found, schema=SCHEMAS[name])
        assert table.num_rows == len(found)
    assert rows["citations"] == [{"citing_id": "https://openalex.org/W1", "cited_id": "https://openalex.org/W2"}]
    assert {r["id"] for r in rows["topics"]} == {"https://openalex.org/T1"}


def test_feed_entry_rows_say_how_each_entry_was_resolved():
    paper = FeedPaper(title="T", arxiv_id="2401.00001")
    entries = [FeedEntry("page.txt", 0, 3, paper.key), FeedEntry("page.txt", 1, 9, "title:unknown")]
    papers = {paper.key: paper, "title:unknown": FeedPaper(title="unknown")}
    resolutions = {paper.key: Resolution(paper.key, "https://openalex.org/W1", "hf_arxiv_doi", 1.0,
                                         evidence="arXiv 2401.00001 from Hugging Face paper search")}
    rows = [row for _, row in feed_entry_rows(entries, papers, resolutions)]
    pa.Table.from_pylist(rows, schema=FEED_SCHEMAS["feed_entries"])
    assert rows[0]["evidence"].startswith("arXiv 2401.00001") and rows[0]["work_id"] == "https://openalex.org/W1"
    assert rows[1]["status"] == "pending" and rows[1]["work_id"] is None


def test_thread_rows_list_every_member_and_the_unconnected():
    thread = Thread("T1", "Name", 1.0, ["W1", "W2"], [("W9", 2)], ["W9", "W1"], [("T1", 2)], [], [])
    tables = thread_rows(Threads([thread], ["W5"], []))
    for name, rows in tables.items():
        pa.Table.from_pylist(rows, schema=THREAD_SCHEMAS[name])
    roles = {(r["work_id"], r["role"]) for r in tables["thread_members"]}
    assert {("W1", "paper"), ("W9", "foundation"), ("W9", "backbone"), ("W5", "unconnected")} <= roles
    assert tables["threads"][0]["backbone"] == "W9;W1"
