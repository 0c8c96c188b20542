"""The emulator's rate-limit mode: a token bucket in front of the routes, as a rate-limited API behaves.

Each request takes a token; tokens come back at ``rate`` per second up to ``burst``. A request
that finds none is answered at once with 429 (Telnyx's body, code ``10011``), with
``Retry-After`` when one is set. An accepted request is answered after ``latency`` seconds. With
``headers`` on, every answer says ``x-ratelimit-limit`` (requests per second),
``x-ratelimit-remaining`` (whole tokens left) and ``x-ratelimit-reset`` (seconds until the next
token). Change ``rate`` at any time (`RateLimiter.set_rate`), from any thread, while a job runs.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from ._responses import telnyx_error

__all__ = ["RateLimiter"]


@dataclass(eq=False)
class RateLimiter:
    """A token bucket of ``burst`` tokens refilled at ``rate`` per second, and what it decided.

    ``path`` limits only that path (None: every routed request). ``accepted`` and ``refused``
    count decisions; ``decisions`` keeps ``(seconds since the first request, accepted)`` for each,
    so a test or a benchmark can see the throughput over time.
    """

    rate: float
    burst: int = 10
    latency: float = 0.0
    retry_after: float | None = 1.0
    headers: bool = True
    path: str | None = None
    clock: Callable[[], float] = time.monotonic
    accepted: int = 0
    refused: int = 0
    decisions: list[tuple[float, bool]] = field(default_factory=list[tuple[float, bool]])
    _tokens: float = field(init=False)
    _updated: float | None = field(init=False, default=None)
    _started: float | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1 or self.latency < 0:
            raise ValueError("a rate limit needs rate > 0, burst >= 1 and latency >= 0.")
        self._tokens = float(self.burst)

    def applies_to(self, path: str) -> bool:
        return self.path is None or self.path == path

    def set_rate(self, rate: float) -> None:
        """Change the rate from now on (tokens already in the bucket stay)."""
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}.")
        with self._lock:
            self._refill(self.clock())
            self.rate = rate

    def _refill(self, now: float) -> None:
        if self._updated is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def take(self) -> bool:
        """Take a token if there is one; records the decision."""
        with self._lock:
            now = self.clock()
            if self._started is None:
                self._started = now
            self._refill(now)
            allowed = self._tokens >= 1.0
            if allowed:
                self._tokens -= 1.0
                self.accepted += 1
            else:
                self.refused += 1
            self.decisions.append((now - self._started, allowed))
            return allowed

    def header_values(self) -> dict[str, str]:
        """The ``x-ratelimit-*`` headers as of now."""
        with self._lock:
            self._refill(self.clock())
            tokens, rate = self._tokens, self.rate
        remaining = math.floor(tokens)
        reset = 0.0 if remaining >= self.burst else (1.0 - (tokens - remaining)) / rate
        return {
            "x-ratelimit-limit": f"{rate:g}",
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": f"{reset:.3f}",
        }

    def refusal(self) -> web.Response:
        """The 429 a refused request gets."""
        extra: dict[str, str] = self.header_values() if self.headers else {}
        if self.retry_after is not None:
            extra["Retry-After"] = f"{self.retry_after:g}"
        return telnyx_error(429, "You have exceeded the maximum number of allowed requests.", headers=extra)

    def throughput(self, bin_seconds: float = 1.0) -> list[tuple[float, int, int]]:
        """``(bin start, accepted, refused)`` per ``bin_seconds`` since the first request."""
        bins: dict[int, list[int]] = {}
        for at, allowed in self.decisions:
            counts = bins.setdefault(int(at // bin_seconds), [0, 0])
            counts[0 if allowed else 1] += 1
        rows: list[tuple[float, int, int]] = []
        for number in range(max(bins, default=-1) + 1):
            accepted, refused = bins.get(number, [0, 0])
            rows.append((number * bin_seconds, accepted, refused))
        return rows
