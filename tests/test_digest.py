"""digest.atom: one entry per run, valid Atom that feed readers (feedparser here) read back, text escaped."""

import feedparser

from kg.changes import History, NewPaper, RunChanges, ThreadChange
from kg.digest import digest_atom, headline

HOSTILE = 'Attention </script><script>alert("x")</script> & "quotes" \u2028'


def run(number: int) -> RunChanges:
    paper = NewPaper(f"arxiv:2611.0000{number}", HOSTILE, "https://openalex.org/W1", "matched", "T1", "Solvers",
                     ["cites “Paper A”: 2 shared references"])
    return RunChanges(number, f"2026-11-{number:02d}T06:00:00+00:00", ["hf-daily"], [paper],
                      [ThreadChange("T1", "Solvers", "grew", 3, 1)],
                      [{"work_id": "https://openalex.org/W2", "title": None, "added": ["references 0 → 5"]}],
                      {"feed_papers": 1, "matched": 1, "pending": 0, "with_references": 1, "with_abstract": 1,
                       "with_institutions": 0, "authors": 2, "authors_with_orcid": 1})


def test_the_digest_parses_back_with_one_entry_per_run_newest_first():
    history = History([run(1), run(2)], None, 1)
    document = digest_atom(history, "2026-11-01T06:00:00+00:00")
    parsed = feedparser.parse(document)
    assert not parsed.bozo and parsed.version == "atom10"
    assert [e.title for e in parsed.entries] == [headline(run(2)), headline(run(1))]
    assert parsed.entries[0].updated == "2026-11-02T06:00:00+00:00"
    html = parsed.entries[0].content[0].value  # HTML whose text is the title: tags in it are escaped
    assert "Attention &lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)" in html and "<script>" not in html
    assert len({e.id for e in parsed.entries}) == 2 and all(e.id.startswith("urn:uuid:") for e in parsed.entries)


def test_same_history_same_bytes_and_ids_stay_across_runs():
    one = digest_atom(History([run(1)], None, 0), "2026-11-01T06:00:00+00:00")
    two = digest_atom(History([run(1), run(2)], None, 1), "2026-11-01T06:00:00+00:00")
    assert one == digest_atom(History([run(1)], None, 0), "2026-11-01T06:00:00+00:00")
    first = feedparser.parse(one).entries[0].id
    assert first in {e.id for e in feedparser.parse(two).entries}
    assert feedparser.parse(one).feed.id == feedparser.parse(two).feed.id
