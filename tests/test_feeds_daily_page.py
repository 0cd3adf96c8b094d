"""The Daily Papers page reader follows the page's structure, not its exact characters.

Each sample page, changed the way pages saved from another browser, edited by hand or pasted from an email
are changed, still gives the same entries as the original."""

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PAGES
from kg.feeds import read_text
from kg.feeds.daily_page import PAGE_HEADER_LINES, read_page, recognises


def entries(text, name="page.txt"):
    papers, _ = read_page(text, name, 2025)
    return [(p.title, p.abstract, p.author_count, p.organization, p.published, p.upvotes, p.feed_date) for p in papers]


def _header_lines(text):
    return [line for line in text.split("\n") if line.strip().lower() in PAGE_HEADER_LINES]


def reorder_header(text, rng):
    lines = text.split("\n")
    header = [i for i, line in enumerate(lines) if line.strip().lower() in PAGE_HEADER_LINES]
    values = [lines[i] for i in header]
    rng.shuffle(values)
    for i, value in zip(header, values):
        lines[i] = value
    return "\n".join(lines)


MUTATIONS = {
    "crlf": lambda text, rng: text.replace("\n", "\r\n"),
    "no-break spaces": lambda text, rng: text.replace("  • ", "\u00a0\u00a0•\u00a0").replace(" authors", "\u00a0authors"),
    "other unicode spaces": lambda text, rng: "".join(rng.choice([" ", "\u2009", "\u3000", "\u202f"]) if c == " " and
                                                      rng.random() < 0.1 else c for c in text),
    "tabs": lambda text, rng: text.replace("  • ", "\t• ").replace("\n·\n", "\n\t·\t\n"),
    "trailing spaces": lambda text, rng: re.sub(r"(\r?\n)", r"   \1", text),
    "runs of blank lines": lambda text, rng: text.replace("\n\n", "\n\n\n\n"),
    "header in another order": reorder_header,
    "header missing": lambda text, rng: "\n".join(line for line in text.split("\n")
                                                  if line.strip().lower() not in PAGE_HEADER_LINES),
    "no bullets": lambda text, rng: text.replace("•", ""),
    "metadata on one line": lambda text, rng: text.replace("\n·\n", " · "),
}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name[:3])
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_each_mutation_gives_the_same_entries(page, mutation):
    text = page.read_text(encoding="utf-8")
    changed = MUTATIONS[mutation](text, random.Random(1))
    if changed == text:
        pytest.skip(f"{page.name} has nothing the mutation changes (no metadata)")
    assert recognises(changed)
    assert entries(changed) == entries(text)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(PAGES), st.sets(st.sampled_from(sorted(MUTATIONS)), min_size=2), st.integers(0, 10**6))
def test_random_combinations_of_mutations_give_the_same_entries(page, chosen, seed):
    text = page.read_text(encoding="utf-8")
    rng = random.Random(seed)
    changed = text
    for name in sorted(chosen, key=lambda _: rng.random()):
        changed = MUTATIONS[name](changed, rng)
    assert entries(changed) == entries(text)


def test_every_metadata_line_without_its_bullet():
    text = PAGES[0].read_text(encoding="utf-8")
    assert "•" not in (bare := text.replace("• ", ""))
    assert entries(bare) == entries(text) and len(entries(bare)) == 53


@pytest.mark.parametrize("bullet", ["• ", ""])
def test_an_organisation_in_place_of_the_author_count(bullet):
    text = PAGES[0].read_text(encoding="utf-8").replace("  • 5 authors", f"  {bullet}DeepMind", 1)
    papers, warnings = read_page(text, "page.txt", 2025)
    assert not warnings and len(papers) == 53
    assert papers[0].organization == "DeepMind" and papers[0].author_count is None
    assert papers[0].published == "2024-06-10" and papers[0].upvotes == 2


def test_a_missing_abstract_keeps_the_entry():
    text = PAGES[0].read_text(encoding="utf-8")
    first_abstract = next(p for p in text.split("\n\n") if p.startswith("Transformers with linear attention"))
    papers, warnings = read_page(text.replace(first_abstract + "\n\n", "", 1), "page.txt", 2025)
    original, _ = read_page(text, "page.txt", 2025)
    assert not warnings and len(papers) == 53
    assert papers[0].abstract is None and papers[0].title == original[0].title and papers[0].author_count == 5
    assert [p.title for p in papers] == [p.title for p in original]


def test_a_paragraph_that_fits_no_entry_is_reported_with_its_line():
    text = PAGES[0].read_text(encoding="utf-8").replace("\n\n  • 3 authors\n", "\n\n  • 3 authors\n\n· \n", 1)
    papers, warnings = read_text(text, "page.txt", 2025)
    assert len(papers) == 53
    [notice] = warnings
    assert notice.skipped and notice.source == "page.txt" and notice.line and "metadata without a title" in notice.reason
