"""The export tables: feed entries with their evidence, thread tables (the work tables: tests/test_transform.py)."""

import pyarrow as pa

from kg.feeds import FeedPaper
from kg.resolve import Resolution
from kg.store import FeedEntry
from kg.tables import FEED_SCHEMAS, THREAD_SCHEMAS, feed_entry_rows, thread_rows
from kg.threads import Thread, Threads


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
