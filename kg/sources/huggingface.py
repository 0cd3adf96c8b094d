"""The Hugging Face papers API: daily papers as a feed, and a free way from a title to an arXiv id.

As the service behaves in 2026 (huggingface_hub's `hf_api.py` and `_http.py`):
`/api/daily_papers?date=` returns at most `limit` items, 50 unless asked, so a
day is read page by page (`p`). kg sends no `limit`: the service's own page size
is the one it surely accepts, and the first page's length says what it is, so
paging rests on no guessed maximum. `/api/papers/search?q=` returns items with
their arXiv ids; past 500 calls in 5 minutes (1,000 with a token) it answers
429 with a `RateLimit: "api";r=0;t=55` header saying how many seconds to wait.
`HF_TOKEN` is sent as `Authorization: Bearer` when set.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests

from kg.errors import SourceError
from kg.sources import HF_API_URL
from kg.sources.http import TRANSIENT_ERRORS, Ledger, RateLimiter, forget, json_body, json_session, retry_after

MAX_PAGES = 1000
_RATELIMIT = re.compile(r"\"(?P<resource>\w+)\"\s*;\s*r\s*=\s*(?P<r>\d+)\s*;\s*t\s*=\s*(?P<t>\d+)")


def ratelimit_wait(response: requests.Response) -> float | None:
    """Seconds until the window resets, from the IETF `RateLimit` header Hugging Face sends."""
    if match := _RATELIMIT.search(response.headers.get("RateLimit", "")):
        return float(match.group("t"))
    return retry_after(response)


def api_root(url: str) -> str:
    """The API root of a Hugging Face base URL: huggingface_hub's endpoint form (`https://huggingface.co`, as in
    `HF_ENDPOINT`) and the API form (`https://huggingface.co/api`) both name the same service."""
    url = url.rstrip("/")
    return url if url.endswith("/api") else f"{url}/api"


def _error_text(body: object) -> str | None:
    """The message of an error object such as `{"error": "..."}`, if the body is one."""
    if isinstance(body, dict) and isinstance(body.get("error"), str | dict | list):
        return str(body["error"])[:300]
    return None


class HuggingFace:
    """Hugging Face's papers API (or a compatible local server)."""

    name = "Hugging Face"

    def __init__(self, base_url: str = HF_API_URL, token: str | None = None, *, cache_path: Path | None = None,
                 timeout: float = 30.0, retries: int = 4, backoff: float = 0.5, max_wait: float = 330.0,
                 rate: float | None = None):
        self.base_url = api_root(base_url)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.stats = Ledger({})
        self.limiter = RateLimiter(rate)
        # A past day's list and a title's search barely change; today's list grows, so it is kept an hour.
        self.session = json_session(cache_path, token, short_lived={"*/daily_papers*": 3600})

    def close(self) -> None:
        self.session.close()

    def _get(self, path: str, kind: str, missing_ok: bool = False, **params: str | int) -> object:
        """The JSON answer; None for a 404 when `missing_ok` (one paper); a named `SourceError` for the rest."""
        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            self.limiter.wait()
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except TRANSIENT_ERRORS as error:
                problem = type(error).__name__
            else:
                self.stats.settle(kind, 0.0, 0.0, from_cache=bool(getattr(response, "from_cache", False)))
                if response.status_code == 429:
                    wait = ratelimit_wait(response) or 10.0
                    if wait > self.max_wait:
                        raise SourceError(f"Hugging Face asks to wait {wait:.0f} s (rate limit); try again later "
                                          "or set HF_TOKEN for a higher limit")
                    self.stats.note("throttled")
                    self.limiter.throttled(wait)
                    continue
                body = json_body(response)
                if response.status_code == 404 and missing_ok:
                    return None
                if response.status_code == 200 and (body is None or _error_text(body) is not None):
                    forget(self.session, response)
                if response.status_code == 200 and body is not None:
                    if (message := _error_text(body)) is not None:
                        raise SourceError(f"Hugging Face answered with an error ({message}) for {response.url}")
                    self.limiter.succeeded()
                    return body
                if response.status_code == 404:
                    raise SourceError(f"Hugging Face has no {path} at {response.url} (HTTP 404); --hf-url should be "
                                      "the service's address, such as https://huggingface.co")
                if response.status_code < 500 and response.status_code != 200:
                    message = _error_text(body) or "no error message"
                    raise SourceError(f"Hugging Face refused the request (HTTP {response.status_code}: {message}): "
                                      f"{response.url}")
                problem = f"HTTP {response.status_code}" if response.status_code != 200 else "invalid JSON"
            if attempt == self.retries:
                raise SourceError(f"Hugging Face did not answer usefully after {self.retries + 1} tries "
                                  f"({problem}): {url}; check --hf-url and your connection")
            attempt += 1
            self.stats.note("retries")
            time.sleep(self.backoff * 2 ** attempt)

    def daily_papers(self, date: str) -> list[dict]:
        """Every item listed on one day, page by page in the service's own page size (the first page's length),
        until a page comes back shorter than that or brings nothing new."""
        items: list[dict] = []
        seen: set[str] = set()
        page_size = 0
        for page in range(MAX_PAGES):
            batch = self._get("/daily_papers", "daily_papers", date=date, p=page)
            if not isinstance(batch, list):
                raise SourceError(f"Hugging Face daily papers for {date}: expected a JSON list, got "
                                  f"{type(batch).__name__} ({self.base_url}/daily_papers)")
            page_size = page_size or len(batch)
            new = [i for i in batch if _item_id(i) not in seen]
            seen.update(_item_id(i) for i in new)
            items.extend(new)
            if not new or len(batch) < page_size:
                break
        return items

    def search(self, text: str, limit: int = 5) -> list[dict]:
        """Papers whose text matches, each with its arXiv id (free)."""
        found = self._get("/papers/search", "search", q=text, limit=limit)
        return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def _item_id(item: object) -> str:
    if isinstance(item, dict):
        nested = item.get("paper")
        paper: dict = nested if isinstance(nested, dict) else item
        return str(paper.get("id") or paper.get("title") or id(item))
    return str(id(item))
