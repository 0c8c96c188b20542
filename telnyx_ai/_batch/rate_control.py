"""How fast a batch job sends: a pacer that finds the server's rate limit and stays just under it.

Two phases, as in TCP. **Slow start**: a short burst, then requests paced at a rate that grows by
one per round trip per success (doubling every round trip). The first 429 ends it, at half that
rate (or the rate answers came back at, if lower). **Paced**: requests leave at most ``rate`` per
second, evenly spaced. A 429 from a request sent at the current rate cuts the rate: to `DECREASE`
of itself, or, when the server was seen to accept far less than that (its limit dropped), to the
rate it accepted. No cut for requests sent before the last cut (they report a rate no longer
used) and at most one per round trip, so a server that refuses a few requests at random does not
drive the rate to nothing; but when a quarter or more of the requests sent since are refused (a
flood: the limit fell far below the pace), the rate goes at once to what the others say the server
accepts, and again as more of them come (429s come back at once; answers are a round trip late).
After a cut the rate climbs back quickly towards the rate that failed (``ceiling_rate``), then
probes above it, slowly at first and faster the longer no 429 comes. A storm (a cut with nothing
answered since the last one) cuts again each round trip but neither climbs in between nor lowers
the ceiling: the pace decays while everything is refused, and climbs straight back to where it was
once answers return. After a drop, the rate the server used to accept is remembered and probed for
at once (100 % per 0.7 s): once a probe gets well above the new ceiling without a 429, the
rate doubles every round trip back to the old one. In a job's last stretch (`finishing`) nothing
is probed: a 429 then would only hold up the last batches. Time constants are counted in round
trips, as in TCP.

The ``x-ratelimit-*`` headers, when a server sends them, are hints on top: ``limit`` caps the pace
(read as requests per second, a safe upper bound for any longer window) and ends slow start
without an overshoot; ``remaining`` over ``reset`` caps it until the window resets (the pace that
spends what is left evenly); ``remaining: 0`` holds every send until the reset, and a low
``remaining`` stops the probing.

The job's ``concurrency`` caps requests in flight on top of this. Nothing here holds a slot or a
lock: the scheduler asks `turn` for the moment to send, then tells the controller what happened
(`succeeded`, `throttled`, `advise`). The clock and the sleep are attributes, so tests can drive
it without waiting.
"""

from __future__ import annotations

import asyncio
import bisect
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
_ACCEPTED_SHARE = 0.95
"""After a drop, the rate is cut to this share of the rate the server was seen to accept."""
_NEAR_CEILING = 0.97
"""Within this share of the rate that failed, the climb back becomes a probe."""
_PROBE_START = 0.01
"""Probing adds 1 % per period at first, doubling each period without a 429, up to 100 % per period."""
_RECOVERY_PROBE_START = 1.0
"""After a drop, probing goes at once at 100 % per period: the limit is likely to come back, and a probe that
finds it has not costs a 429 or two, as the climb back to the ceiling does anyway."""
_RECOVERY_PERIOD = 0.7
"""The period of a probe after a drop, whatever the round trip (so 100 % per 0.7 s): a period of a few
round trips would cost a fast server's client a 429 every few round trips while the limit stays low."""
_RECOVERED = 0.25
_RECOVERED_REQUESTS = 16
"""A probe that sent this many seconds' worth of the ceiling's requests above it, and at least this many
requests, none refused, means the limit rose (no burst allowance lasts that long): climb back to the old rate,
doubling every round trip."""
_FLOOD_SENDS = 8
_FLOOD_SHARE = 0.25
"""When a quarter or more of the requests sent since the last ordinary cut (at least 8) were refused, the rest
say what the server accepts now, whatever answers to requests sent before still report: cut to it at once,
and again as more of them say less. (429s come back at once, so these counts are current.)"""
_STALE_STEP = 1.5
"""Without such a rate, a ceiling found stale that way is raised by half."""
_DROPPED = 1.25
"""A server that accepts this much less than it used to has lowered its limit: its old rate is worth remembering."""
_PERIOD_ROUND_TRIPS = 5.0
"""A period is five round trips, kept between 0.2 s and 1 s: fast servers are probed faster."""
_ACCEPTED_SAMPLES = 4
"""Answers needed in a window before their rate says anything about the server's."""
_HINT_MARGIN = 0.98
"""Pace at this share of a rate the server's headers allow: a token bucket refuses the odd early request."""
_FINISHING_SHARE = 0.93
"""In a job's last stretch the pace stays this far under the rate that failed (see `finishing`)."""
_LOW_REMAINING = 2
"""A server that says fewer requests than this remain is at its limit: no probing then."""
_HISTORY = 2.0
"""Seconds of answers kept, for the accepted rate (a window of a few round trips) and its peak."""
_PEAK_WINDOW = 1.0
"""The peak accepted rate is measured over a second: a burst allowance inflates shorter windows."""
_MIN_RATE = 0.5
"""The slowest pace: a request every two seconds, however many 429s came back."""
_DEFAULT_ROUND_TRIP = 0.1
_SLOW_START_ROUND_TRIP = 0.2
"""Slow start doubles at most every 0.2 s: a server's burst allowance hides its limit for a while, and
doubling faster than that overshoots far before the first 429 says so."""


@dataclass(frozen=True, slots=True)
class RateLimitHint:
    """What a response's ``x-ratelimit-*`` headers say: requests left, seconds until the window resets, the limit."""

    remaining: int | None
    reset: float | None
    limit: float | None = None


def rate_limit_hint(headers: Mapping[str, str] | None) -> RateLimitHint | None:
    """The ``x-ratelimit-remaining`` / ``-reset`` pair (both or neither) and ``-limit``, where they make sense."""
    if headers is None:
        return None
    remaining, reset = _number(headers.get("x-ratelimit-remaining")), _number(headers.get("x-ratelimit-reset"))
    if remaining is None or reset is None or remaining < 0 or not 0 <= reset < 3600:
        remaining = reset = None
    limit = _number(headers.get("x-ratelimit-limit"))
    if limit is not None and not 0 < limit < math.inf:
        limit = None
    if remaining is None and limit is None:
        return None
    return RateLimitHint(None if remaining is None else int(remaining), reset, limit)


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return None if value is None or math.isnan(value) else value


def spread(seconds: float) -> float:
    """A wait the server asked for, lengthened by up to half at random so the waiters do not return as a herd."""
    return seconds * (1.0 + 0.5 * random.random())


class RateController:
    """The send rate of one or more batch jobs hitting the same limit; pass one to several jobs to share it.

    ``rate`` is requests per second; ``slow_start`` is True until the first 429. ``epoch`` counts
    the cuts: a request remembers the epoch it was sent in, and only a 429 from the current epoch
    cuts again. ``limit`` is the server's ``x-ratelimit-limit``, once it sent one.
    """

    def __init__(self, *, initial_rate: float = INITIAL_RATE, initial_burst: int = INITIAL_BURST) -> None:
        self.rate = initial_rate
        self.slow_start = True
        self.ceiling_rate: float | None = None
        self.limit: float | None = None
        self.epoch: int = 0
        self.cuts = 0
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._burst_left = initial_burst
        self._burst_refused = False
        self._next_send = 0.0
        self._hold_until = 0.0
        self._budget = math.inf  # remaining / reset, until the window resets
        self._budget_until = 0.0
        self._last_update: float | None = None
        self._probe_started: float | None = None
        self._paced_since_update = False
        self._at_limit = False
        self._round_trip = _DEFAULT_ROUND_TRIP
        self._answers: list[float] = []  # when successes came back, the last `_HISTORY` seconds
        self._peak_accepted = 0.0  # the most the server was seen to accept since the last drop
        self._former_rate: float | None = None  # what it accepted before the drop: where a recovery climbs back to
        self._probe_excess = 0.0  # requests sent above the ceiling since the last cut, none refused
        self._last_cut = -math.inf
        self._answered_since_cut = True  # False in a storm: cut, and nothing answered since
        self._tally_sends = 0  # requests booked since the last ordinary cut, and the 429s among them
        self._tally_refused = 0
        self._tally_start = 0.0
        self._returning = False  # the limit came back: climbing to the old rate, doubling every round trip
        self._finishing = 0  # jobs in their last stretch (`finishing`)

    def __repr__(self) -> str:
        phase = "slow start" if self.slow_start else "paced"
        return f"<RateController {phase} at {self.rate:.1f}/s, {self.cuts} cuts>"

    # -- asked by the scheduler --------------------------------------------------------------

    async def turn(self) -> int:
        """Wait until the next request may leave; returns the epoch it leaves in."""
        epoch, delay = self.reserve()
        if delay > 0:
            await self.sleep(delay)
        return epoch

    def reserve(self) -> tuple[int, float]:
        """Book the next send without waiting: its epoch and the seconds until it may leave."""
        now = self.clock()
        self._grow(now)
        start = max(now, self._hold_until)
        if self._burst_left > 0 and start == now:
            self._burst_left -= 1  # the first few leave at once: nothing is known about the server yet
            self._next_send = max(self._next_send, now)
            return self.epoch, 0.0
        start = max(start, self._next_send)
        if not self._tally_sends:
            self._tally_start = start
        self._tally_sends += 1
        pace = self.rate if now >= self._budget_until else min(self.rate, self._budget)
        if self._finishing and self.ceiling_rate is not None:
            pace = min(pace, _FINISHING_SHARE * self.ceiling_rate)
        self._next_send = start + 1.0 / max(pace, 0.1)
        if start > now:
            self._paced_since_update = True
        return self.epoch, start - now

    # -- told by the scheduler ---------------------------------------------------------------

    def succeeded(self, round_trip: float) -> None:
        """A request was answered; ``round_trip`` is how long it took."""
        self._round_trip = 0.8 * self._round_trip + 0.2 * max(round_trip, 0.001)
        now = self.clock()
        self._answered_since_cut = True
        answers = self._answers
        answers.append(now)
        if answers[0] < now - _HISTORY:
            del answers[: bisect.bisect_left(answers, now - _HISTORY)]
        peak = self._accepted_rate(now, _PEAK_WINDOW)
        if peak is not None:
            self._peak_accepted = max(self._peak_accepted, peak)
        if self.slow_start and self._paced_since_update:  # one more per round trip per answer: doubles each round trip
            self.rate += 1.0 / max(self._round_trip, _SLOW_START_ROUND_TRIP)
            if self.limit is not None and self.rate >= self.limit * _HINT_MARGIN:
                self._leave_slow_start(self.limit * _HINT_MARGIN)  # the server said its limit: no overshoot needed

    def throttled(self, epoch: int) -> None:
        """A request sent in ``epoch`` got a 429: cut the rate, once per epoch and per round trip (sooner in a flood)."""
        now = self.clock()
        if epoch != self.epoch:
            return  # sent before the last cut: it says nothing about the pace now
        if self.slow_start and not self._answers and not self._burst_refused:
            # Refused before anything was answered: the burst was too big, not the pace. A new epoch,
            # so the other 429s of requests already sent are ignored, but one sent after this cuts.
            self._burst_left, self._burst_refused = 0, True
            self.epoch += 1
            return
        self._tally_refused += 1
        flood = self._flood(now)
        if now - self._last_cut < self._round_trip and flood is None:
            return
        if flood is None:
            self._tally_sends = self._tally_refused = 0
        storm = flood is None and not self._answered_since_cut
        self.epoch += 1
        self.cuts += 1
        self._last_cut = now
        self._answered_since_cut = False
        self._returning = False
        self._probe_started = None
        self._probe_excess = 0.0
        self._last_update = now
        self._next_send = max(self._next_send, now)
        if storm and not self.slow_start:
            # Nothing answered since the last cut: every request is refused. Keep cutting, one round trip
            # apart, but keep the ceiling: once answers return, the pace climbs straight back to it.
            self.rate = max(_MIN_RATE, self.rate * DECREASE)
            return
        if self.slow_start:
            # Leaving slow start: the rate overshot, by up to twice (more while a burst allowance hid
            # the limit). Halve it as TCP does, or go to the rate answers came back at if that is
            # lower, then climb back towards the rate that failed.
            answered = self._accepted_rate(now, self._round_trip)
            self.ceiling_rate = self.rate
            self._leave_slow_start(min(0.5 * self.rate, math.inf if answered is None else 0.9 * answered))
            return
        accepted = flood if flood is not None else self._accepted_rate(now, self._window())
        seen = max(self._peak_accepted, self._former_rate or 0.0)
        if accepted is not None and accepted * _DROPPED <= seen and _ACCEPTED_SHARE * accepted < DECREASE * self.rate:
            # The server accepts far less than it did, and than we send: its limit dropped. Go to what it
            # accepts and remember the old rate. Answers alone cut at most by half (a window of them still
            # holds some from before the drop); a flood of refusals says what is accepted now.
            self._former_rate, self._peak_accepted = seen, accepted
            self.ceiling_rate = max(_MIN_RATE, accepted)
            floor = 0.0 if flood is not None else 0.5 * self.rate
            self.rate = max(_MIN_RATE, floor, _ACCEPTED_SHARE * accepted)
            return
        if flood is not None:
            # Many requests refused, but the server was not seen to accept more before (a probe that
            # overshot): go to what it accepts, and make that the ceiling.
            self.ceiling_rate = max(_MIN_RATE, flood)
            self.rate = max(_MIN_RATE, min(DECREASE * self.rate, _ACCEPTED_SHARE * flood))
            return
        # A cut while still climbing back lowers the remembered ceiling only halfway: one stray 429
        # (a server refusing a few requests at random) must not ratchet the rate down for good.
        ceiling = self.ceiling_rate
        self.ceiling_rate = self.rate if ceiling is None or self.rate >= ceiling else (self.rate + ceiling) / 2
        self.rate = max(_MIN_RATE, self.rate * DECREASE)

    def finishing(self, on: bool) -> None:
        """A job using this controller is in its last stretch (``on``), or no longer is: meanwhile no probing,
        and a pace a little under the rate that failed. A 429 then would hold up the job's last batches for a
        Retry-After, and a higher pace has nothing left to gain."""
        self._finishing = max(0, self._finishing + (1 if on else -1))

    def advise(self, hint: RateLimitHint | None) -> None:
        """Take in a response's ``x-ratelimit-*`` headers (see the module's docstring)."""
        if hint is None:
            return
        now = self.clock()
        if hint.limit is not None and hint.limit != self.limit:
            self._new_limit(hint.limit)
        if hint.remaining is None or hint.reset is None:
            return
        self._at_limit = hint.remaining < _LOW_REMAINING
        if hint.remaining == 0:
            self._hold_until = max(self._hold_until, now + hint.reset)
        elif hint.reset > 0:
            self._budget, self._budget_until = hint.remaining / hint.reset, now + hint.reset

    # -- state changes -----------------------------------------------------------------------

    def _leave_slow_start(self, rate: float) -> None:
        self.slow_start = False
        self.rate = max(1.0, rate)
        if self.ceiling_rate is None:
            self.ceiling_rate = self.rate

    def _new_limit(self, limit: float) -> None:
        """The server's stated limit changed: a cap now, and, if it rose, a rate to climb back to."""
        old, self.limit = self.limit, limit
        cap = limit * _HINT_MARGIN
        self.rate = min(self.rate, cap)
        if self.ceiling_rate is not None:
            self.ceiling_rate = min(self.ceiling_rate, cap) if old is None or limit < old else cap

    def _accepted_rate(self, now: float, window: float) -> float | None:
        """Successes per second over the last ``window`` seconds, if there were enough to say."""
        answers = self._answers
        count = len(answers) - bisect.bisect_right(answers, now - window)
        if count < _ACCEPTED_SAMPLES or answers[0] > now - window:
            return None  # too few, or the history does not cover the window yet
        return count / window

    def _flood(self, now: float) -> float | None:
        """The rate the server accepted the requests sent since the last ordinary cut at, when so many were
        refused that it is well under the pace (see `_FLOOD_SHARE`)."""
        # Sends booked but not yet due are not sent: a shared controller books a little ahead for its workers.
        ahead = int(max(0.0, self._next_send - now) * self.rate)
        sends, refused = self._tally_sends - ahead, self._tally_refused
        if self.slow_start or sends < _FLOOD_SENDS or refused < _FLOOD_SHARE * sends:
            return None
        if sends - refused < 2:
            return None  # (nearly) everything refused: a storm, not a lower limit
        accepted = (sends - refused) / max(now - self._tally_start, 1.0 / self.rate)
        return accepted if _ACCEPTED_SHARE * accepted < DECREASE * self.rate else None

    def _window(self) -> float:
        return min(1.0, max(0.25, 2.0 * self._round_trip))

    # -- growth ------------------------------------------------------------------------------

    def _period(self) -> float:
        return min(1.0, max(0.2, _PERIOD_ROUND_TRIPS * self._round_trip))

    def _grow(self, now: float) -> None:
        last, self._last_update = self._last_update, now
        paced, self._paced_since_update = self._paced_since_update, False
        if self.slow_start or last is None or not paced or not self._answered_since_cut:
            return  # grow only when the rate was what held requests back, and not in a storm
        # Only time spent sending at the pace counts: a pause (waiting for retries, for input) is no evidence.
        elapsed = min(now - last, 2.0 / self.rate)
        period = self._period()
        ceiling = self.ceiling_rate or self.rate
        if self.rate < ceiling * _NEAR_CEILING and self._returning:
            self.rate = min(ceiling, self.rate * 2.0 ** (elapsed / self._round_trip))
        elif self.rate < ceiling * _NEAR_CEILING:
            self.rate += (ceiling - self.rate) * (1.0 - math.exp(-2.0 * elapsed / period))
        elif self._at_limit or self._finishing or (self.limit is not None and self.rate >= self.limit * _HINT_MARGIN):
            self._probe_started = None  # the server says this is its limit, or a job ends: nothing to find above
        elif self._probe_excess >= max(_RECOVERED * ceiling, _RECOVERED_REQUESTS):
            # More sent above the rate that failed than any burst allowance explains, and still no 429:
            # the limit is higher now. Climb straight back to the rate before a drop, or half as high again.
            self.ceiling_rate = self._former_rate or ceiling * _STALE_STEP
            self._probe_started, self._probe_excess = None, 0.0
            self._returning = self._former_rate is not None
        else:
            if self._probe_started is None:
                self._probe_started = now
            start = _PROBE_START
            if self._former_rate is not None:  # after a drop: at once at 100 % per period
                start, period = _RECOVERY_PROBE_START, _RECOVERY_PERIOD
            growth = min(1.0, start * 2.0 ** ((now - self._probe_started) / period)) / period
            self.rate *= math.exp(growth * elapsed)
            self._probe_excess += max(0.0, self.rate - ceiling) * elapsed
        if self._former_rate is not None and self.rate >= self._former_rate * _NEAR_CEILING:
            self._former_rate = None  # back where it was before the drop
        if self.limit is not None:
            self.rate = min(self.rate, self.limit * _HINT_MARGIN)


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
