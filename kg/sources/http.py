"""What every HTTP source shares: an adaptive rate limiter and a ledger of spending.

Both services throttle with 429 and say how long to wait. The limiter lets
every worker thread share one pace: a throttle pauses all of them for the
`Retry-After` the server named and lowers the pace below what was being sent;
successes raise it again slowly, never above the configured ceiling (additive
increase, multiplicative decrease). The ledger counts requests by kind and
what they cost, reserving a request's expected cost before it is sent so that
concurrent workers can never spend past a budget between them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import requests
import requests_cache

from kg import __version__
from kg.errors import BudgetExhausted

TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError)
SENT_ERRORS = (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError)
"""Failures after the request reached the server (which may have answered, and billed, it)."""

_SLOWEST = 0.5  # requests per second a throttled client slows down to at the most


class RateLimiter:
    """Space request starts across threads, adapting to the server's throttling."""

    def __init__(self, per_second: float | None):
        self.ceiling = per_second if per_second and per_second > 0 else math.inf
        self.rate = self.ceiling
        self.lock = threading.Lock()
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.recent: deque[float] = deque()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot, self.paused_until)
            self.next_slot = slot + (1.0 / self.rate if math.isfinite(self.rate) else 0.0)
            self.recent.append(slot)
            while self.recent and self.recent[0] < slot - 1.0:
                self.recent.popleft()
        if slot > now:
            time.sleep(slot - now)

    def throttled(self, wait: float) -> None:
        """The server said 'too fast': everyone pauses `wait` seconds, then goes slower than before.

        Workers whose requests were in flight get their 429s together; only the
        first one of such a burst lowers the pace, the others only join the pause.
        """
        with self.lock:
            now = time.monotonic()
            new_event = now >= self.paused_until
            self.paused_until = max(self.paused_until, now + wait)
            if new_event:
                sent = sum(1 for t in self.recent if now - 1.0 <= t <= now)
                pace = min(self.rate, float(sent)) if sent else self.rate
                self.rate = max(_SLOWEST, (pace if math.isfinite(pace) else 10.0) * 0.8)
            self.next_slot = max(self.next_slot, self.paused_until)

    def succeeded(self) -> None:
        with self.lock:
            if self.rate < self.ceiling:
                self.rate = min(self.ceiling, self.rate + max(0.05, self.rate * 0.02))


@dataclass
class Ledger:
    """Requests sent (cache hits excluded) by kind, and what they cost in USD.

    `prices` starts as an estimate per kind and is corrected by what the server
    says each answer cost; the budget check uses it to reserve before sending.
    """

    prices: dict[str, float]
    budget_usd: float | None = None
    counts: Counter = field(default_factory=Counter)
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    cache_hits: int = 0
    retries: int = 0
    throttled: int = 0
    remaining_usd: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def reserve(self, kind: str) -> float:
        """Set aside what one request of this kind is expected to cost, or stop if the budget cannot cover it."""
        with self.lock:
            estimate = self.prices.get(kind, 0.0)
            if (self.budget_usd is not None and estimate > 0
                    and self.spent_usd + self.reserved_usd + estimate > self.budget_usd + 1e-9):
                raise BudgetExhausted(
                    f"the --budget of ${self.budget_usd:.4f} would be exceeded by the next {kind} request "
                    f"(spent ${self.spent_usd:.4f}, next about ${estimate:.4f})")
            self.reserved_usd += estimate
            return estimate

    def settle(self, kind: str, reserved: float, cost: float | None, *, sent: bool = True,
               from_cache: bool = False) -> None:
        """Replace a reservation by what the request cost (the server's figure when it gave one)."""
        with self.lock:
            self.reserved_usd = max(0.0, self.reserved_usd - reserved)
            if from_cache:
                self.cache_hits += 1
                return
            if not sent:
                return
            self.counts[kind] += 1
            if cost is not None:
                self.spent_usd += cost
                self.prices[kind] = cost
            else:
                self.spent_usd += reserved

    def saw_remaining(self, usd: float) -> None:
        """Keep the lowest remaining budget answered: concurrent answers arrive out of order."""
        with self.lock:
            self.remaining_usd = usd if self.remaining_usd is None else min(self.remaining_usd, usd)

    def note(self, counter: str) -> None:
        with self.lock:
            setattr(self, counter, getattr(self, counter) + 1)

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.counts.items())) or "none"
        extra = [f"cache hits {self.cache_hits}", f"retries {self.retries}", f"throttled {self.throttled}"]
        return f"{kinds} ({', '.join(extra)})"


def json_session(cache_path: Path | None, token: str | None, short_lived: dict | None = None,
                 secret_parameters: tuple[str, ...] = ()) -> requests.Session:
    """One pooled session for a JSON API: kg's User-Agent, the token as `Authorization: Bearer`, and, given
    a path, an SQLite HTTP cache (7 days; `short_lived` URL patterns for fewer seconds) whose keys and stored
    requests never hold the token or the `secret_parameters`."""
    session: requests.Session
    if cache_path is not None:
        session = requests_cache.CachedSession(
            str(cache_path), backend="sqlite", expire_after=7 * 24 * 3600, urls_expire_after=dict(short_lived or {}),
            ignored_parameters=[*secret_parameters, "Authorization"], allowable_codes=(200,), stale_if_error=False)
    else:
        session = requests.Session()
    session.headers["User-Agent"] = f"kg/{__version__} (citation knowledge-graph builder)"
    session.headers["Accept"] = "application/json"
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def forget(session: requests.Session, response: requests.Response) -> None:
    """Drop an answer from the HTTP cache: a 200 that kg cannot use (cut, not JSON, an error object) must not
    be served again to the retry meant to replace it, nor to the next run."""
    if isinstance(session, requests_cache.CachedSession):
        session.cache.delete(requests=[response.request])


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def float_header(response: requests.Response, name: str) -> float | None:
    try:
        return float(response.headers[name])
    except (KeyError, ValueError):
        return None


def json_body(response: requests.Response) -> object | None:
    try:
        return response.json()
    except ValueError:
        return None
