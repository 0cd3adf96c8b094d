"""A local OpenAlex-compatible HTTP server for kg's tests and benchmarks.

It serves OpenAlex-format records over real HTTP on 127.0.0.1 and imitates the
subset of the API kg uses: single lookups (W ids, `doi:`, DOI URLs, 301 for
merged ids, an HTML 404 like the real one), list calls with `filter=` (`|` OR
up to 100 values; openalex_id, doi, cites, locations.landing_page_url,
publication_year), `search=`, `select=`, `per_page` 1..100, `page` and cursor
paging. It bills requests like OpenAlex (list $0.0001, search $0.001) and can
inject latency, rate limiting (403), short 429s with Retry-After, a spent daily
budget, 5xx, truncated bodies and timeouts. It deliberately shares no code with
kg: it is the stand-in for the other side of the wire.

Run it by hand: python tests/oaserver.py DIR [DIR...] --port 8765
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import random
import re
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

ERRORS = Path(__file__).parent / "fixtures" / "openalex" / "real" / "errors"
COST = {"single": 0.0, "list": 0.0001, "search": 0.001}
FILTER_KEYS = {"openalex_id", "openalex", "ids.openalex", "doi", "cites", "locations.landing_page_url",
               "publication_year"}


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text or "").lower()
    return re.findall(r"[a-z0-9]+", "".join(c for c in text if not unicodedata.combining(c)))


def _key(openalex_id: str) -> str:
    return openalex_id.rstrip("/").rsplit("/", 1)[-1].upper()


def _doi(value: str | None) -> str | None:
    if not value:
        return None
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", value.strip().lower())


@dataclass
class Faults:
    """What the server does wrong, and how often (fractions of requests)."""

    latency: float = 0.0
    fault_rate: float = 0.0
    kinds: tuple[str, ...] = ("403", "429", "500", "truncated", "timeout", "badjson")
    timeout_seconds: float = 2.0
    rate_per_second: float | None = None
    daily_budget_usd: float | None = None
    require_key: str | None = None
    seed: int = 7


@dataclass
class Log:
    counts: Counter = field(default_factory=Counter)
    spent_usd: float = 0.0
    lines: list[str] = field(default_factory=list)
    faults: Counter = field(default_factory=Counter)


class World:
    """Records indexed the way the API needs them."""

    def __init__(self, folders: list[Path]):
        self.works: dict[str, dict] = {}
        self.merged: dict[str, str] = {}
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
                    row = json.loads(line)
                    self.merged[_key(row["old"])] = _key(row["new"])
        self.order = sorted(self.works)
        self.by_doi: dict[str, list[str]] = {}
        self.by_landing: dict[str, list[str]] = {}
        self.citers: dict[str, list[str]] = {}
        self.postings: dict[str, set[str]] = {}
        for key in self.order:
            record = self.works[key]
            if doi := _doi(record.get("doi")):
                self.by_doi.setdefault(doi, []).append(key)
            for location in record.get("locations") or []:
                if url := (location or {}).get("landing_page_url"):
                    self.by_landing.setdefault(url, []).append(key)
            for ref in record.get("referenced_works") or []:
                self.citers.setdefault(_key(ref), []).append(key)
            text = " ".join([record.get("title") or record.get("display_name") or ""])
            for token in set(_tokens(text)):
                self.postings.setdefault(token, set()).add(key)

    def matching(self, clauses: dict[str, list[str]]) -> list[str]:
        selected: set[str] | None = None
        for name, values in clauses.items():
            if name in ("openalex_id", "openalex", "ids.openalex"):
                found = [_key(v) for v in values if _key(v) in self.works]
            elif name == "doi":
                found = [k for v in values for k in self.by_doi.get(_doi(v), [])]
            elif name == "cites":
                found = [k for v in values for k in self.citers.get(_key(v), [])]
            elif name == "locations.landing_page_url":
                found = [k for v in values for k in self.by_landing.get(v, [])]
            else:
                found = [k for k in self.order if str(self.works[k].get("publication_year")) in values]
            selected = set(found) if selected is None else selected & set(found)
        return list(self.order) if selected is None else [k for k in self.order if k in selected]

    def search(self, text: str, within: list[str]) -> list[str]:
        allowed = set(within)
        scores: Counter = Counter()
        for token in set(_tokens(text)):
            postings = self.postings.get(token, set())
            for key in postings & allowed:
                scores[key] += 1.0 / (1 + len(postings))
        return [k for k, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (timeout) closes the socket under us: not worth a traceback."""


class OpenAlexServer:
    def __init__(self, folders: list[Path], faults: Faults | None = None, port: int = 0):
        self.world = World(folders)
        self.faults = faults or Faults()
        self.log = Log()
        self.lock = threading.Lock()
        self.random = random.Random(self.faults.seed)
        self.window: list[float] = []
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

    def reset(self) -> None:
        with self.lock:
            self.log = Log()
            self.window = []

    def __enter__(self) -> OpenAlexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
        for name, value in (headers or {}).items():
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

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        state = self.server_state
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        kind = "search" if "search" in query else ("list" if parts.path.rstrip("/") == "/works" else "single")
        with state.lock:
            state.log.lines.append(self.path)
        if state.faults.latency:
            time.sleep(state.faults.latency)
        if state.faults.require_key and query.get("api_key") != state.faults.require_key:
            return self._error_file(401, "401-missing-key.json")
        if self._inject_fault(kind):
            return
        with state.lock:
            state.log.counts[kind] += 1
            state.log.spent_usd += COST[kind]
        if parts.path.startswith("/works/"):
            return self._single(unquote(parts.path[len("/works/"):]), query)
        if parts.path.rstrip("/") == "/works":
            return self._list(query)
        self._error_file(404, "404-unknown-doi.html")

    def _inject_fault(self, kind: str) -> bool:
        state, faults = self.server_state, self.server_state.faults
        with state.lock:
            if faults.daily_budget_usd is not None and state.log.spent_usd + COST[kind] > faults.daily_budget_usd:
                state.log.faults["budget"] += 1
                fault = "budget"
            elif faults.rate_per_second is not None and self._over_rate():
                state.log.faults["rate"] += 1
                fault = "rate"
            elif faults.fault_rate and state.random.random() < faults.fault_rate:
                fault = state.random.choice(faults.kinds)
                state.log.faults[fault] += 1
            else:
                return False
        if fault == "budget":
            self._json(429, {"error": "Rate limit exceeded", "message": "Daily budget exhausted"},
                       headers={"Retry-After": "43200", "X-RateLimit-Remaining": "0"})
        elif fault in ("rate", "403"):
            self._json(403, {"error": "Forbidden", "message": "rate limit exceeded"})
        elif fault == "429":
            self._json(429, {"error": "Too many requests"}, headers={"Retry-After": "0.05"})
        elif fault == "500":
            self._json(500, {"error": "Internal server error"})
        elif fault == "truncated":
            self._json(200, {"meta": {}, "results": [{"id": "x" * 200}]}, truncate=True)
        elif fault == "badjson":
            self._send(200, b'{"meta": {"count": 1}, "results": [')
        elif fault == "timeout":
            time.sleep(faults.timeout_seconds)
            self._json(503, {"error": "timed out"})
        return True

    def _over_rate(self) -> bool:
        state = self.server_state
        now = time.monotonic()
        state.window = [t for t in state.window if now - t < 1.0]
        if len(state.window) >= state.faults.rate_per_second:
            return True
        state.window.append(now)
        return False

    def _select(self, record: dict, query: dict[str, str]) -> dict | None:
        if not query.get("select"):
            return record
        fields = query["select"].split(",")
        if any("." in f or not f for f in fields):
            return None
        return {f: record[f] for f in fields if f in record}

    def _single(self, ident: str, query: dict[str, str]) -> None:
        world = self.server_state.world
        if ident.lower().startswith(("doi:", "https://doi.org/", "http://doi.org/")):
            keys = world.by_doi.get(_doi(ident), [])
            if not keys:
                return self._error_file(404, "404-unknown-doi.html")
            key = keys[0]
        else:
            key = _key(ident)
        if key in world.merged:
            self._send(301, b"", headers={"Location": f"/works/{world.merged[key]}"})
            return
        if key not in world.works:
            return self._error_file(404, "404-unknown-doi.html")
        record = self._select(world.works[key], query)
        if record is None:
            return self._error_file(400, "400-invalid-select.json")
        self._json(200, record)

    def _list(self, query: dict[str, str]) -> None:
        world = self.server_state.world
        clauses: dict[str, list[str]] = {}
        for clause in filter(None, query.get("filter", "").split(",")):
            name, _, value = clause.partition(":")
            if name not in FILTER_KEYS or not value:
                return self._error_file(400, "400-invalid-filter.json")
            values = value.split("|")
            if len(values) > 100:
                return self._json(400, {"error": "Invalid query parameters error.",
                                        "message": "Maximum number of values exceeded for OR filter (100)"})
            clauses[name] = values
        try:
            per_page = int(query.get("per_page", "25"))
            page = int(query.get("page", "1"))
        except ValueError:
            return self._json(400, {"error": "Invalid query parameters error.", "message": "per_page must be a number"})
        if not 1 <= per_page <= 100:
            return self._json(400, {"error": "Invalid query parameters error.",
                                    "message": "per-page parameter must be between 1 and 100"})
        keys = world.matching(clauses)
        if "search" in query:
            keys = world.search(query["search"], keys)
        cursor = query.get("cursor")
        start = (int(base64.b64decode(cursor).decode()) if cursor not in (None, "*") else 0) \
            if cursor is not None else (page - 1) * per_page
        chosen = keys[start:start + per_page]
        results = [self._select(world.works[k], query) for k in chosen]
        if any(r is None for r in results):
            return self._error_file(400, "400-invalid-select.json")
        next_cursor = None
        if cursor is not None and start + per_page < len(keys):
            next_cursor = base64.b64encode(str(start + per_page).encode()).decode()
        meta = {"count": len(keys), "per_page": per_page, "page": None if cursor else page,
                "next_cursor": next_cursor, "cost_usd": COST["search" if "search" in query else "list"]}
        self._json(200, {"meta": meta, "results": results})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = OpenAlexServer(args.folders, Faults(latency=args.latency), port=args.port)
    print(f"serving {len(server.world.works)} works at {server.url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
