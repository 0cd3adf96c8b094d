"""Coverage: what OpenAlex's record of a feed paper holds, what a refetch added, and the feed-wide figures."""

from kg.coverage import NO_REFERENCES, Coverage, added, describe, record_coverage, summarise

RECORD = {
    "referenced_works": ["https://openalex.org/W1", "https://openalex.org/W2"],
    "abstract_inverted_index": {"Graphs": [0]},
    "authorships": [
        {"author": {"id": "A1", "orcid": "https://orcid.org/0000-0002-1825-0097"},
         "institutions": [{"id": "I1"}, {"id": "I2"}]},
        {"author": {"id": "A2", "orcid": None}, "institutions": [{"id": "I1"}]},
        {"author": {"id": "A3"}, "institutions": []},
    ],
}


def test_a_record_is_counted_as_it_is():
    assert record_coverage(RECORD) == Coverage(references=2, abstract=True, authors=3, authors_with_orcid=1,
                                               institutions=2)
    bare = record_coverage({"id": "W9", "authorships": [{"author": {"id": "A1"}}]})
    assert bare == Coverage(0, False, 1, 0, 0)
    assert bare.flags() == [NO_REFERENCES, "no abstract in OpenAlex yet", "no institutions"]
    assert record_coverage(RECORD).flags() == []


def test_a_refetch_says_what_it_added_and_only_that():
    before = record_coverage({"authorships": RECORD["authorships"][:1]})
    after = record_coverage(RECORD)
    assert added(before, after) == ["references 0 → 2", "authors 1 → 3", "abstract"]
    assert added(after, after) == []
    assert added(after, before) == []  # what shrank is not news of growth


def test_feed_figures_count_statuses_and_matched_records():
    summary = summarise([("matched", record_coverage(RECORD)), ("matched", record_coverage({})),
                         ("pending", None), ("not_in_openalex", None)])
    assert summary == {"feed_papers": 4, "matched": 2, "pending": 1, "not_in_openalex": 1, "ambiguous": 0,
                       "unmatched": 0, "with_references": 1, "with_abstract": 1, "with_institutions": 1,
                       "authors": 3, "authors_with_orcid": 1}
    assert describe(summary).startswith("2 of 4 feed papers in OpenAlex (1 pending); with references 1/2")
