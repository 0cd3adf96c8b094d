"""Talk to OpenAlex: the live API over HTTP, or a local snapshot of its records.

Both sources answer the same small set of questions (works by id, by DOI, by
arXiv id, by title search, and the works citing one work), so resolution and
enrichment never know which one they are using. pyalex composes the query
strings; kg owns the transport because pyalex always targets the public host
and opens a new session per call, while kg needs one pooled, cached,
rate-limited session pointed at any base URL.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import urlsplit

import pyalex
import requests
import requests_cache

from kg import __version__
from kg.feeds import ARXIV_NEW, ARXIV_OLD, normalise_title

DEFAULT_URL = "https://api.openalex.org"
MAX_PER_CALL = 100
# USD per request, as OpenAlex bills them in 2026 (single lookups are free).
COST_USD = {"single": 0.0, "list": 0.0001, "search": 0.001}
# Fields the graph needs from works that are not feed papers.
_ARXIV_LOCATION = re.compile(rf"arxiv\.org/(?:abs|pdf)/(?P<id>{ARXIV_NEW}|{ARXIV_OLD})", re.I)
# The forms arXiv landing pages take in OpenAlex locations; the filter matches them exactly.
ARXIV_URL_FORMS = ["https://arxiv.org/abs/{}", "http://arxiv.org/abs/{}", "https://arxiv.org/pdf/{}",
                   "http://arxiv.org/pdf/{}", "http://export.arxiv.org/abs/{}", "http://export.arxiv.org/pdf/{}"]
ARXIV_IDS_PER_CALL = MAX_PER_CALL // len(ARXIV_URL_FORMS)
GRAPH_FIELDS = [
    "id", "doi", "title", "display_name", "publication_year", "publication_date", "type",
    "authorships", "primary_location", "primary_topic", "topics", "cited_by_count",
    "referenced_works", "ids", "is_authors_truncated",
]


SENT_ERRORS = (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError)
"""Failures after the request reached the server (which may have answered, and billed, it)."""
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError)


class OpenAlexError(Exception):
    """OpenAlex answered in a way kg cannot use; the message says what to do."""


class BudgetExhausted(OpenAlexError):
    """The daily budget (OpenAlex's) or the --budget limit (kg's) is spent."""


def short_id(openalex_id: str) -> str:
    """'https://openalex.org/W123' -> 'W123'."""
    return openalex_id.rstrip("/").rsplit("/", 1)[-1].upper()


def full_id(key: str) -> str:
    return f"https://openalex.org/{short_id(key)}"


def arxiv_doi(arxiv_id: str) -> str:
    return f"10.48550/arxiv.{arxiv_id.lower()}"


def bare_doi(doi: str | None) -> str | None:
    if not doi:
        return None
    doi = doi.strip().lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if doi.startswith(prefix):
            doi = doi[len(prefix):]
    return doi


def arxiv_ids_of(record: dict) -> set[str]:
    """arXiv ids a work record points to, through its DOI or arxiv.org locations."""
    found = set()
    doi = bare_doi(record.get("doi")) or ""
    if doi.startswith("10.48550/arxiv."):
        found.add(doi[len("10.48550/arxiv."):])
    locations = [*(record.get("locations") or []), record.get("best_oa_location") or {},
                 record.get("primary_location") or {}]
    urls = [u for loc in locations for u in ((loc or {}).get("landing_page_url"), (loc or {}).get("pdf_url")) if u]
    urls.append((record.get("open_access") or {}).get("oa_url") or "")
    for url in urls:
        if match := _ARXIV_LOCATION.search(url):
            found.add(match.group("id").lower())
    return found


@dataclass
class RequestStats:
    """Requests actually sent (cache hits excluded), by kind, with their cost."""

    counts: Counter = field(default_factory=Counter)
    cache_hits: int = 0
    retries: int = 0

    @property
    def credits_usd(self) -> float:
        return sum(COST_USD[kind] * n for kind, n in self.counts.items())

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class RateLimiter:
    """Space request starts at least 1/rate seconds apart, across threads."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.lock = threading.Lock()
        self.next_slot = 0.0

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class OpenAlexAPI:
    """The live (or a compatible local) OpenAlex API."""

    def __init__(self, base_url: str = DEFAULT_URL, api_key: str | None = None, *,
                 rate: float = 10.0, cache_path: Path | None = None, retries: int = 6,
                 timeout: float = 30.0, backoff: float = 0.5, max_wait: float = 120.0,
                 budget_usd: float | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.max_wait = max_wait
        self.budget_usd = budget_usd
        self.stats = RequestStats()
        self.limiter = RateLimiter(rate)
        self.lock = threading.Lock()
        if cache_path is not None:
            self.session = requests_cache.CachedSession(
                str(cache_path), backend="sqlite", expire_after=7 * 24 * 3600,
                ignored_parameters=["api_key"], allowable_codes=(200,), stale_if_error=False)
        else:
            self.session = requests.Session()
        self.session.headers["User-Agent"] = f"kg/{__version__} (citation knowledge-graph builder)"
        self.session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self.session.close()

    # -- composing queries with pyalex -------------------------------------

    def _url(self, query: pyalex.Works | str, **params: object) -> str:
        """Rebase a pyalex query (or a path) on our URL and add paging parameters."""
        if isinstance(query, str):
            path, qs = query, ""
        else:
            parts = urlsplit(query.url)
            path, qs = parts.path, parts.query
        extra = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
        joined = "&".join(p for p in (qs, extra) if p)
        return f"{self.base_url}{path}" + (f"?{joined}" if joined else "")

    # -- transport ------------------------------------------------------------

    def _charge(self, kind: str) -> None:
        with self.lock:
            if self.budget_usd is not None and self.stats.credits_usd + COST_USD[kind] > self.budget_usd + 1e-12:
                raise BudgetExhausted(f"the --budget of ${self.budget_usd:.4f} would be exceeded by the next {kind} request")

    def _get(self, url: str, kind: str, allow_redirects: bool = True) -> requests.Response:
        """GET with rate limiting and retries; returns a response with a usable body."""
        self._charge(kind)
        params = {"api_key": self.api_key} if self.api_key else None
        shown = url  # the key is never part of what we print or raise
        for attempt in range(self.retries + 1):
            self.limiter.wait()
            try:
                response = self.session.get(url, params=params, timeout=self.timeout, allow_redirects=allow_redirects)
            except TRANSIENT_ERRORS as error:
                problem = f"{type(error).__name__}"
                response = None
                if isinstance(error, SENT_ERRORS):  # the server got it and may bill it: count it as spent
                    with self.lock:
                        self.stats.counts[kind] += 1
            else:
                with self.lock:
                    if getattr(response, "from_cache", False):
                        self.stats.cache_hits += 1
                    else:
                        self.stats.counts[kind] += 1
                problem = self._retryable_problem(response)
                if problem is None:
                    return response
            if attempt == self.retries:
                raise OpenAlexError(f"OpenAlex did not answer usefully after {self.retries + 1} tries ({problem}): {shown}")
            with self.lock:
                self.stats.retries += 1
            time.sleep(self._delay(attempt, response))
        raise AssertionError("unreachable")

    def _retryable_problem(self, response: requests.Response) -> str | None:
        """None if the response can be used; a reason if it is worth retrying; raise otherwise."""
        status = response.status_code
        if status == 429:
            wait = _retry_after(response)
            if wait is None or wait > self.max_wait or response.headers.get("X-RateLimit-Remaining") == "0":
                raise BudgetExhausted("OpenAlex says today's budget is spent"
                                      + (f" (retry after {int(wait)} s)" if wait else ""))
            return "429 rate limited"
        if status == 403:
            return "403 rate limit exceeded"
        if status >= 500:
            return f"HTTP {status}"
        if status == 401:
            raise OpenAlexError("OpenAlex rejected the request: API key missing or invalid. "
                                "Set OPENALEX_API_KEY or pass --api-key (free keys at openalex.org)")
        if status in (200,) and not _is_json(response):
            if isinstance(self.session, requests_cache.CachedSession):
                self.session.cache.delete(requests=[response.request])
            return "invalid or truncated JSON"
        return None

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None and (wait := _retry_after(response)) is not None:
            return wait
        return self.backoff * (2 ** attempt) * (0.5 + random.random())

    def _json(self, response: requests.Response, url: str) -> dict:
        if response.status_code == 200:
            return response.json()
        raise OpenAlexError(f"OpenAlex answered HTTP {response.status_code}: {_error_message(response)} ({url})")

    # -- the questions kg asks ---------------------------------------------------

    def works_by_ids(self, ids: list[str], select: list[str] | None = None) -> list[dict]:
        query = pyalex.Works().filter_or(openalex_id="|".join(short_id(i) for i in ids))
        if select:
            query = query.select(select)
        url = self._url(query, per_page=MAX_PER_CALL)
        return self._json(self._get(url, "list"), url)["results"]

    def works_by_dois(self, dois: list[str]) -> list[dict]:
        url = self._url(pyalex.Works().filter_or(doi="|".join(dois)), per_page=MAX_PER_CALL)
        return self._json(self._get(url, "list"), url)["results"]

    def works_by_arxiv(self, arxiv_ids: list[str]) -> list[dict]:
        """Works whose arXiv location is one of these ids (for preprints merged into journal versions)."""
        urls = "|".join(form.format(a) for a in arxiv_ids for form in ARXIV_URL_FORMS)
        url = self._url(pyalex.Works().filter_or(**{"locations.landing_page_url": urls}), per_page=MAX_PER_CALL)
        return self._json(self._get(url, "list"), url)["results"]

    def search_works(self, text: str, per_page: int = 10) -> list[dict]:
        url = self._url(pyalex.Works().search(text), per_page=per_page)
        return self._json(self._get(url, "search"), url)["results"]

    def single_work(self, work_id: str, select: list[str] | None = None) -> dict | str | None:
        """A work record, the id it was merged into (str), or None if unknown."""
        url = self._url(f"/works/{short_id(work_id)}", select=",".join(select) if select else None)
        response = self._get(url, "single", allow_redirects=False)
        if response.status_code in (301, 302, 307, 308):
            return full_id(response.headers["Location"].split("?")[0])
        if response.status_code == 404:
            return None
        return self._json(response, url)

    def citing_works(self, work_id: str, limit: int, select: list[str] | None = None) -> list[dict]:
        """Up to `limit` works citing this one, by cursor paging."""
        query = pyalex.Works().filter(cites=short_id(work_id))
        if select:
            query = query.select(select)
        results: list[dict] = []
        cursor = "*"
        while cursor and len(results) < limit:
            url = self._url(query, per_page=min(MAX_PER_CALL, limit - len(results)), cursor=cursor)
            page = self._json(self._get(url, "list"), url)
            results.extend(page["results"])
            cursor = page.get("meta", {}).get("next_cursor") if page["results"] else None
        return results[:limit]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _is_json(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def _error_message(response: requests.Response) -> str:
    """The message of an OpenAlex error body, JSON or not (the 404 for a DOI is HTML)."""
    try:
        body = response.json()
        message = body.get("message") or body.get("error") or str(body)
    except ValueError:
        text = response.text
        message = "an HTML error page" if "<html" in text[:200].lower() else text.strip()[:200]
    return message if len(message) <= 300 else message[:300] + "…"


# -- the offline snapshot ------------------------------------------------------

def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise OpenAlexError(f"{path}:{number}: not a JSON object; is this an OpenAlex snapshot file?") from None


def snapshot_files(root: Path, entity: str) -> list[Path]:
    """Files of one entity: flat `works*.jsonl[.gz]` or the snapshot's `data/works/updated_date=*/part_*`."""
    flat = sorted(p for p in root.glob(f"{entity}*.jsonl*") if p.is_file())
    nested = sorted(p for p in (root / "data" / entity).glob("updated_date=*/part_*") if p.is_file())
    return flat + nested


MERGED_ENTITIES = ("works", "authors", "institutions", "sources")


def merged_ids(root: Path, entities: Iterable[str] = MERGED_ENTITIES) -> dict[str, str]:
    """Merged ids (old → surviving id) from the snapshot's `data/merged_ids/{works,authors,…}/*.csv.gz`.

    OpenAlex ids carry their entity type (W…, A…, I…, S…), so one map serves all.
    """
    aliases = {}
    folder = root / "data" / "merged_ids"
    for path in sorted(path for entity in entities for path in (folder / entity).glob("*.csv*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                aliases[full_id(row["id"])] = full_id(row["merge_into_id"])
    return aliases


class Snapshot:
    """OpenAlex records read from local JSON Lines, answering like the API does."""

    def __init__(self, root: Path):
        if not root.is_dir():
            raise OpenAlexError(f"--snapshot {root}: no such directory")
        files = snapshot_files(root, "works")
        if not files:
            raise OpenAlexError(f"--snapshot {root}: no works*.jsonl[.gz] or data/works/ files found")
        self.stats = RequestStats()
        self.works: dict[str, dict] = {}
        for path in files:
            for record in read_jsonl(path):
                self.works[full_id(record["id"])] = record
        self.merged = {full_id(r["old"]): full_id(r["new"]) for p in sorted(root.glob("merged*.jsonl")) for r in read_jsonl(p)}
        self.merged |= merged_ids(root, ["works"])
        self.by_doi: dict[str, list[str]] = {}
        self.by_arxiv: dict[str, list[str]] = {}
        self.by_title: dict[str, list[str]] = {}
        self.by_token: dict[str, set[str]] = {}
        for work_id, record in self.works.items():
            if doi := bare_doi(record.get("doi")):
                self.by_doi.setdefault(doi, []).append(work_id)
            for arxiv in arxiv_ids_of(record):
                self.by_arxiv.setdefault(arxiv, []).append(work_id)
            title = normalise_title(record.get("title") or record.get("display_name") or "")
            self.by_title.setdefault(title, []).append(work_id)
            for token in set(title.split()):
                self.by_token.setdefault(token, set()).add(work_id)
        self.citers: dict[str, list[str]] = {}
        for citing_id in sorted(self.works):
            for ref in self.works[citing_id].get("referenced_works") or []:
                self.citers.setdefault(full_id(ref), []).append(citing_id)
        self.entities = {kind: {full_id(r["id"]): r for p in snapshot_files(root, kind) for r in read_jsonl(p)}
                         for kind in ("authors", "institutions", "sources", "topics")}

    def close(self) -> None:
        pass

    def _select(self, records: Iterable[dict], select: list[str] | None) -> list[dict]:
        return [{k: r[k] for k in select if k in r} if select else r for r in records]

    def works_by_ids(self, ids: list[str], select: list[str] | None = None) -> list[dict]:
        return self._select((self.works[full_id(i)] for i in ids if full_id(i) in self.works), select)

    def works_by_dois(self, dois: list[str]) -> list[dict]:
        return [self.works[w] for d in dois for w in self.by_doi.get(bare_doi(d), [])]

    def works_by_arxiv(self, arxiv_ids: list[str]) -> list[dict]:
        return [self.works[w] for a in arxiv_ids for w in self.by_arxiv.get(a.lower(), [])]

    def search_works(self, text: str, per_page: int = 10) -> list[dict]:
        """Rank works by shared title tokens, as a local stand-in for OpenAlex's relevance search."""
        tokens = normalise_title(text).split()
        scores: Counter = Counter()
        for token in set(tokens):
            postings = self.by_token.get(token, ())
            if len(postings) > 2000:
                continue
            weight = 1.0 / (1 + len(postings))
            for work_id in postings:
                scores[work_id] += weight
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:per_page]
        return [self.works[w] for w, _ in ranked]

    def single_work(self, work_id: str, select: list[str] | None = None) -> dict | str | None:
        work_id = full_id(work_id)
        if work_id in self.merged:
            return self.merged[work_id]
        record = self.works.get(work_id)
        return self._select([record], select)[0] if record else None

    def citing_works(self, work_id: str, limit: int, select: list[str] | None = None) -> list[dict]:
        return self._select((self.works[c] for c in self.citers.get(full_id(work_id), [])[:limit]), select)
