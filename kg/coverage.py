"""How complete OpenAlex's picture of each feed paper is, and of the feed as a whole.

OpenAlex indexes a new arXiv preprint within days, but often first without its
references or abstract, and fills them in over the following days. A feed
paper with no references is then not unconnected by nature, only not yet
connected: kg says so, and fetches such works again on later runs (see
`kg.enrich`). Everything here reads raw OpenAlex records, so the enrichment,
the export and `kg matches` count the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

NO_REFERENCES = "OpenAlex lists no references for this work yet"


@dataclass(frozen=True)
class Coverage:
    """What OpenAlex's record of one work holds."""

    references: int
    abstract: bool
    authors: int
    authors_with_orcid: int
    institutions: int

    def flags(self) -> list[str]:
        """What is missing, in words a reader of the report understands."""
        flags = [NO_REFERENCES] if self.references == 0 else []
        if not self.abstract:
            flags.append("no abstract in OpenAlex yet")
        if self.authors and not self.institutions:
            flags.append("no institutions")
        return flags


def record_coverage(record: dict) -> Coverage:
    authorships = record.get("authorships") or []
    institutions = {i.get("id") for a in authorships for i in (a.get("institutions") or []) if i and i.get("id")}
    return Coverage(
        references=len(record.get("referenced_works") or []),
        abstract=bool(record.get("abstract_inverted_index")),
        authors=len(authorships),
        authors_with_orcid=sum(1 for a in authorships if (a.get("author") or {}).get("orcid")),
        institutions=len(institutions),
    )


def added(before: Coverage, after: Coverage) -> list[str]:
    """What a refetch added to a work, e.g. ["references 0 → 31", "abstract"]; empty when nothing grew."""
    found = []
    for name in ("references", "authors", "authors_with_orcid", "institutions"):
        old, new = getattr(before, name), getattr(after, name)
        if new > old:
            found.append(f"{name.replace('_', ' ')} {old} → {new}")
    if after.abstract and not before.abstract:
        found.append("abstract")
    return found


STATUSES = ("matched", "pending", "not_in_openalex", "ambiguous", "unmatched")


def summarise(papers: Iterable[tuple[str, Coverage | None]]) -> dict[str, int]:
    """Feed-wide figures from (resolution status, coverage of the matched work) per distinct feed paper."""
    statuses: Counter = Counter()
    totals: Counter = Counter()
    for status, coverage in papers:
        statuses[status] += 1
        if coverage is None:
            continue
        totals["with_references"] += coverage.references > 0
        totals["with_abstract"] += coverage.abstract
        totals["with_institutions"] += coverage.institutions > 0
        totals["authors"] += coverage.authors
        totals["authors_with_orcid"] += coverage.authors_with_orcid
    return {"feed_papers": sum(statuses.values()), **{s: statuses[s] for s in STATUSES},
            **{k: totals[k] for k in ("with_references", "with_abstract", "with_institutions", "authors",
                                      "authors_with_orcid")}}


def describe(summary: dict[str, int]) -> str:
    """One line for people: how many feed papers OpenAlex has, and how complete they are."""
    matched = summary["matched"]
    share = lambda n, of: f"{n}/{of}" if of else "0"  # noqa: E731
    return (f"{matched} of {summary['feed_papers']} feed papers in OpenAlex ({summary['pending']} pending); "
            f"with references {share(summary['with_references'], matched)}, "
            f"abstract {share(summary['with_abstract'], matched)}, "
            f"institutions {share(summary['with_institutions'], matched)}; "
            f"authors with ORCID {share(summary['authors_with_orcid'], summary['authors'])}")
