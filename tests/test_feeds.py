import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import HF_API, PAGES
from kg.errors import FeedError
from kg.feeds import merge_papers, read_inputs
from kg.feeds.daily_page import read_page


def by_name(name):
    return next(p for p in PAGES if p.name.startswith(name))


@pytest.mark.parametrize("prefix, count", [("000", 53), ("001", 34), ("002", 51), ("004", 19)])
def test_page_entry_counts(prefix, count):
    result = read_inputs([str(by_name(prefix))], year=2025)
    assert result.entries_per_input[by_name(prefix).name] == count
    assert len(result.papers) == count


def test_page_fields_spot_checks():
    papers = read_inputs([str(by_name("000"))], year=2025).papers
    first = papers[0]
    assert first.title == "Parallelizing Linear Transformers with the Delta Rule over Sequence Length"
    assert first.abstract.startswith("Transformers with linear attention")
    assert (first.author_count, first.published, first.upvotes) == (5, "2024-06-10", 2)
    assert first.feed_date == "2025-10-29"
    assert first.provenance[0].line == 13
    second = papers[1]
    assert (second.author_count, second.published, second.upvotes) == (3, "2023-01-24", None)
    last_004 = read_inputs([str(by_name("004"))], year=2025).papers
    zo2 = next(p for p in last_004 if p.title.startswith("ZO2"))
    assert zo2.published == "2025-03-16" and zo2.author_count == 7  # a date without year takes --year
    assert zo2.abstract.startswith("Fine-tuning large pre-trained LLMs")


def test_page_without_metadata():
    papers = read_inputs([str(by_name("002"))], year=2025).papers
    assert all(p.author_count is None and p.published is None for p in papers)
    assert all(p.abstract and len(p.abstract) > 200 for p in papers)
    assert papers[0].title == "Contextual Bandits with Online Neural Regression"


def test_four_pages_merge_to_142_distinct_papers():
    result = read_inputs([str(p) for p in PAGES], year=2025)
    assert sum(result.entries_per_input.values()) == 157
    assert len(result.papers) == 142 and result.merged == 15
    repeated = [p for p in result.papers if len(p.provenance) > 1]
    assert sum(len(p.provenance) - 1 for p in repeated) == 15  # 11 papers on two pages, 2 on three
    assert all(len({prov.source for prov in p.provenance}) == len(p.provenance) for p in repeated)


def test_hf_api_json():
    result = read_inputs([str(p) for p in HF_API])
    assert len(result.papers) == 63
    paper = next(p for p in result.papers if p.arxiv_id == "2607.26654")
    assert paper.title == "Constitutional Midtraining: Content Presence Drives Alignment Gains"
    assert paper.authors[:2] == ("Desiree Cho", "Cameron Tice") and paper.author_count == 7
    assert paper.published == "2026-07-29"
    assert isinstance(paper.upvotes, int)


def test_single_paper_object(tmp_path):
    item = json.loads(HF_API[0].read_text())[0]["paper"]
    path = tmp_path / "paper.json"
    path.write_text(json.dumps(item))
    [paper] = read_inputs([str(path)]).papers
    assert paper.arxiv_id == item["id"] and paper.title == " ".join(item["title"].split())


def test_plain_list_with_comments(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# my reading list\n2406.06484  # delta rule\n\n10.1613/jair.1523\nA Title With #hash inside\n")
    papers = read_inputs([str(path)]).papers
    assert [p.arxiv_id or p.doi or p.title for p in papers] == ["2406.06484", "10.1613/jair.1523", "A Title With #hash inside"]
    assert [p.provenance[0].line for p in papers] == [2, 4, 5]


def test_merge_by_identifier_and_title():
    from kg.feeds import FeedPaper, Provenance
    a = FeedPaper(title="Deep  Learning!", provenance=[Provenance("a", 0, 1)])
    b = FeedPaper(title="deep learning", arxiv_id="1234.5678", provenance=[Provenance("b", 0, 1)])
    c = FeedPaper(arxiv_id="1234.5678", upvotes=3, provenance=[Provenance("c", 0, 1)])
    [merged] = merge_papers([a, b, c])
    assert merged.arxiv_id == "1234.5678" and merged.upvotes == 3
    assert [p.source for p in merged.provenance] == ["a", "b", "c"]


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\x00\x01\x02binary", "binary"),
    (b"\xff\xfe\xfa not utf8", "UTF-8"),
    (b'[{"paper": ', "malformed JSON at line 1"),
    (b'{"something": "else"}', "not a Hugging Face papers response"),
    (b"<html><body>saved page</body></html>", "HTML"),
])
def test_bad_inputs_name_file_and_problem(tmp_path, content, message):
    path = tmp_path / "feed.dat"
    path.write_bytes(content)
    with pytest.raises(FeedError, match=message) as error:
        read_inputs([str(path)])
    assert "feed.dat" in str(error.value)


def test_missing_file():
    with pytest.raises(FeedError, match="no such file"):
        read_inputs(["/no/such/feed.txt"])


def test_an_unreadable_date_is_reported_and_its_entry_kept():
    text = by_name("000").read_text()
    broken = text.replace("Jan 24, 2023", "Smarch 99, 20x", 1)
    papers, warnings = read_page(broken, "broken.txt", 2025)
    assert len(papers) == 53
    [notice] = warnings
    assert str(notice).startswith("broken.txt:") and "Smarch" in notice.reason and not notice.skipped
    assert "kept without it" in notice.reason and papers[1].published is None and papers[1].author_count == 3


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_page_reader_never_crashes(text):
    papers, warnings = read_page("Daily Papers\n\nbyAK and the research community\n\n" + text, "fuzz.txt", 2025)
    assert all(p.title for p in papers)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["  • 3 authors", "·", "Jun 10, 2024 2", "Mar 16", "", "Title", "x" * 300, "• Org"]),
                max_size=40))
def test_page_reader_survives_shuffled_page_parts(lines):
    read_page("\n".join(["Daily Papers", "", "Oct 29", ""] + lines), "fuzz.txt", 2025)


# -- hostile inputs: one line naming the input, or the entry kept with what was wrong dropped ----------------

@pytest.mark.parametrize("content, message", [
    ("[" * 2000 + "]" * 2000, "nested too deeply"),
    ('[{"paper": {"id": "2401.00001", "title": "T", "upvotes": ' + "9" * 5000 + "}}]", "unreadable JSON"),
    ('[{"title": "fine"}, 7]', "not a Hugging Face papers response"),
])
def test_hostile_json_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "hostile.json"
    path.write_text(content)
    with pytest.raises(FeedError, match=message):
        read_inputs([str(path)])


@pytest.mark.parametrize("field, value, problem", [
    ("upvotes", True, "'upvotes' is True, not a count"),
    ("upvotes", float("nan"), "not a count"),
    ("title", 5, "'title' is a int, not text"),
    ("publishedAt", ["2024"], "'publishedAt' is a list, not text"),
])
def test_fields_of_the_wrong_type_are_dropped_with_a_warning(tmp_path, field, value, problem):
    item = {"paper": {"id": "2401.00001", "title": "A title", "upvotes": 2, field: value}}
    path = tmp_path / "typed.json"
    path.write_text(json.dumps([item]))
    result = read_inputs([str(path)])
    [paper] = result.papers
    assert paper.arxiv_id == "2401.00001" and getattr(paper, {"publishedAt": "published"}.get(field, field)) in (None, "")
    assert any(problem in w.reason and str(w).startswith("typed.json: item 0:") for w in result.warnings)


def test_control_characters_and_lone_surrogates_are_cleaned_at_the_edge(tmp_path):
    path = tmp_path / "odd.json"
    path.write_text('[{"paper": {"id": "2401.00001", "title": "A\\u0000 B\\u001b C \\ud800 D", "summary": "x\\u000b y"}}]')
    [paper] = read_inputs([str(path)]).papers
    assert paper.title == "A B C \ufffd D" and paper.abstract == "x  y"
    paper.title.encode("utf-8")  # printable and storable


def test_special_files_are_refused_up_front(tmp_path):
    fifo = tmp_path / "feed.fifo"
    os.mkfifo(fifo)
    for name in (str(fifo), "/dev/zero"):
        with pytest.raises(FeedError, match="not a regular file"):
            read_inputs([name])
