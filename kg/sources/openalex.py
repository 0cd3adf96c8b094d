"""The live OpenAlex API (or anything that answers like it) over HTTP.

How the service behaves in 2026 (cost per request kind, the two kinds of 429,
merged ids answering 404, `per_page` up to 200) is written down, with its
sources in OpenAlex's own server code, in the README's OpenAlex section. This
client follows that, not the public docs where they differ:

* A per-second throttle (429, `Retry-After: 1`, "Rate limit exceeded … slow
  down") pauses every worker and lowers the pace; only a spent daily budget
  (429, "Insufficient budget …") stops the run, with `BudgetExhausted`.
* What was spent is read from each answer's `X-RateLimit-Cost-USD`; the price
  table below is only the estimate reserved before a request is sent.
* The API key travels in `Authorization: Bearer`, so it is in no URL, no log
  line and no HTTP-cache key.
* A list whose search hit the service's soft 5 s timeout answers 200 with only
  part of the results and `meta.timed_out: true`; kg retries it instead of
  reading the missing works as merged or absent.

pyalex composes the filter strings; kg owns the transport because pyalex
always targets the public host and opens a session per call, while kg needs
one pooled, cached, rate-limited session pointed at any base URL.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pyalex
import requests
import requests_cache

from kg.errors import BudgetExhausted, SourceError
from kg.ids import short_id
from kg.sources import DEFAULT_URL
from kg.sources.http import (
    SENT_ERRORS,
    TRANSIENT_ERRORS,
    Ledger,
    RateLimiter,
    float_header,
    forget,
    json_body,
    json_session,
    retry_after,
)

MAX_PER_CALL = 100      # values in one OR filter (the API's MAX_IDS_IN_FILTER)
MAX_PER_PAGE = 200      # the API's max_per_page
MAX_REQUEST_LINE = 8000  # the API refuses request lines over 8,190 bytes
# Estimated USD per request kind before the server says (1 credit = $0.0001; singletons and autocomplete free).
PRICES_USD = {"singleton": 0.0, "list": 0.0001, "search": 0.001, "autocomplete": 0.0}
# Per-second limits and daily budgets by plan (keyless since 2026-06-20; a free key).
KEYLESS = {"per_second": 10, "credits_per_day": 1_000}
FREE_KEY = {"per_second": 30, "credits_per_day": 10_000}
FREE_KEY_URL = "https://openalex.org/rest-api"
# The forms arXiv landing pages take in OpenAlex locations; the filter matches them exactly. Almost all are the
# common ones, so those are asked first (50 ids a call) and the rare ones only for the ids still missing.
ARXIV_URL_FORMS = {"common": ["https://arxiv.org/abs/{}", "http://arxiv.org/abs/{}"],
                   "rare": ["https://arxiv.org/pdf/{}", "http://arxiv.org/pdf/{}", "http://export.arxiv.org/abs/{}",
                            "http://export.arxiv.org/pdf/{}"]}
# Fields the graph needs from works that are not feed papers.
GRAPH_FIELDS = [
    "id", "doi", "title", "display_name", "publication_year", "publication_date", "type",
    "authorships", "primary_location", "primary_topic", "topics", "cited_by_count",
    "referenced_works", "ids", "is_authors_truncated",
]
# What a title search needs to verify a candidate.
CANDIDATE_FIELDS = [*GRAPH_FIELDS, "locations"]


def default_rate(api_key: str | None) -> float:
    """The per-second limit of the plan: what the client paces itself to unless told otherwise."""
    return float((FREE_KEY if api_key else KEYLESS)["per_second"])


def _reset_time(seconds: float | None) -> str:
    if seconds is None:
        return "at midnight UTC"
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    hours, minutes = divmod(int(seconds) // 60, 60)
    return f"at {at:%Y-%m-%d %H:%M} UTC (in {hours} h {minutes:02d} min)"


class OpenAlexAPI:
    """The live (or a compatible local) OpenAlex API."""

    name = "OpenAlex"

    def __init__(self, base_url: str = DEFAULT_URL, api_key: str | None = None, *,
                 rate: float | None = None, cache_path: Path | None = None, retries: int = 6,
                 timeout: float = 30.0, backoff: float = 0.5, max_wait: float = 120.0,
                 budget_usd: float | None = None, max_throttles: int = 60):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.max_wait = max_wait
        self.max_throttles = max_throttles
        self.stats = Ledger(dict(PRICES_USD), budget_usd)
        self.limiter = RateLimiter(default_rate(api_key) if rate is None else rate)
        # "What is new since" must be asked afresh every run; the rest of an answer holds for days.
        self.session = json_session(cache_path, api_key, secret_parameters=("api_key", "api-key"),
                                    short_lived={"*from_publication_date*": requests_cache.DO_NOT_CACHE})

    def close(self) -> None:
        self.session.close()

    # -- composing URLs ------------------------------------------------------------

    def _url(self, query: pyalex.Works | str, **params: object) -> str:
        """Rebase a pyalex query (or a path) on our URL and add further (encoded) parameters."""
        if isinstance(query, str):
            path, qs = query, ""
        else:
            parts = urlsplit(query.url)
            path, qs = parts.path, parts.query
        extra = urlencode({k: v for k, v in params.items() if v is not None}, safe=",:|*")
        joined = "&".join(p for p in (qs, extra) if p)
        return f"{self.base_url}{path}" + (f"?{joined}" if joined else "")

    # -- transport ---------------------------------------------------------------------

    def _get(self, url: str, kind: str) -> requests.Response:
        """GET with pacing and retries; returns an answer kg can use (200, 404) or raises with a message."""
        attempt = throttles = 0
        problem: str
        wait: float | None
        while True:
            reserved = self.stats.reserve(kind)
            self.limiter.wait()
            try:
                response = self.session.get(url, timeout=self.timeout, allow_redirects=True)
            except TRANSIENT_ERRORS as error:
                # The server may have received it and billed it: count what was reserved as spent.
                self.stats.settle(kind, reserved, None, sent=isinstance(error, SENT_ERRORS))
                problem, wait = type(error).__name__, None
            else:
                from_cache = bool(getattr(response, "from_cache", False))
                throttled = response.status_code == 429  # not charged, and not an answer: counted apart
                self.stats.settle(kind, reserved, float_header(response, "X-RateLimit-Cost-USD"),
                                  from_cache=from_cache, sent=not throttled)
                if (remaining := float_header(response, "X-RateLimit-Remaining-USD")) is not None:
                    self.stats.saw_remaining(remaining)
                if response.status_code == 429:
                    pause = self._throttle_wait(response)
                    throttles += 1
                    self.stats.note("throttled")
                    if throttles > self.max_throttles:
                        raise SourceError(f"OpenAlex kept throttling after {throttles} waits; "
                                          f"try again later or lower --rate ({url})")
                    self.limiter.throttled(pause)
                    continue
                reason, wait = self._problem(response, url)
                if reason is None:
                    self.limiter.succeeded()
                    return response
                problem = reason
            if attempt == self.retries:
                raise SourceError(f"OpenAlex did not answer usefully after {self.retries + 1} tries ({problem}): {url}")
            attempt += 1
            self.stats.note("retries")
            time.sleep(wait if wait is not None else self.backoff * (2 ** attempt) * (0.5 + random.random()))

    def _throttle_wait(self, response: requests.Response) -> float:
        """How long a 429 asks to wait; BudgetExhausted when it says the day's budget is spent, SourceError when
        it says the request needs another plan (a third 429, not to be waited out)."""
        body = json_body(response)
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        seconds = retry_after(response)
        if isinstance(body, dict) and body.get("error") == "Plan upgrade required":  # checkProtectedParams
            raise SourceError(f"OpenAlex refused the request for this plan ({message}): {response.url}")
        if "insufficient budget" in message.lower():
            reset = float_header(response, "X-RateLimit-Reset") or seconds
            left = float_header(response, "X-RateLimit-Remaining-USD")
            raise BudgetExhausted(
                "OpenAlex says today's budget is spent"
                + (f" (${left:.4f} left)" if left is not None else "")
                + f"; it resets {_reset_time(reset)}")
        if seconds is not None and seconds > self.max_wait:
            raise SourceError(f"OpenAlex asks to wait {seconds:.0f} s ({message or 'HTTP 429'}); try again later")
        return seconds if seconds is not None else 1.0

    def _problem(self, response: requests.Response, url: str) -> tuple[str | None, float | None]:
        """(None, None) for a usable answer, (reason, wait) for one worth retrying; raise for the rest."""
        status = response.status_code
        if status in (200, 404):
            body = json_body(response) if status == 200 else None
            if status == 200 and body is None:
                forget(self.session, response)
                return "invalid or truncated JSON", None
            if isinstance(body, dict) and (body.get("meta") or {}).get("timed_out"):
                forget(self.session, response)
                return "a partial list: OpenAlex's search timed out (meta.timed_out)", None
            return None, None
        if status >= 500:
            return f"HTTP {status}", retry_after(response)
        if status == 401:
            raise SourceError("OpenAlex rejected the API key (HTTP 401: " + _error_message(response)
                              + "); check OPENALEX_API_KEY / --api-key, or run without a key")
        if status == 403:
            raise SourceError(f"OpenAlex refused the request (HTTP 403: {_error_message(response)}); "
                              "this endpoint needs another plan")
        raise SourceError(f"OpenAlex answered HTTP {status}: {_error_message(response)} ({url})")

    def _results(self, url: str, kind: str) -> dict:
        response = self._get(url, kind)
        if response.status_code == 404:
            raise SourceError(f"OpenAlex answered HTTP 404: {_error_message(response)} ({url})")
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise SourceError(f"OpenAlex answered without a results list ({url})")
        return body

    def _groups(self, values: list[str], url_of: Callable[[list[str]], str]) -> Iterator[list[str]]:
        """The values in as few OR groups as the filter's 100 values and the request-line limit allow."""
        group: list[str] = []
        for value in values:
            if group and (len(group) == MAX_PER_CALL or len(url_of(group + [value])) > MAX_REQUEST_LINE):
                yield group
                group = []
            group.append(value)
        if group:
            yield group

    def _filtered(self, key: str, values: list[str], select: list[str] | None = None) -> list[dict]:
        """Works matching any of the values, in as few list calls as the request-line limit allows."""
        url_of = lambda group: self._filter_url(key, group, select)
        return [r for group in self._groups(values, url_of) for r in self._results(url_of(group), "list")["results"]]

    def _filter_url(self, key: str, values: list[str], select: list[str] | None) -> str:
        query = pyalex.Works().filter_or(**{key: "|".join(values)})
        if select:
            query = query.select(select)
        return self._url(query, per_page=MAX_PER_PAGE)

    # -- the questions kg asks ---------------------------------------------------------

    def works_by_ids(self, ids: list[str], select: list[str] | None = None) -> list[dict]:
        return self._filtered("openalex_id", [short_id(i) for i in ids], select)

    def works_by_dois(self, dois: list[str]) -> list[dict]:
        return self._filtered("doi", dois)

    def works_by_landing_pages(self, urls: list[str]) -> list[dict]:
        """Works with any of these landing-page URLs (the filter matches them exactly, so kg asks each arXiv id
        in the URL forms of ARXIV_URL_FORMS); the request-line limit decides how many go in one call."""
        return self._filtered("locations.landing_page_url", urls)

    def work_by_doi(self, doi: str) -> dict | None:
        """One work by DOI as a free singleton (for DOIs that cannot stand in a filter)."""
        response = self._get(self._url(f"/works/doi:{quote(doi, safe='/')}"), "singleton")
        return response.json() if response.status_code == 200 else None

    def autocomplete(self, text: str) -> list[dict]:
        """Up to 10 works whose title starts like this text (free): id, display_name, hint, cited_by_count."""
        return self._results(self._url("/autocomplete/works", q=text), "autocomplete")["results"]

    def search_titles(self, text: str, per_page: int = 5) -> list[dict]:
        """Works whose title matches the text (paid: 10 credits). Titles only: `search=` boosts cited works."""
        url = self._url("/works", **{"search.title": text, "select": ",".join(CANDIDATE_FIELDS),
                                     "per_page": per_page})
        return self._results(url, "search")["results"]

    def single_work(self, work_id: str, select: list[str] | None = None) -> dict | None:
        """A work record (free), or None when OpenAlex does not know the id (merged ids answer 404 since 2026)."""
        url = self._url(f"/works/{short_id(work_id)}", select=",".join(select) if select else None)
        response = self._get(url, "singleton")
        return response.json() if response.status_code == 200 else None

    def citing_works(self, work_ids: list[str], per_work: int, select: list[str] | None = None) -> list[dict]:
        """Works citing any of these (≤ 100), by cursor paging, until each has `per_work` or none are left."""
        query = pyalex.Works().filter_or(cites="|".join(short_id(w) for w in work_ids))
        if select:
            query = query.select(select)
        wanted = {short_id(w): per_work for w in work_ids}
        kept: list[dict] = []
        cursor: str | None = "*"
        while cursor and any(n > 0 for n in wanted.values()):
            page = self._results(self._url(query, per_page=MAX_PER_PAGE, cursor=cursor), "list")
            for record in page["results"]:
                cited = [short_id(r) for r in record.get("referenced_works") or [] if short_id(r) in wanted]
                if any(wanted[c] > 0 for c in cited):
                    kept.append(record)
                    for c in cited:
                        wanted[c] -= 1
            cursor = (page.get("meta") or {}).get("next_cursor") if page["results"] else None
        return kept

    def works_since(self, filter_key: str, values: list[str], since: str) -> list[dict]:
        """Every work published on or after `since` (YYYY-MM-DD) matching any of the values of one filter, by
        cursor paging; a `*.search` filter takes one text and is paid as a search.

        By publication date: `from_created_date` would say "new to OpenAlex" better, but the live service
        refuses created- and updated-date filters below its Premium plans (429 "Plan upgrade required")."""
        search = filter_key.endswith(".search")

        def url_of(group: list[str], cursor: str = "*") -> str:
            query = pyalex.Works().filter_or(**{filter_key: "|".join(group)}).filter(from_publication_date=since)
            return self._url(query, per_page=MAX_PER_PAGE, cursor=cursor)

        found: list[dict] = []
        for group in ([values] if search else self._groups(values, url_of)):
            cursor: str | None = "*"
            while cursor:
                page = self._results(url_of(group, cursor), "search" if search else "list")
                found.extend(page["results"])
                cursor = (page.get("meta") or {}).get("next_cursor") if page["results"] else None
        return found

    def merged_into(self, ids: list[str]) -> dict[str, str]:
        """The API no longer says which id a merged one became (404 since 2026-01): nothing to map."""
        return {}

    def rate_limit(self) -> dict:
        """Today's budget for the key (`/rate-limit`, free, needs a key)."""
        if not self.api_key:
            raise SourceError(keyless_limits())
        response = self._get(self._url("/rate-limit"), "singleton")
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise SourceError(f"OpenAlex answered HTTP {response.status_code} to /rate-limit")
        return body.get("rate_limit") or body


def keyless_limits() -> str:
    return (f"no OpenAlex API key: keyless use gets {KEYLESS['credits_per_day']:,} credits "
            f"(${KEYLESS['credits_per_day'] / 10_000:.2f}) a day at {KEYLESS['per_second']} requests/s; a free key "
            f"({FREE_KEY_URL}) gets {FREE_KEY['credits_per_day']:,} credits at {FREE_KEY['per_second']}/s; "
            "set OPENALEX_API_KEY or pass --api-key")


def _error_message(response: requests.Response) -> str:
    """The message of an OpenAlex error body, JSON or not (the 404 for a DOI is HTML)."""
    body = json_body(response)
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error") or body)
    else:
        text = response.text
        message = "an HTML error page" if "<html" in text[:200].lower() else text.strip()[:200]
    return message if len(message) <= 300 else message[:300] + "…"
