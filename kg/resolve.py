"""Decide which OpenAlex work a feed paper is, from the evidence at hand.

Identifiers are trusted; titles are not. A title match must survive three
checks: near-identical normalised titles, no meaningful token swapped (Part I /
Part II, Linear / Nonlinear, a number), and agreement of year, author count and
author names where the feed states them. Precision comes first: an analyst can
add a missing paper by id, but a wrong match silently corrupts the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from kg.feeds import FeedPaper
from kg.ids import last_segment
from kg.text import normalise_title

ACCEPT = 0.85
TIE_MARGIN = 0.02
_ROMAN = re.compile(r"^(?:i{1,3}|iv|v|vi{1,3}|ix|x)$")
_MINOR_WORDS = {"a", "an", "the", "of", "for", "and", "in", "on", "to", "with", "via", "by", "from", "at"}


@dataclass
class Resolution:
    """How one feed paper was resolved: work id or None, and why."""

    key: str
    work_id: str | None
    method: str
    score: float | None = None
    status: str = "matched"  # matched | ambiguous | pending | not_in_openalex | unmatched
    reason: str | None = None
    alternates: list[str] = field(default_factory=list)
    evidence: str | None = None
    resolved_without: list[str] = field(default_factory=list)
    """Optional services that failed while this paper was being resolved (a later run asks them again)."""


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date and date[:4].isdigit() else None


def _surname(name: str) -> str:
    name = normalise_title(name.split(",")[0] if "," in name else name)
    return name.split()[-1] if name else ""


def meaningful_difference(a: str, b: str) -> str | None:
    """Name a token that changes the meaning between two normalised titles, if any.

    Tokens present on one side only are fine when they are minor words or
    spelling variants of a token on the other side; a number, a roman numeral
    or a different word standing in for another is not.
    """
    left, right = set(a.split()), set(b.split())
    only_left, only_right = left - right, right - left
    for token in sorted(only_left | only_right):  # sorted: a set's order changes with each process's hash seed
        if token.isdigit() or _ROMAN.match(token) or any(c.isdigit() for c in token):
            return token
    substantive_left = {t for t in only_left if t not in _MINOR_WORDS}
    substantive_right = {t for t in only_right if t not in _MINOR_WORDS}
    for token in sorted(substantive_left):
        close = [t for t in substantive_right if fuzz.ratio(token, t) >= 85 or t.rstrip("s") == token.rstrip("s")]
        if not close and substantive_right:
            return token
    return None


def score_candidate(paper: FeedPaper, record: dict) -> tuple[float, str | None]:
    """Score how well a work record fits a feed paper (0..1) and say what argues against it."""
    wanted = normalise_title(paper.title or "")
    found = normalise_title(record.get("title") or record.get("display_name") or "")
    if not wanted or not found:
        return 0.0, "no title to compare"
    score = 1.0 if wanted.replace(" ", "") == found.replace(" ", "") else fuzz.ratio(wanted, found) / 100
    if score < ACCEPT:
        return score, f"title similarity {score:.2f}"
    if score < 1.0 and (token := meaningful_difference(wanted, found)):
        return min(score, ACCEPT - 0.2), f"titles differ in a meaningful token ({token!r})"
    problems = []
    year, work_year = _year(paper.published), record.get("publication_year")
    if year and work_year:
        gap = abs(year - work_year)
        if gap >= 4:
            score -= 0.3
            problems.append(f"year {work_year} vs feed {year}")
        elif gap >= 2:
            score -= 0.1
            problems.append(f"year {work_year} vs feed {year}")
    authorships = record.get("authorships") or []
    if paper.author_count and authorships and not record.get("is_authors_truncated"):
        if len(authorships) != paper.author_count:
            score -= 0.1
            problems.append(f"{len(authorships)} authors vs feed {paper.author_count}")
    if paper.authors and authorships:
        theirs = {_surname((a.get("author") or {}).get("display_name") or a.get("raw_author_name") or "") for a in authorships}
        ours = [_surname(name) for name in paper.authors]
        shared = sum(1 for s in ours if s in theirs) / len(ours)
        if shared < 0.5:
            score -= 0.2
            problems.append(f"only {shared:.0%} of the feed's author names found")
    return round(max(score, 0.0), 4), "; ".join(problems) or None


def _version_rank(paper: FeedPaper, record: dict) -> tuple:
    """Among equally good candidates prefer the one dated like the feed, then preprints."""
    date = record.get("publication_date") or ""
    feed_year = _year(paper.published)
    gap = abs(feed_year - (record.get("publication_year") or feed_year)) if feed_year else 0
    return gap, 0 if record.get("type") == "preprint" else 1, date, record.get("id", "")


def choose(paper: FeedPaper, candidates: list[dict], method: str = "search") -> Resolution:
    """Pick the work a title-only paper refers to, or explain why none fits."""
    scored = []
    best_reason = None
    best_score = 0.0
    for record in candidates:
        score, reason = score_candidate(paper, record)
        if score >= ACCEPT:
            scored.append((score, record))
        elif score > best_score:
            best_score, best_reason = score, f"best candidate {last_segment(record.get('id', '?'))}: {reason}"
    if not scored:
        return Resolution(paper.key, None, method, round(best_score, 4) if candidates else None, "unmatched",
                          best_reason or "no candidate returned")
    top = max(s for s, _ in scored)
    leaders = [r for s, r in scored if s >= top - TIE_MARGIN]
    leaders.sort(key=lambda r: _version_rank(paper, r))
    titles = {normalise_title(r.get("title") or "") for r in leaders}
    chosen = leaders[0]
    others = [r["id"] for r in leaders[1:]]
    if len(titles) > 1:
        return Resolution(paper.key, None, method, top, "ambiguous",
                          f"{len(leaders)} works fit equally well: " + ", ".join(last_segment(r["id"]) for r in leaders),
                          [r["id"] for r in leaders])
    reason = f"also a version of it: {', '.join(last_segment(o) for o in others)}" if others else None
    return Resolution(paper.key, chosen["id"], method, top, "matched", reason, others)


def match_by_identifier(paper: FeedPaper, records: list[dict], method: str,
                        evidence: str | None = None) -> Resolution | None:
    """Accept an id-matched record, warning (not rejecting) when its title disagrees."""
    if not records:
        return None
    record = sorted(records, key=lambda r: r["id"])[0]
    reason = None
    if paper.title and record.get("title"):
        score, problem = score_candidate(paper, record)
        if score < ACCEPT:
            reason = f"matched by {method}, but the title differs ({problem})"
    return Resolution(paper.key, record["id"], method, 1.0, "matched", reason, evidence=evidence)


def hf_record(item: dict) -> dict:
    """A Hugging Face papers item in the shape `score_candidate` reads (title, year, author names)."""
    nested = item.get("paper")
    paper: dict = nested if isinstance(nested, dict) else item
    published = paper.get("publishedAt")
    names = [a.get("name") for a in paper.get("authors") or [] if isinstance(a, dict) and a.get("name")]
    return {"id": str(paper.get("id") or ""), "title": paper.get("title") or item.get("title") or "",
            "publication_year": _year(published if isinstance(published, str) else None),
            "authorships": [{"author": {"display_name": n}} for n in names]}


def verified_arxiv_id(paper: FeedPaper, items: list[dict]) -> tuple[str, float] | None:
    """The arXiv id of the one Hugging Face result that is this paper (same checks as any title match)."""
    resolution = choose(paper, [r for r in map(hf_record, items) if r["id"]], method="hf_search")
    return (resolution.work_id, resolution.score or 0.0) if resolution.work_id else None
