"""How fast a batch job sends: a pacer that finds the server's rate limit and stays just under it.

Two phases, as in TCP. **Slow start**: a short burst, then requests paced at a rate that grows by
one per round trip per success (doubling every round trip). The first 429 ends it, at half that
rate (or the rate answers came back at, if higher). **Paced**:
requests leave at most ``rate`` per second, evenly spaced. A 429 from a request sent at the current
rate cuts the rate to `DECREASE` of itself and remembers the rate that failed (``ceiling_rate``).
No cut for requests sent before the last cut (they report a rate no longer used) and at most one
per round trip, so a server that refuses a few requests at random does not drive the
rate to nothing. After a cut the rate climbs back quickly towards the rate that failed,
then probes above it, slowly at first and faster the longer no 429 comes (so a limit that was
raised is found within seconds). Time constants are counted in round trips, as in TCP. A
server's ``x-ratelimit-remaining: 0`` holds every send until its ``x-ratelimit-reset``, and a low
``remaining`` stops the probing.

The job's ``concurrency`` caps requests in flight on top of this. Nothing here holds a slot or a
lock: the scheduler asks `turn` for the moment to send, then tells
the controller what happened (`succeeded`, `throttled`, `advise`). The clock and the sleep are
attributes, so tests can drive it without waiting.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "DECREASE",
    "INITIAL_BURST",
    "INITIAL_RATE",
    "AdaptiveLimit",
    "RateController",
    "RateLimitHint",
    "rate_limit_hint",
    "spread",
]

INITIAL_BURST = 8
"""Requests sent at once before any feedback (TCP starts with 10 segments)."""
INITIAL_RATE = 100.0
"""Requests per second after that burst, doubling every round trip until the first 429."""
DECREASE = 0.85
"""The rate after a 429, as a share of the rate that got it: small cuts keep the average close to the limit."""
_NEAR_CEILING = 0.97
"""Within this share of the rate that failed, the climb back becomes a probe."""
_PROBE_START = 0.01
"""Probing adds 1 % per period at first, doubling each period without a 429, up to 100 % per period."""
_PERIOD_ROUND_TRIPS = 5.0
"""A period is five round trips, kept between 0.2 s and 1 s: fast servers are probed faster."""
_ACCEPTED_SAMPLES = 4
"""Answers needed in a round trip before their rate says anything about the server's."""
_LOW_REMAINING = 2
"""A server that says fewer requests than this remain is at its limit: no probing then."""
_DEFAULT_ROUND_TRIP = 0.1
_SLOW_START_ROUND_TRIP = 0.2
"""Slow start doubles at most every 0.2 s: a server's burst allowance hides its limit for a while, and
doubling faster than that overshoots far before the first 429 says so."""


@dataclass(frozen=True, slots=True)
class RateLimitHint:
    """What a response's ``x-ratelimit-*`` headers say: requests left in the window, seconds until it resets."""

    remaining: int
    reset: float


def rate_limit_hint(headers: Mapping[str, str] | None) -> RateLimitHint | None:
    """The ``x-ratelimit-remaining`` / ``x-ratelimit-reset`` pair, if both are there and make sense."""
    if headers is None:
        return None
    remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
    if remaining is None or reset is None:
        return None
    try:
        hint = RateLimitHint(int(float(remaining)), float(reset))
    except ValueError:
        return None
    if hint.remaining < 0 or not 0 <= hint.reset < 3600 or math.isnan(hint.reset):
        return None
    return hint


def spread(seconds: float) -> float:
    """A wait the server asked for, lengthened by up to half at random so the waiters do not return as a herd."""
    return seconds * (1.0 + 0.5 * random.random())


class RateController:
    """The send rate of one or more batch jobs hitting the same limit; pass one to several jobs to share it.

    ``rate`` is requests per second; ``slow_start`` is True until the first 429. ``epoch`` counts
    the cuts: a request remembers the epoch it was sent in, and only a 429 from the current epoch
    cuts again.
    """

    def __init__(self, *, initial_rate: float = INITIAL_RATE, initial_burst: int = INITIAL_BURST) -> None:
        self.rate = initial_rate
        self.slow_start = True
        self.ceiling_rate: float | None = None
        self.epoch = 0
        self.cuts = 0
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._burst_left = initial_burst
        self._next_send = 0.0
        self._hold_until = 0.0
        self._last_update: float | None = None
        self._probe_started: float | None = None
        self._paced_since_update = False
        self._at_limit = False
        self._round_trip = _DEFAULT_ROUND_TRIP
        self._answered: list[float] = []  # when the last round trip's successes came back
        self._last_cut = -math.inf

    def __repr__(self) -> str:
        phase = "slow start" if self.slow_start else "paced"
        return f"<RateController {phase} at {self.rate:.1f}/s, {self.cuts} cuts>"

    # -- asked by the scheduler --------------------------------------------------------------

    async def turn(self) -> int:
        """Wait until the next request may leave; returns the epoch it leaves in."""
        now = self.clock()
        self._grow(now)
        start = max(now, self._hold_until)
        if self._burst_left > 0 and start == now:
            self._burst_left -= 1  # the first few leave at once: nothing is known about the server yet
            self._next_send = max(self._next_send, now)
            return self.epoch
        start = max(start, self._next_send)
        self._next_send = start + 1.0 / self.rate
        if start > now:
            self._paced_since_update = True
            await self.sleep(start - now)
        return self.epoch

    # -- told by the scheduler ---------------------------------------------------------------

    def succeeded(self, round_trip: float) -> None:
        """A request was answered; ``round_trip`` is how long it took."""
        self._round_trip = 0.8 * self._round_trip + 0.2 * max(round_trip, 0.001)
        if self.slow_start:
            now = self.clock()
            self._answered = [t for t in self._answered if t > now - self._round_trip]
            self._answered.append(now)
            if self._paced_since_update:  # one more per round trip per answer: doubles each round trip
                self.rate += 1.0 / max(self._round_trip, _SLOW_START_ROUND_TRIP)

    def throttled(self, epoch: int) -> None:
        """A request sent in ``epoch`` got a 429: cut the rate, once per epoch and per round trip."""
        now = self.clock()
        if epoch != self.epoch or now - self._last_cut < self._round_trip:
            return
        self.epoch += 1
        self.cuts += 1
        self._last_cut = now
        self._probe_started = None
        self._last_update = now
        self._next_send = max(self._next_send, now)
        if self.slow_start:
            # Leaving slow start: the rate overshot, by up to twice (more while a burst allowance hid
            # the limit). Halve it as TCP does, or go to the rate answers came back at if that is
            # lower, then climb back towards the rate that failed.
            self.slow_start = False
            answered = [t for t in self._answered if t > now - self._round_trip]
            self.ceiling_rate = self.rate
            self.rate = 0.5 * self.rate
            if len(answered) >= _ACCEPTED_SAMPLES:
                self.rate = min(self.rate, 0.9 * len(answered) / self._round_trip)
            self.rate = max(1.0, self.rate)
            return
        # A cut while still climbing back lowers the remembered ceiling only halfway: one stray 429
        # (a server refusing a few requests at random) must not ratchet the rate down for good.
        ceiling = self.ceiling_rate
        self.ceiling_rate = self.rate if ceiling is None or self.rate >= ceiling else (self.rate + ceiling) / 2
        self.rate = max(0.5, self.rate * DECREASE)

    def advise(self, hint: RateLimitHint | None) -> None:
        """Take in a response's ``x-ratelimit-*`` headers: an empty window holds every send until it resets."""
        if hint is None:
            return
        self._at_limit = hint.remaining < _LOW_REMAINING
        if hint.remaining == 0:
            self._hold_until = max(self._hold_until, self.clock() + hint.reset)

    # -- growth ------------------------------------------------------------------------------

    def _period(self) -> float:
        return min(1.0, max(0.2, _PERIOD_ROUND_TRIPS * self._round_trip))

    def _grow(self, now: float) -> None:
        last, self._last_update = self._last_update, now
        paced, self._paced_since_update = self._paced_since_update, False
        if self.slow_start or last is None or not paced:
            return  # grow only when the rate was what held requests back
        # Only time spent sending at the pace counts: a pause (waiting for retries, for input) is no evidence.
        elapsed = min(now - last, 2.0 / self.rate)
        period = self._period()
        ceiling = self.ceiling_rate or self.rate
        if self.rate < ceiling * _NEAR_CEILING:
            self.rate += (ceiling - self.rate) * (1.0 - math.exp(-2.0 * elapsed / period))
            return
        if self._at_limit:
            self._probe_started = None
            return
        if self._probe_started is None:
            self._probe_started = now
        probing = now - self._probe_started
        growth = min(1.0, _PROBE_START * 2.0 ** (probing / period)) / period
        self.rate *= math.exp(growth * elapsed)


class AdaptiveLimit:
    """A fixed in-flight window run by AIMD: halved on a 429, grown by about one per window of successes.

    The engine's limiter before `RateController`; a job given one respects it on top of the
    controller (``embed_all(..., limit=...)``), for callers who want a window that only AIMD moves.
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self._epoch = 0

    @property
    def epoch(self) -> int:
        return self._epoch

    def throttled(self, epoch: int) -> None:
        # Only the first 429 of an epoch halves the limit: the others were sent before we slowed down.
        if epoch == self._epoch:
            self.limit = max(1.0, self.limit / 2)
            self._epoch += 1

    def succeeded(self) -> None:
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)
