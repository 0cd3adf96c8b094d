"""The enrichment store: what it keeps, what it says is missing, and how a store made before a change opens."""

import sqlite3

import pytest

from kg.feeds import FeedPaper, Provenance
from kg.resolve import Resolution
from kg.store import FULL, SINGLETON, FeedEntry, Store

W1, W2, W3 = (f"https://openalex.org/W{i}" for i in (1, 2, 3))


def test_a_fuller_record_replaces_a_partial_one_never_the_reverse(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        store.save_works([{"id": W1, "title": "part"}], "reference", complete=0)
        store.save_works([{"id": W1, "title": "full", "authorships": []}], "feed", complete=FULL)
        store.save_works([{"id": W1, "title": "part again"}], "reference", complete=0)
        assert store.record(W1)["title"] == "full"
        assert store.complete_ids() == {W1} and store.complete_ids(SINGLETON) == set()
        assert store.roles()[W1] == {"reference", "feed"}


def test_known_ids_hold_stored_merged_and_missing_ids(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        store.save_works([{"id": W1}], "reference", complete=0, aliases={W2: W1}, missing=[W3])
        assert store.known_ids() == {W1, W2, W3} and store.stored_ids() == {W1}
        assert store.aliases() == {W2: W1} and store.counts()["missing"] == 1


def test_a_paper_seen_again_takes_its_newest_upvotes_and_keeps_every_sighting(tmp_path):
    first = FeedPaper(title="T", arxiv_id="2401.00001", upvotes=3, provenance=[Provenance("a.txt", 0, 4)])
    later = FeedPaper(title="T", arxiv_id="2401.00001", upvotes=9, abstract="now with an abstract",
                      provenance=[Provenance("b.json", 2, None)])
    with Store(tmp_path / "s.sqlite") as store:
        store.add_feed([first])
        store.add_feed([later])
        [paper] = store.feed_papers()
        assert paper.upvotes == 9 and paper.abstract == "now with an abstract"
        assert paper.provenance == [Provenance("a.txt", 0, 4), Provenance("b.json", 2, None)]
        assert store.feed_entries() == [FeedEntry("a.txt", 0, 4, paper.key), FeedEntry("b.json", 2, None, paper.key)]


def test_cut_authorships_are_found_among_list_records(tmp_path):
    hundred = [{"author": {"id": f"https://openalex.org/A{i}"}} for i in range(100)]
    with Store(tmp_path / "s.sqlite") as store:
        store.save_works([{"id": W1, "authorships": hundred}, {"id": W2, "authorships": hundred[:3]},
                          {"id": W3, "authorships": hundred[:5], "is_authors_truncated": True}], "feed", complete=FULL)
        assert store.cut_authorships([W1, W2, W3]) == [W1, W3]
        store.save_works([{"id": W1, "authorships": hundred}], "feed", complete=SINGLETON)
        assert store.cut_authorships([W1, W2, W3]) == [W3]


def test_a_store_made_before_evidence_was_recorded_opens_and_gains_the_column(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE resolutions(key TEXT PRIMARY KEY, work_id TEXT, method TEXT NOT NULL, score REAL, "
                   "status TEXT NOT NULL, reason TEXT, alternates TEXT NOT NULL, resolved_at TEXT NOT NULL)")
        db.execute("INSERT INTO resolutions VALUES('doi:10.1/x', ?, 'doi', 1.0, 'matched', NULL, '[]', '2026-01-01')",
                   (W1,))
    with Store(path) as store:
        assert store.resolutions()["doi:10.1/x"].evidence is None
        store.save_resolutions([Resolution("doi:10.1/y", W2, "doi", 1.0, evidence="DOI given by the feed")])
        assert store.resolutions()["doi:10.1/y"].evidence == "DOI given by the feed"


def test_pending_papers_are_due_again_only_after_the_given_moment(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        store.save_resolutions([Resolution("arxiv:2611.1", None, "search", None, "pending"),
                                Resolution("arxiv:2611.2", W1, "hf_arxiv_doi", 1.0)])
        assert store.pending_checked_before("9999") == {"arxiv:2611.1"}
        assert store.pending_checked_before("2000") == set()


def test_reading_commands_work_on_a_store_nobody_may_write(demo_export, tmp_path):
    """An immutable store in an immutable folder (chattr +i: even root cannot write): matches and build still run."""
    import shutil
    import subprocess

    from conftest import kg

    folder = tmp_path / "frozen"
    folder.mkdir()
    shutil.copy(demo_export / "kg-store.sqlite", folder / "kg-store.sqlite")
    frozen = [folder / "kg-store.sqlite", folder]
    if any(subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode for p in frozen):
        pytest.skip("this file system cannot make files immutable")
    try:
        matches = kg("matches", "--store", folder / "kg-store.sqlite", "--json")
        assert matches.returncode == 0, matches.stderr
        assert len(matches.stdout.splitlines()) == 53
        built = kg("build", "--store", folder / "kg-store.sqlite", "--out", tmp_path / "out")
        assert built.returncode == 0, built.stderr
        with Store(folder / "kg-store.sqlite", read_only=True) as store, pytest.raises(sqlite3.OperationalError):
            store.save_resolutions([Resolution("doi:10.1/z", None, "doi")])
    finally:
        for path in frozen:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def test_runs_record_when_each_feed_paper_was_first_and_last_seen(tmp_path):
    day1 = [FeedPaper(title="One", arxiv_id="2611.00001", provenance=[Provenance("monday.txt", 0, 3)]),
            FeedPaper(title="Two", arxiv_id="2611.00002", provenance=[Provenance("monday.txt", 1, 9)])]
    day2 = [FeedPaper(title="Two", arxiv_id="2611.00002", provenance=[Provenance("tuesday.txt", 0, 3)]),
            FeedPaper(title="Three", arxiv_id="2611.00003", provenance=[Provenance("tuesday.txt", 1, 9)])]
    with Store(tmp_path / "s.sqlite") as store:
        assert store.start_run(day1, at="2026-11-30T06:00:00+00:00") == 1
        assert store.start_run(day2, at="2026-12-01T06:00:00+00:00") == 2
        runs = store.runs()
        assert [(r.id, r.feeds, r.new_keys) for r in runs] == [(1, ["monday.txt"], ["arxiv:2611.00001", "arxiv:2611.00002"]),
                                                               (2, ["tuesday.txt"], ["arxiv:2611.00003"])]
        assert store.sightings()["arxiv:2611.00002"] == ["2026-11-30T06:00:00+00:00", "2026-12-01T06:00:00+00:00"]
        store.save_refresh(2, "https://openalex.org/W1", ["abstract"])
        assert [(r.run, r.added) for r in store.refreshes()] == [(2, ["abstract"])]


def test_works_due_for_a_refresh_are_the_incomplete_ones_fetched_before_the_moment(tmp_path):
    complete = {"id": "https://openalex.org/W1", "referenced_works": ["https://openalex.org/W9"],
                "abstract_inverted_index": {"x": [0]}}
    no_refs = {"id": "https://openalex.org/W2", "referenced_works": [], "abstract_inverted_index": {"x": [0]}}
    no_abstract = {"id": "https://openalex.org/W3", "referenced_works": ["https://openalex.org/W9"]}
    with Store(tmp_path / "s.sqlite") as store:
        store.save_works([complete, no_refs, no_abstract], "feed", complete=1)
        ids = ["https://openalex.org/W1", "https://openalex.org/W2", "https://openalex.org/W3"]
        assert store.incomplete_fetched_before(ids, "9999") == ids[1:]
        assert store.incomplete_fetched_before(ids, "2000") == []
        assert store.incomplete_fetched_before(ids[:2], "9999") == ids[1:2]


def test_a_store_from_before_runs_reads_as_one_without_them(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE feed_papers(key TEXT PRIMARY KEY, paper TEXT NOT NULL);"
                         "CREATE TABLE works(id TEXT PRIMARY KEY, record TEXT NOT NULL, complete INTEGER NOT NULL,"
                         " fetched_at TEXT NOT NULL);")
    with Store(path, read_only=True) as store:
        assert store.runs() == [] and store.sightings() == {} and store.refreshes() == []
