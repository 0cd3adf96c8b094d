"""A local imitation of Hugging Face's papers API for kg's tests, behaving as the live one does in 2026.

From huggingface_hub (`hf_api.py`: `list_daily_papers`, `list_papers`, `paper_info`; `utils/_http.py`:
`parse_ratelimit_headers`) and hub-docs `rate-limits.md`:

* `GET /api/daily_papers?date=YYYY-MM-DD&limit=N&p=K`: at most `limit` items (50 by default), page `p`
  (0-based); `date` is the day a paper was listed (`paper.submittedOnDailyAt`), not `publishedAt`;
* `GET /api/papers/{arxiv_id}`: one paper (404 when unknown);
* `GET /api/papers/search?q=TEXT&limit=N`: papers whose text matches, as daily-papers items;
* 500 calls per 5-minute window anonymous, 1,000 with a token (`Authorization: Bearer`); past it, 429 with
  `RateLimit: "api";r=0;t=<seconds to the window's end>` and `RateLimit-Policy: "fixed window";"api";q=500;w=300`.

It serves items in the shape of the real `/api/daily_papers` responses (the synthetic `hf-world` items and
the real saved responses). It shares no code with kg.

Run it by hand: python tests/hfserver.py ITEMS.jsonl_or_json... --port 8766
"""

from __future__ import annotations

import argparse
import json
import math
import re
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_LIMIT = 50


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text or "").lower()
    return re.findall(r"[a-z0-9]+", "".join(c for c in text if not unicodedata.combining(c)))


def read_items(paths: list[Path]) -> list[dict]:
    """Daily-papers items from JSON Lines files or saved JSON arrays."""
    items: list[dict] = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            items.extend(json.loads(line) for line in text.splitlines() if line.strip())
        else:
            data = json.loads(text)
            items.extend(data if isinstance(data, list) else [data])
    return items


@dataclass
class Window:
    """The fixed rate-limit window: `calls` per `seconds`, per client (anonymous or token)."""

    calls: int = 500
    seconds: float = 300.0
    token_calls: int = 1000


@dataclass
class Log:
    counts: Counter = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)
    throttled: int = 0


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up closes the socket under us: not worth a traceback."""


class HuggingFaceServer:
    def __init__(self, items: list[dict], window: Window | None = None, port: int = 0, max_limit: int | None = None,
                 refuse_over_max: bool = False, down: bool = False, cut_answers: int = 0):
        self.items = items
        self.max_limit = max_limit  # a cap on `limit` (kg must not rely on getting as many as it asks)
        self.refuse_over_max = refuse_over_max  # a `limit` above the cap is a 400 with an error object, not capped
        self.down = down  # every call answers 503, as a service in an outage does
        self.cut_answers = cut_answers  # the first this many answers are a 200 whose JSON is cut short
        self.window = window or Window()
        self.log = Log()
        self.lock = threading.Lock()
        self.windows: dict[str, tuple[float, int]] = {}
        self.by_id = {self._paper(i)["id"]: i for i in items}
        self.tokens = [(set(_tokens(self._paper(i).get("title") or "")), set(_tokens(self._paper(i).get("summary") or "")))
                       for i in items]
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @staticmethod
    def _paper(item: dict) -> dict:
        return item.get("paper") or item

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api"

    def start(self) -> HuggingFaceServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self, window: Window | None = None) -> None:
        with self.lock:
            self.log = Log()
            self.windows = {}
            self.window = window or Window()

    def __enter__(self) -> HuggingFaceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def admit(self, client: str, token: bool) -> float | None:
        """None when the call fits the client's window; else the seconds until the window ends."""
        with self.lock:
            now = time.monotonic()
            started, used = self.windows.get(client, (now, 0))
            if now - started >= self.window.seconds:
                started, used = now, 0
            if used >= (self.window.token_calls if token else self.window.calls):
                self.log.throttled += 1
                return self.window.seconds - (now - started)
            self.windows[client] = (started, used + 1)
            return None

    def day(self, date: str) -> list[dict]:
        return [i for i in self.items if (self._paper(i).get("submittedOnDailyAt") or "")[:10] == date]

    def search(self, text: str) -> list[dict]:
        wanted = set(_tokens(text))
        scored = []
        for index, (title, summary) in enumerate(self.tokens):
            score = 2 * len(wanted & title) + 0.5 * len(wanted & summary)
            if score:
                scored.append((-score, self._paper(self.items[index])["id"], index))
        return [self.items[index] for *_, index in sorted(scored)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: HuggingFaceServer

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        state = self.server_state
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path.rstrip("/")
        with state.lock:
            state.log.lines.append(self.path)
        auth = self.headers.get("Authorization", "")
        token = auth.lower().startswith("bearer ")
        wait = state.admit(auth if token else "anonymous", token)
        limit_calls = state.window.token_calls if token else state.window.calls
        if wait is not None:
            return self._json(429, {"error": "You have been rate-limited; you can retry this action in about "
                                             f"{math.ceil(wait)} seconds."},
                              {"RateLimit": f'"api";r=0;t={math.ceil(wait)}',
                               "RateLimit-Policy": f'"fixed window";"api";q={limit_calls};w={int(state.window.seconds)}'})
        if state.down:
            return self._json(503, {"error": "Service Unavailable"})
        with state.lock:
            cut, state.cut_answers = state.cut_answers > 0, max(0, state.cut_answers - 1)
        if cut:
            return self._send(200, b'[{"paper": {"id": "2412.1')
        try:
            limit = int(params.get("limit", min(DEFAULT_LIMIT, state.max_limit or DEFAULT_LIMIT)))
            page = int(params.get("p", 0))
        except ValueError:
            return self._json(400, {"error": "limit and p must be integers"})
        if state.max_limit and limit > state.max_limit and state.refuse_over_max:
            return self._json(400, {"error": f"limit must be at most {state.max_limit}"})
        limit = min(limit, state.max_limit or limit)
        if path == "/api/daily_papers":
            with state.lock:
                state.log.counts["daily_papers"] += 1
            date = params.get("date", "")
            if date and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", date):
                return self._json(400, {"error": f"Invalid date: {date}"})  # huggingface_hub: BadRequestError
            items = state.day(date)
            return self._json(200, items[page * limit:(page + 1) * limit])
        if path == "/api/papers/search":
            with state.lock:
                state.log.counts["search"] += 1
            return self._json(200, state.search(params.get("q", ""))[:limit])
        if path.startswith("/api/papers/"):
            with state.lock:
                state.log.counts["paper"] += 1
            item = state.by_id.get(unquote(path[len("/api/papers/"):]))
            if item is None:
                return self._json(404, {"error": "Paper not found"})
            return self._json(200, state._paper(item))
        self._json(404, {"error": "Sorry, we can't find the page you are looking for."})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("items", nargs="+", type=Path)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    server = HuggingFaceServer(read_items(args.items), port=args.port)
    print(f"serving {len(server.items)} papers at {server.url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
