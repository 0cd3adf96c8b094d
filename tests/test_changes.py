"""What a run changed: the state it is compared with, thread changes, new papers with their evidence."""

from kg.changes import History, RunChanges, baseline, run_changes, thread_changes
from kg.coverage import record_coverage
from kg.feeds import FeedPaper
from kg.resolve import Resolution
from kg.store import Refresh, Run
from kg.threads import Previous, ThreadInput, Threads, find_threads, similarity_graph


def entry(run: int) -> RunChanges:
    return RunChanges(run, f"2026-11-{run:02d}T06:00:00+00:00", ["feed"], [], [], [], {})


def test_a_new_run_is_compared_with_the_previous_export_and_a_rebuild_with_what_that_was_compared_with():
    previous_threads = Threads([], [], [], next_number=4)
    earlier = Previous({"T1": ["a"]}, 2)
    history = History([entry(1), entry(2)], earlier, 1)
    before, since, kept = baseline(previous_threads, history, latest_run=3)
    assert (before, since, kept) == (previous_threads.previous(), 2, [entry(1), entry(2)])
    assert baseline(previous_threads, history, latest_run=2) == (earlier, 1, [entry(1)])
    assert baseline(None, None, latest_run=1) == (None, 0, [])
    assert baseline(previous_threads, history, latest_run=1) == (previous_threads.previous(), 0, [])  # another store
    assert History.from_json(history.to_json()) == history


def data() -> ThreadInput:
    refs = {"a": {"r1", "r2"}, "b": {"r1", "r2"}, "c": {"r1", "r2", "a"}}
    return ThreadInput(feed=["a", "b", "c"], references=refs, citers={}, authors={"a": ["p"], "c": ["p"]},
                       institutions={}, primary_topic={}, year={})


def test_new_papers_name_their_thread_and_the_evidence_in_plain_words():
    day1 = find_threads(ThreadInput(feed=["a", "b"], references={"a": {"r1", "r2"}, "b": {"r1", "r2"}}, citers={},
                                    authors={}, institutions={}, primary_topic={}, year={}), {}, run=1)
    now = find_threads(data(), {}, day1.previous(), run=2)
    runs = [Run(1, "2026-11-29T06:00:00+00:00", ["day1"], ["k-a", "k-b"]),
            Run(2, "2026-11-30T06:00:00+00:00", ["day2"], ["k-c", "k-d"])]
    papers = {k: FeedPaper(title=f"Paper {k}") for k in ("k-a", "k-b", "k-c", "k-d")}
    resolutions = {"k-a": Resolution("k-a", "a", "doi"), "k-b": Resolution("k-b", "b", "doi"),
                   "k-c": Resolution("k-c", "c", "doi"), "k-d": Resolution("k-d", None, "search", status="pending")}
    coverage = {k: ("matched", record_coverage({})) for k in ("k-a", "k-b", "k-c")} | {"k-d": ("pending", None)}
    changes = run_changes(runs, 1, now, day1.previous(), data(), similarity_graph(data()), papers, resolutions,
                          [Refresh(2, "a", ["references 0 → 2"]), Refresh(1, "b", [])], coverage, {"a": "Paper A"})
    assert changes is not None and changes.run == 2 and changes.feeds == ["day2"]
    assert [(p.key, p.thread, p.status) for p in changes.new_papers] == [("k-c", "T1", "matched"),
                                                                          ("k-d", None, "pending")]
    assert changes.new_papers[0].evidence[0] == "cites “Paper A”: 2 shared references, 1 shared authors"
    assert [(t.thread, t.change, t.added, t.papers) for t in changes.threads] == [("T1", "grew", 1, 3)]
    assert changes.refreshed == [{"work_id": "a", "title": "Paper A", "added": ["references 0 → 2"]}]
    assert changes.coverage["pending"] == 1 and changes.coverage["matched"] == 3
    assert run_changes([], 0, now, None, data(), similarity_graph(data()), papers, resolutions, [], coverage,
                       {}) is None


def test_merges_and_ends_are_reported_from_the_lineage():
    before = Previous({"T1": ["a", "b"], "T2": ["c"], "T3": ["gone"]}, 4)
    after = find_threads(data(), {}, before, run=2)  # a, b and c now form one thread
    assert [(t.thread, t.change, t.related) for t in thread_changes(after, before)] == [
        ("T1", "merged", ["T2"]), ("T3", "ended", [])]
