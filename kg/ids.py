"""Identifiers: OpenAlex ids, DOIs and arXiv ids, their forms and their safety.

Every stage speaks of works by these ids, so their parsing lives here, with no
dependency beyond the standard library. `filter_safe` guards the one place
where an identifier becomes syntax: an OpenAlex `filter=` value, where `,`
separates clauses, `|` separates alternatives and `:` separates a key from its
value. An id carrying those characters is looked up on its own, never composed
into a batch where it would change the meaning of the other 99 values.
"""

from __future__ import annotations

import re

OPENALEX = "https://openalex.org/"
ARXIV_NEW = r"\d{4}\.\d{4,5}"
ARXIV_OLD = r"[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
ARXIV_DOI_PREFIX = "10.48550/arxiv."

_ARXIV_ID = re.compile(rf"^(?:arxiv:\s*)?(?P<id>{ARXIV_NEW}|{ARXIV_OLD})(?:v\d+)?$", re.I)
_ARXIV_URL = re.compile(rf"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/(?P<id>{ARXIV_NEW}|{ARXIV_OLD})"
                        r"(?:v\d+)?(?:\.pdf)?/?$", re.I)
_HF_PAPER_URL = re.compile(rf"^https?://(?:www\.)?huggingface\.co/papers/(?P<id>{ARXIV_NEW})(?:v\d+)?/?$", re.I)
_ARXIV_IN_URL = re.compile(rf"arxiv\.org/(?:abs|pdf)/(?P<id>{ARXIV_NEW}|{ARXIV_OLD})", re.I)
_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(?P<doi>10\.\d{4,9}/\S+)$", re.I)
_OPENALEX_ID = re.compile(r"^(?:https?://(?:api\.)?openalex\.org/(?:works/)?)?(?P<id>W\d+)$", re.I)
_WORK_KEY = re.compile(r"^[WAISTP]\d+$")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


def last_segment(iri: str) -> str:
    """The last path segment of an IRI, as written: 'https://ror.org/05x2bcf33' -> '05x2bcf33'."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def short_id(openalex_id: str) -> str:
    """'https://openalex.org/W123' (or 'w123') -> 'W123'."""
    return last_segment(openalex_id).upper()


def full_id(key: str) -> str:
    """'W123' (or any URL ending in it) -> 'https://openalex.org/W123'."""
    return f"{OPENALEX}{short_id(key)}"


def is_openalex_key(key: str) -> bool:
    """True for an ASCII OpenAlex key such as W123 (no non-ASCII digits, nothing else)."""
    return bool(_WORK_KEY.match(key)) and key.isascii()


def arxiv_doi(arxiv_id: str) -> str:
    return f"{ARXIV_DOI_PREFIX}{arxiv_id.lower()}"


def bare_doi(doi: str | None) -> str | None:
    """A DOI in its lower-case bare form (no resolver URL, no `doi:`), or None."""
    if not doi:
        return None
    doi = doi.strip().lower()
    for prefix in _DOI_PREFIXES:
        if doi.startswith(prefix):
            doi = doi[len(prefix):]
    return doi


def filter_safe(value: str) -> bool:
    """True when a value can stand in an OpenAlex OR filter without changing its syntax."""
    return value.isascii() and not any(c in value for c in ",|:+&#?") and value.strip() == value and value != ""


def parse_identifier(item: str) -> tuple[str, str] | None:
    """Classify one list item as ('arxiv'|'doi'|'openalex', value), or None for a title."""
    item = item.strip()
    if match := _ARXIV_ID.match(item) or _ARXIV_URL.match(item) or _HF_PAPER_URL.match(item):
        return "arxiv", match.group("id")
    if match := _OPENALEX_ID.match(item):
        return "openalex", match.group("id").upper()
    if match := _DOI.match(item):
        doi = match.group("doi").rstrip(".,;")
        if doi.lower().startswith(ARXIV_DOI_PREFIX) and _ARXIV_ID.match(doi[len(ARXIV_DOI_PREFIX):]):
            return "arxiv", doi[len(ARXIV_DOI_PREFIX):]
        return "doi", doi.lower()
    return None


def arxiv_id(value: object) -> str | None:
    """The arXiv id in a string such as '2406.06484v2' or 'arXiv:hep-th/9901001', or None."""
    if isinstance(value, str) and (match := _ARXIV_ID.match(value.strip())):
        return match.group("id")
    return None


def arxiv_ids_of(record: dict) -> set[str]:
    """arXiv ids a work record points to, through its DOI or arxiv.org locations."""
    found = set()
    doi = bare_doi(record.get("doi")) or ""
    if doi.startswith(ARXIV_DOI_PREFIX):
        found.add(doi[len(ARXIV_DOI_PREFIX):])
    locations = [*(record.get("locations") or []), record.get("best_oa_location") or {},
                 record.get("primary_location") or {}]
    urls = [u for loc in locations for u in ((loc or {}).get("landing_page_url"), (loc or {}).get("pdf_url")) if u]
    urls.append((record.get("open_access") or {}).get("oa_url") or "")
    for url in urls:
        if match := _ARXIV_IN_URL.search(url):
            found.add(match.group("id").lower())
    return found


def ids_under(record: dict, filter_key: str) -> set[str]:
    """The ids a work record holds under one OpenAlex works filter, as that filter takes them: short ids for
    `cites`, `authorships.author.id` and `topics.id`, bare upper-case ORCIDs for `authorships.author.orcid`."""
    authors = [a.get("author") or {} for a in record.get("authorships") or []]
    if filter_key == "cites":
        return {short_id(w) for w in record.get("referenced_works") or []}
    if filter_key == "authorships.author.id":
        return {short_id(a["id"]) for a in authors if a.get("id")}
    if filter_key == "authorships.author.orcid":
        return {last_segment(a["orcid"]).upper() for a in authors if a.get("orcid")}
    if filter_key == "topics.id":
        return {short_id(t["id"]) for t in record.get("topics") or [] if t.get("id")}
    raise ValueError(f"no ids under the filter {filter_key}")
