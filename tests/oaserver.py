"""A local OpenAlex imitation for kg's tests and benchmarks, behaving as the live API does in 2026.

It serves OpenAlex-format records over real HTTP on 127.0.0.1 and follows what
OpenAlex's own server code does (openalex-api-proxy `src/index.ts`,
`src/rateLimiter.ts`, `src/endpointClassifier.ts`; openalex-elastic-api
`core/paginate.py`, `autocomplete/`), as summarised with sources in the
README's OpenAlex section:

* credits by request kind (1 credit = $0.0001): singletons (`/works/W…`,
  `/works/doi:…`) and `/autocomplete/…` 0; lists 1; `search=`, `search.*=`
  and `*.search:` filters 10; the site's own search box (`search` + per_page ≤ 10
  + `select=id,display_name,works_count`) 0; a 400 is charged, a 429 is not;
* every answer carries the `X-RateLimit-*` headers, list answers `meta.cost_usd`;
* a daily budget (1,000 credits keyless, per key as configured) and a per-second
  token bucket (10/s keyless, 30/s for keys above 1,000 credits a day, 50 above
  10,000) that answer 429 with the real bodies and headers, told apart by the
  message and `Retry-After`;
* `GET /rate-limit` (free, needs a key); the key from `Authorization: Bearer`,
  `api_key` or `api-key`; an unknown key is a 401;
* merged ids answer 404 (no redirect since 2026-01-20); `per_page` 1..200;
  OR filters up to 100 values; request lines over 8,190 bytes refused (414);
* list results cut `authorships` at 100 (`is_authors_truncated`), singletons do not.

It can also inject latency and faults (see `Faults`), at random or at chosen requests. It
deliberately shares no code with kg: it is the stand-in for the other side of
the wire.

Run it by hand: python tests/oaserver.py DIR [DIR...] --port 8765
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gzip
import json
import math
import random
import re
import socket
import struct
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

ERRORS = Path(__file__).parent / "fixtures" / "openalex" / "real" / "errors"
CREDIT_USD = 0.0001
KEYLESS_CREDITS = 1_000
FILTER_KEYS = {"openalex_id", "openalex", "ids.openalex", "doi", "cites", "locations.landing_page_url",
               "publication_year", "title.search", "default.search", "title_and_abstract.search",
               "from_publication_date", "to_publication_date", "authorships.author.id", "author.id",
               "authorships.author.orcid", "author.orcid", "topics.id"}
PLAN_GATED = re.compile(r"(?:from_|to_)?(?:updated|created)_date:[><]?\d{4}-\d{2}-\d{2}")
"""Filters only Premium, Institutional and Partner plans may use (index.ts, checkProtectedParams): any other
caller gets a 429 "Plan upgrade required", before the rate limiter, so it costs nothing."""
SEARCH_FILTERS = ("abstract.search", "default.search", "display_name.search", "fulltext.search", "keyword.search",
                  "raw_affiliation_strings.search", "raw_author_name.search", "title.search",
                  "title_and_abstract.search")
EXTERNAL_ID_PREFIXES = ("doi:", "pmid:", "pmcid:", "mag:", "openalex:", "orcid:", "ror:", "wikidata:", "issn:",
                        "issn_l:", "scopus:")
MAX_REQUEST_LINE = 8190


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text or "").lower()
    return re.findall(r"[a-z0-9]+", "".join(c for c in text if not unicodedata.combining(c)))


def _key(openalex_id: str) -> str:
    return openalex_id.rstrip("/").rsplit("/", 1)[-1].upper()


def _doi(value: str | None) -> str | None:
    if not value:
        return None
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", value.strip().lower())


def classify(path: str, params: dict[str, str]) -> tuple[str, int]:
    """(kind, credits) as openalex-api-proxy's endpointClassifier decides them."""
    segments = path.strip("/").lower().split("/")
    if segments[0] == "works":
        if len(segments) >= 2 and (re.fullmatch(r"[a-z]?\d+", segments[1]) or segments[1].startswith(EXTERNAL_ID_PREFIXES)):
            return "singleton", 0
        if "group_by" in params or "group-by" in params:
            return "list", 1
        per_page = params.get("per_page") or params.get("per-page")
        if ("search" in params and per_page and per_page.isdigit() and int(per_page) <= 10
                and params.get("select") == "id,display_name,works_count"):
            return "list", 0
        if "search.semantic" in params:
            return "semantic", 10
        if any(k == "search" or (k.startswith("search.") and k != "search.semantic") for k in params) \
                or any(f in params.get("filter", "") for f in SEARCH_FILTERS):
            return "search", 10
        return "list", 1
    if segments[0] == "autocomplete":
        return "autocomplete", 0
    return "list", 1


def seconds_to_midnight() -> int:
    now = dt.datetime.now(dt.UTC)
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return math.ceil((midnight - now).total_seconds())


def usd(credits: float) -> str:
    """A USD figure the way the proxy's creditsToUsd renders it (JavaScript number to string)."""
    value = round(credits * CREDIT_USD, 10)
    return str(int(value)) if value == int(value) else repr(value)


FAULT_KINDS = ("500", "truncated", "badjson", "reset", "timeout", "throttle", "budget", "partial")
"""What can go wrong on the wire, as the proxy (src/index.ts) and its origin do it:

* 500: the origin failed; the proxy charged the request at /check and passes the answer on (no refund).
* truncated: the connection drops halfway through a 200 body (Content-Length promised more).
* badjson: a complete 200 whose body is not JSON.
* reset: the connection is reset (TCP RST) before any answer.
* timeout: no answer before the client's timeout; after it the proxy's 504, credits refunded as index.ts does.
* throttle: the per-second 429 (`Retry-After: 1`, "Please slow down"), not charged.
* budget: the daily-budget 429 ("Insufficient budget"), not charged: the client must stop and resume later.
* partial: a list whose Elasticsearch query hit its soft 5 s timeout: a 200 with part of the results and
  `meta.timed_out: true` (openalex-elastic-api, core/shared_view.py, execute_search and format_meta; oxjob #521).
  Only list answers can be partial; elsewhere this fault does nothing.
"""


@dataclass
class Faults:
    """What the server does wrong: a fraction of requests at random, and/or the requests numbered in `at`."""

    latency: float = 0.0
    fault_rate: float = 0.0
    kinds: tuple[str, ...] = ("500", "truncated", "timeout", "badjson")
    timeout_seconds: float = 2.0
    seed: int = 7
    paths: tuple[str, ...] = ()
    """Only requests whose path starts with one of these fail (none given: every request may)."""
    at: frozenset[int] = frozenset()
    """Ordinals (0-based, counting the requests `paths` lets through) that fail, each with a kind of `kinds`."""


@dataclass
class Plan:
    """Limits in force: the keyless day, the credits a day of each known key, and whether to throttle."""

    keyless_credits: int = KEYLESS_CREDITS
    keys: dict[str, int] = field(default_factory=dict)
    throttle: bool = True
    require_key: bool = False
    enterprise: frozenset[str] = frozenset()
    """Keys on a Premium, Institutional or Partner plan (the only ones allowed created/updated-date filters)."""

    def per_second(self, credits_per_day: int) -> int:
        return 50 if credits_per_day > 10_000 else 30 if credits_per_day > 1_000 else 10


@dataclass
class Log:
    counts: Counter = field(default_factory=Counter)        # answered requests by kind (throttled ones excluded)
    credits: Counter = field(default_factory=Counter)       # credits charged, by client ("anonymous" or the key)
    lines: list[str] = field(default_factory=list)
    faults: Counter = field(default_factory=Counter)
    throttled: int = 0
    budget_refusals: int = 0

    @property
    def spent_credits(self) -> int:
        return sum(self.credits.values())


class World:
    """Records indexed the way the API needs them."""

    def __init__(self, folders: list[Path]):
        self.works: dict[str, dict] = {}
        self.merged: set[str] = set()
        for folder in folders:
            for path in sorted(folder.glob("works*.jsonl*")):
                opener = gzip.open if path.suffix == ".gz" else open
                with opener(path, "rt", encoding="utf-8") as handle:
                    for line in handle:
                        if line.strip():
                            record = json.loads(line)
                            self.works[_key(record["id"])] = record
            for path in sorted(folder.glob("merged*.jsonl")):
                for line in path.read_text().splitlines():
                    self.merged.add(_key(json.loads(line)["old"]))
        self.originals: dict[str, dict] = {}
        self.added: set[str] = set()
        self._index()

    def revise(self, openalex_id: str, **fields: object) -> None:
        """Change a record as OpenAlex does over the days after indexing it (e.g. its references filled in)."""
        key = _key(openalex_id)
        self.originals.setdefault(key, self.works[key])
        self.works[key] = {**self.works[key], **fields}
        self._index()

    def add(self, record: dict) -> None:
        """A work OpenAlex indexes from now on (a new preprint, a new citing work)."""
        key = _key(record["id"])
        self.added.add(key)
        self.works[key] = record
        self._index()

    def restore(self) -> None:
        """Every revised record as it was loaded, and no added one."""
        if self.originals or self.added:
            self.works.update(self.originals)
            for key in self.added:
                del self.works[key]
            self.originals, self.added = {}, set()
            self._index()

    def _index(self) -> None:
        self.order = sorted(self.works)
        self.by_doi: dict[str, list[str]] = {}
        self.by_landing: dict[str, list[str]] = {}
        self.citers: dict[str, list[str]] = {}
        self.postings: dict[str, set[str]] = {}
        self.title_tokens: dict[str, list[str]] = {}
        for key in self.order:
            record = self.works[key]
            if doi := _doi(record.get("doi")):
                self.by_doi.setdefault(doi, []).append(key)
            for location in record.get("locations") or []:
                if url := (location or {}).get("landing_page_url"):
                    self.by_landing.setdefault(url, []).append(key)
            for ref in record.get("referenced_works") or []:
                self.citers.setdefault(_key(ref), []).append(key)
            self.title_tokens[key] = _tokens(record.get("display_name") or record.get("title") or "")
            for token in set(self.title_tokens[key]):
                self.postings.setdefault(token, set()).add(key)

    def matching(self, clauses: dict[str, list[str]]) -> list[str]:
        selected: set[str] | None = None
        for name, values in clauses.items():
            if name in ("openalex_id", "openalex", "ids.openalex"):
                found = [_key(v) for v in values if _key(v) in self.works]
            elif name == "doi":
                found = [k for v in values for k in self.by_doi.get(_doi(v) or "", [])]
            elif name == "cites":
                found = [k for v in values for k in self.citers.get(_key(v), [])]
            elif name == "locations.landing_page_url":
                found = [k for v in values for k in self.by_landing.get(v, [])]
            elif name.endswith(".search"):
                found = self.search(" ".join(values), self.order)
            elif name in ("from_publication_date", "to_publication_date"):
                after = name.startswith("from_")
                found = [k for k in self.order if (day := self.works[k].get("publication_date"))
                         and (day >= values[0] if after else day <= values[0])]
            elif name in ("authorships.author.id", "author.id", "authorships.author.orcid", "author.orcid"):
                field_name = "orcid" if name.endswith("orcid") else "id"
                wanted = {_key(v) if field_name == "id" else v.rsplit("/", 1)[-1].upper() for v in values}
                found = [k for k in self.order if any(
                    (value := (a.get("author") or {}).get(field_name)) and (
                        _key(value) if field_name == "id" else value.rsplit("/", 1)[-1].upper()) in wanted
                    for a in self.works[k].get("authorships") or [])]
            elif name == "topics.id":
                wanted = {_key(v) for v in values}
                found = [k for k in self.order if any(_key(t.get("id") or "") in wanted
                                                      for t in self.works[k].get("topics") or [])]
            else:
                found = [k for k in self.order if str(self.works[k].get("publication_year")) in values]
            selected = set(found) if selected is None else selected & set(found)
        return list(self.order) if selected is None else [k for k in self.order if k in selected]

    def search(self, text: str, within: list[str]) -> list[str]:
        """Relevance by shared title tokens, rarer tokens weighing more (a stand-in for Elasticsearch)."""
        allowed = set(within)
        scores: Counter = Counter()
        for token in set(_tokens(text)):
            postings = self.postings.get(token, set())
            for key in postings & allowed:
                scores[key] += 1.0 / (1 + len(postings))
        return [k for k, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]

    def autocomplete(self, text: str) -> list[str]:
        """match_phrase_prefix on the title: the words in order, the last one as a prefix; most cited first."""
        words = _tokens(text)
        if not words:
            return []
        *whole, last = words
        candidates = set.intersection(*(self.postings.get(w, set()) for w in whole)) if whole else set(self.order)
        hits = []
        for key in candidates:
            tokens = self.title_tokens[key]
            for start in range(len(tokens) - len(words) + 1):
                if tokens[start:start + len(whole)] == whole and tokens[start + len(whole)].startswith(last):
                    hits.append(key)
                    break
        return sorted(hits, key=lambda k: (-(self.works[k].get("cited_by_count") or 0), k))[:10]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (timeout) closes the socket under us: not worth a traceback."""


class OpenAlexServer:
    def __init__(self, folders: list[Path], faults: Faults | None = None, plan: Plan | None = None, port: int = 0):
        self.world = World(folders)
        self.faults = faults or Faults()
        self.plan = plan or Plan()
        self.log = Log()
        self.lock = threading.Lock()
        self.random = random.Random(self.faults.seed)
        self.faulted_ordinal = 0
        self.buckets: dict[str, tuple[float, float]] = {}
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> OpenAlexServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self, faults: Faults | None = None, plan: Plan | None = None) -> None:
        """A fresh day, fresh counters and every revised record restored (and, given, other faults or limits)."""
        with self.lock:
            self.world.restore()
            self.log = Log()
            self.buckets = {}
            self.faults = faults or Faults()
            self.plan = plan or Plan()
            self.random = random.Random(self.faults.seed)
            self.faulted_ordinal = 0

    def new_day(self) -> None:
        """Midnight UTC: every client's daily credits are back; the request log is kept."""
        with self.lock:
            self.log.credits = Counter()

    def __enter__(self) -> OpenAlexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- limits, as rateLimiter.ts keeps them ---------------------------------------------

    def admit(self, client: str, daily: int, credits: int) -> dict:
        """Check the per-second bucket, then the day's credits; charge when admitted."""
        with self.lock:
            now = time.monotonic()
            per_second = self.plan.per_second(daily)
            if self.plan.throttle:
                tokens, last = self.buckets.get(client, (float(per_second), now))
                tokens = min(per_second, tokens + (now - last) * per_second)
                if tokens < 1:
                    self.buckets[client] = (tokens, now)
                    self.log.throttled += 1
                    return {"ok": False, "type": "per_second", "per_second": per_second, "remaining": 0,
                            "retry_after": (1 - tokens) / per_second}
            used = self.log.credits[client]
            if used + credits > daily:
                self.log.budget_refusals += 1
                return {"ok": False, "type": "daily", "remaining": max(0, daily - used),
                        "retry_after": seconds_to_midnight()}
            if self.plan.throttle:
                self.buckets[client] = (tokens - 1, now)
            self.log.credits[client] += credits
            return {"ok": True, "remaining": daily - used - credits}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: OpenAlexServer

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None, truncate: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**getattr(self, "limit_headers", {}), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _json(self, status: int, data: object, **kwargs: object) -> None:
        self._send(status, json.dumps(data).encode(), **kwargs)

    def _error_file(self, status: int, name: str) -> None:
        path = ERRORS / name
        self._send(status, path.read_bytes(), "text/html" if name.endswith(".html") else "application/json")

    def _api_key(self, params: dict[str, str]) -> str | None:
        auth = self.headers.get("Authorization", "").split(" ")
        if len(auth) == 2 and auth[0].lower() == "bearer":
            return auth[1]
        return params.get("api_key") or params.get("api-key")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        state = self.server_state
        self.limit_headers = {}
        if len(self.requestline) > MAX_REQUEST_LINE:
            return self._send(414, b"<html><body><h1>414 Request-URI Too Large</h1></body></html>", "text/html")
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        with state.lock:
            state.log.lines.append(self.path)
        if state.faults.latency:
            time.sleep(state.faults.latency)
        key = self._api_key(params)
        if key is not None and key not in state.plan.keys:
            return self._json(401, {"error": "Invalid or missing API key", "message": "API key not found"})
        if key is None and state.plan.require_key:
            return self._error_file(401, "401-missing-key.json")
        path = parts.path.rstrip("/") or "/"
        if path == "/rate-limit":
            return self._rate_limit(key)
        if (gated := PLAN_GATED.search(params.get("filter", ""))) and key not in state.plan.enterprise:
            return self._json(429, {"error": "Plan upgrade required", "message": f'The "{gated[0]}" filter requires '
                                    "a Premium, Institutional, or Partner plan. See https://openalex.org/pricing for "
                                    "details."})
        kind, credits = classify(path, params)
        daily = state.plan.keys[key] if key else state.plan.keyless_credits
        fault = self._fault()
        if fault in ("throttle", "budget"):  # refused before /check charges anything
            state.log.faults[fault] += 1
            used = state.log.credits[key or "anonymous"]
            return self._refuse({"type": "per_second" if fault == "throttle" else "daily", "remaining": daily - used,
                                 "per_second": state.plan.per_second(daily),
                                 "retry_after": 1 if fault == "throttle" else seconds_to_midnight()}, credits, daily)
        verdict = state.admit(key or "anonymous", daily, credits)
        if not verdict["ok"]:
            return self._refuse(verdict, credits, daily)
        with state.lock:
            state.log.counts[kind] += 1
        self.limit_headers = {
            "X-RateLimit-Limit": str(daily), "X-RateLimit-Remaining": str(verdict["remaining"]),
            "X-RateLimit-Credits-Used": str(credits), "X-RateLimit-Reset": str(seconds_to_midnight()),
            "X-RateLimit-Limit-USD": usd(daily), "X-RateLimit-Remaining-USD": usd(verdict["remaining"]),
            "X-RateLimit-Cost-USD": usd(credits), "X-RateLimit-Onetime-Remaining": "0",
            "X-RateLimit-Prepaid-Remaining-USD": "0"}
        self.cost = credits
        self.timed_out = fault == "partial" and path == "/works"
        if fault is not None and fault != "partial":
            return self._inject(fault, key or "anonymous", credits)
        if path.startswith("/works/"):
            return self._single(unquote(path[len("/works/"):]), params)
        if path == "/works":
            return self._list(params)
        if path == "/autocomplete/works":
            return self._autocomplete(params)
        self._error_file(404, "404-unknown-doi.html")

    def _refuse(self, verdict: dict, credits: int, daily: int) -> None:
        """The 429 of index.ts: per-second throttle or insufficient budget, told apart by message and Retry-After."""
        cost, remaining = usd(credits), usd(verdict["remaining"])
        if verdict["type"] == "per_second":
            message = f"Rate limit exceeded: {verdict['per_second']} requests per second. Please slow down."
        else:
            message = (f"Insufficient budget. This request costs ${cost} but you only have ${remaining} remaining. "
                       "Resets at midnight UTC. Need more? Add funds at https://openalex.org/pricing")
        body = {"error": "Rate limit exceeded", "message": message, "retryAfter": verdict["retry_after"],
                "costUsd": float(cost), "dailyRemainingUsd": float(remaining), "prepaidRemainingUsd": 0,
                "creditsRequired": credits, "creditsRemaining": verdict["remaining"], "onetimeCreditsRemaining": 0}
        self._json(429, body, headers={
            "Retry-After": str(math.ceil(verdict["retry_after"] or 1)),
            "X-RateLimit-Limit-USD": usd(daily), "X-RateLimit-Remaining-USD": remaining,
            "X-RateLimit-Prepaid-Remaining-USD": "0", "X-RateLimit-Cost-Required-USD": cost,
            "X-RateLimit-Limit": str(daily), "X-RateLimit-Remaining": str(verdict["remaining"]),
            "X-RateLimit-Onetime-Remaining": "0", "X-RateLimit-Credits-Required": str(credits),
            "X-RateLimit-Reset": str(seconds_to_midnight())})

    def _rate_limit(self, key: str | None) -> None:
        state = self.server_state
        if key is None:
            return self._json(401, {"error": "Authentication required",
                                    "message": "You must provide a valid API key to check rate limit status"})
        daily, used = state.plan.keys[key], state.log.credits[key]
        resets = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_to_midnight())).replace(microsecond=0)
        self._json(200, {"api_key": key[:4] + "…", "is_grandfathered": False, "rate_limit": {
            "daily_budget_usd": float(usd(daily)), "daily_used_usd": float(usd(used)),
            "daily_remaining_usd": float(usd(daily - used)), "prepaid_balance_usd": 0, "prepaid_remaining_usd": 0,
            "prepaid_expires_at": None, "resets_at": resets.isoformat().replace("+00:00", "Z"),
            "resets_in_seconds": seconds_to_midnight(),
            "endpoint_costs_usd": {"singleton": 0, "list": float(usd(1)), "search": float(usd(10)),
                                   "content": float(usd(100)), "semantic": float(usd(10)), "text": float(usd(100))},
            "credits_limit": daily, "credits_used": used, "credits_remaining": daily - used}})

    def _fault(self) -> str | None:
        """The fault this request meets, if any: it is the `at`-th request, or the dice say so."""
        state, faults = self.server_state, self.server_state.faults
        with state.lock:
            if faults.paths and not self.path.startswith(faults.paths):
                return None
            ordinal = state.faulted_ordinal
            state.faulted_ordinal += 1
            if ordinal in faults.at:
                return faults.kinds[ordinal % len(faults.kinds)]
            if faults.fault_rate and state.random.random() < faults.fault_rate:
                return state.random.choice(faults.kinds)
        return None

    def _inject(self, fault: str, client: str, credits: int) -> None:
        state, faults = self.server_state, self.server_state.faults
        with state.lock:
            state.log.faults[fault] += 1
        if fault == "500":
            self._json(500, {"error": "Internal server error"})
        elif fault == "truncated":
            self._json(200, {"meta": {}, "results": [{"id": "x" * 200}]}, truncate=True)
        elif fault == "badjson":
            self._send(200, b'{"meta": {"count": 1}, "results": [')
        elif fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif fault == "timeout":
            time.sleep(faults.timeout_seconds)
            with state.lock:
                state.log.credits[client] -= credits
            self._json(504, {"error": "Gateway timeout"})

    def _select(self, record: dict, params: dict[str, str]) -> dict | None:
        if not params.get("select"):
            return record
        fields = params["select"].split(",")
        if any("." in f or not f for f in fields):
            return None
        return {f: record[f] for f in fields if f in record}

    def _single(self, ident: str, params: dict[str, str]) -> None:
        world = self.server_state.world
        if ident.lower().startswith(("doi:", "https://doi.org/", "http://doi.org/")):
            keys = world.by_doi.get(_doi(ident) or "", [])
            if not keys:
                return self._error_file(404, "404-unknown-doi.html")
            key = keys[0]
        else:
            key = _key(ident)
        if key not in world.works:  # merged ids too: 404 since 2026-01-20, no redirect
            return self._error_file(404, "404-unknown-doi.html")
        record = self._select(world.works[key], params)
        if record is None:
            return self._error_file(400, "400-invalid-select.json")
        self._json(200, record)

    def _list(self, params: dict[str, str]) -> None:
        world = self.server_state.world
        clauses: dict[str, list[str]] = {}
        for clause in filter(None, re.split(r",(?=[a-z_.]+:)", params.get("filter", ""))):
            name, _, value = clause.partition(":")
            if name not in FILTER_KEYS or not value:
                return self._error_file(400, "400-invalid-filter.json")
            values = [value] if name.endswith(".search") else value.split("|")
            if len(values) > 100:
                return self._json(400, {"error": "Invalid query parameters error.",
                                        "message": "Maximum number of values exceeded for OR filter (100)"})
            clauses[name] = values
        try:
            per_page = int(params.get("per_page", params.get("per-page", "25")))
            page = int(params.get("page", "1"))
        except ValueError:
            return self._json(400, {"error": "Invalid query parameters error.", "message": "per_page must be a number"})
        if not 1 <= per_page <= 200:
            return self._json(400, {"error": "Invalid query parameters error.",
                                    "message": "per-page parameter must be between 1 and 200."})
        keys = world.matching(clauses)
        for name in ("search", "search.title"):
            if name in params:
                keys = world.search(params[name], keys)
        cursor = params.get("cursor")
        start = (int(base64.b64decode(cursor).decode()) if cursor not in (None, "*") else 0) \
            if cursor is not None else (page - 1) * per_page
        chosen = keys[start:start + per_page]
        results = [self._select(self._as_listed(world.works[k]), params) for k in chosen]
        if any(r is None for r in results):
            return self._error_file(400, "400-invalid-select.json")
        next_cursor = None
        if cursor is not None and start + per_page < len(keys):
            next_cursor = base64.b64encode(str(start + per_page).encode()).decode()
        meta = {"count": len(keys), "db_response_time_ms": 1, "page": None if cursor else page,
                "per_page": per_page, "next_cursor": next_cursor, "groups_count": None,
                "cost_usd": float(usd(self.cost))}
        if self.timed_out:  # Elasticsearch stopped at its soft timeout: what it had found so far
            with self.server_state.lock:
                self.server_state.log.faults["partial"] += 1
            results = results[: len(results) // 2]
            meta.update(count=len(keys) // 2, timed_out=True)
        self._json(200, {"meta": meta, "results": results, "group_by": []})

    @staticmethod
    def _as_listed(record: dict) -> dict:
        """List results cut authorships at 100, as the build pipeline does; singletons keep them all."""
        authorships = record.get("authorships") or []
        if len(authorships) <= 100:
            return record
        return {**record, "authorships": authorships[:100], "is_authors_truncated": True}

    def _autocomplete(self, params: dict[str, str]) -> None:
        world = self.server_state.world
        keys = world.autocomplete(params.get("q", ""))
        results = [{"id": world.works[k]["id"], "short_id": f"works/{k}",
                    "display_name": world.works[k].get("display_name") or world.works[k].get("title"),
                    "hint": ", ".join((a.get("author") or {}).get("display_name") or ""
                                      for a in (world.works[k].get("authorships") or [])[:3]),
                    "cited_by_count": world.works[k].get("cited_by_count") or 0, "works_count": None,
                    "entity_type": "work", "external_id": world.works[k].get("doi"), "filter_key": "openalex"}
                   for k in keys]
        self._json(200, {"meta": {"count": len(results), "db_response_time_ms": 1, "page": 1, "per_page": 10},
                         "results": results})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--key", action="append", default=[], metavar="KEY=CREDITS",
                        help="accept this API key with this many credits a day (repeatable)")
    args = parser.parse_args()
    keys = {k: int(c) for k, _, c in (item.partition("=") for item in args.key)}
    server = OpenAlexServer(args.folders, Faults(latency=args.latency), Plan(keys=keys), port=args.port)
    print(f"serving {len(server.world.works)} works at {server.url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
