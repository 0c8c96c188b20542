"""Faults the emulator can inject, and the plan deciding which request gets which.

A `Fault` is a small immutable value. `FaultPlan` holds the queue of injected faults and the
optional random rates; it is locked because tests call it from another thread when the
server runs in a background thread.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

__all__ = ["Fault", "FaultKind", "FaultPlan", "Injection", "mixed_faults"]

FaultKind = Literal[
    "status",
    "reset_before_headers",
    "reset_after_headers",
    "truncated_json",
    "truncated_stream",
    "error_event",
    "stall",
    "trickle",
]

_STREAM_ONLY: frozenset[str] = frozenset({"truncated_stream", "error_event"})


@dataclass(frozen=True, slots=True)
class Fault:
    """One way for a response to go wrong. Build it with the class methods, e.g. ``Fault.status(429)``."""

    kind: FaultKind
    status_code: int = 500
    retry_after: float | str | None = None
    retry_after_ms: float | None = None
    html: bool = False
    after_events: int = 0
    seconds: float = 0.0
    chunk_size: int = 1

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"Unknown fault kind {self.kind!r}; expected one of {', '.join(get_args(FaultKind))}.")
        if self.after_events < 0 or self.seconds < 0 or self.chunk_size < 1:
            raise ValueError(f"Invalid fault parameters: {self!r}.")

    @classmethod
    def status(
        cls,
        code: int,
        *,
        retry_after: float | str | None = None,
        retry_after_ms: float | None = None,
        html: bool = False,
    ) -> Fault:
        """Answer with HTTP ``code`` and a Telnyx error body (or a proxy's HTML page with ``html=True``).

        ``retry_after`` sets the ``Retry-After`` header (seconds, or any string such as an HTTP
        date); ``retry_after_ms`` sets ``retry-after-ms``.
        """
        if not 400 <= code <= 599:
            raise ValueError(f"A status fault needs a 4xx or 5xx code, got {code}.")
        return cls("status", status_code=code, retry_after=retry_after, retry_after_ms=retry_after_ms, html=html)

    @classmethod
    def reset_before_headers(cls) -> Fault:
        """Abort the TCP connection (RST) before any byte of the response.

        Note: aiohttp itself resends an idempotent request (GET, PUT, DELETE) once when a reused
        keep-alive connection drops like this, so a GET may reach the server twice for one call.
        Use a POST endpoint when counting attempts.
        """
        return cls("reset_before_headers")

    @classmethod
    def reset_after_headers(cls) -> Fault:
        """Send the headers and part of the body, then abort the connection."""
        return cls("reset_after_headers")

    @classmethod
    def truncated_json(cls) -> Fault:
        """A 200 whose JSON is cut in half (with a matching Content-Length, so only the JSON is broken).

        On a stream, the first content event carries the cut JSON.
        """
        return cls("truncated_json")

    @classmethod
    def truncated_stream(cls, after_events: int = 3) -> Fault:
        """End a stream cleanly after ``after_events`` events, without ``[DONE]`` (streams only)."""
        return cls("truncated_stream", after_events=after_events)

    @classmethod
    def error_event(cls, after_events: int = 2) -> Fault:
        """After ``after_events`` events, send ``event: error`` with a JSON error body and end (streams only)."""
        return cls("error_event", after_events=after_events)

    @classmethod
    def stall(cls, seconds: float, *, after_events: int = 0) -> Fault:
        """Send nothing for ``seconds`` (longer than the client's read timeout), then answer normally.

        With ``after_events`` on a stream, the pause comes after that many events instead.
        """
        return cls("stall", seconds=seconds, after_events=after_events)

    @classmethod
    def trickle(cls, delay: float, *, chunk_size: int = 1) -> Fault:
        """Send the body ``chunk_size`` bytes at a time, ``delay`` seconds apart."""
        return cls("trickle", seconds=delay, chunk_size=chunk_size)

    @classmethod
    def of_kind(cls, kind: FaultKind) -> Fault:
        """The fault of ``kind`` with default parameters (``status`` means a 503; ``stall`` 30 s)."""
        defaults: dict[str, Fault] = {
            "status": cls.status(503),
            "stall": cls.stall(30.0),
            "trickle": cls.trickle(0.001, chunk_size=16),
            "truncated_stream": cls.truncated_stream(),
            "error_event": cls.error_event(),
        }
        return defaults.get(kind) or cls(kind)

    @property
    def stream_only(self) -> bool:
        """True for faults that only make sense inside an event stream."""
        return self.kind in _STREAM_ONLY or (self.kind == "stall" and self.after_events > 0)

    def applies_to(self, *, streaming: bool) -> bool:
        return streaming or not self.stream_only


def mixed_faults(rate: float) -> dict[Fault, float]:
    """Rates for `MockServer.set_fault_rates` that fail ``rate`` of requests, in every recoverable way.

    Rate limits (with ``retry-after-ms`` or ``Retry-After: 0``), 500/502/503 (some as HTML proxy
    pages), connections reset before and after the headers, JSON cut short, and slow trickles.
    Stalls are left out: how long one should be depends on the client's read timeout.
    """
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1, got {rate}.")
    shares = {
        Fault.status(429, retry_after_ms=5): 3,
        Fault.status(429, retry_after=0): 1,
        Fault.status(500, html=True): 1,
        Fault.status(502, html=True): 1,
        Fault.status(503): 1,
        Fault.reset_before_headers(): 1,
        Fault.reset_after_headers(): 1,
        Fault.truncated_json(): 1,
        Fault.trickle(0.0005, chunk_size=4096): 1,
    }
    total = sum(shares.values())
    return {fault: rate * share / total for fault, share in shares.items()}


@dataclass(slots=True, eq=False)
class Injection:
    """A queued fault: it hits the next ``remaining`` requests matching ``path`` and ``method``."""

    fault: Fault
    remaining: int
    path: str | None = None
    method: str | None = None
    applied: int = 0

    def matches(self, method: str, paths: tuple[str, str], *, streaming: bool) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method == method)
            and (self.path is None or self.path in paths)
            and self.fault.applies_to(streaming=streaming)
        )


def _as_fault(key: object) -> Fault:
    if isinstance(key, Fault):
        return key
    if isinstance(key, str) and key in get_args(FaultKind):
        return Fault.of_kind(cast("FaultKind", key))
    raise ValueError(f"A fault rate's key must be a Fault or one of {', '.join(get_args(FaultKind))}; got {key!r}.")


@dataclass(slots=True)
class _Rates:
    table: list[tuple[Fault, float]]
    rng: random.Random
    path: str | None
    method: str | None


@dataclass(slots=True, eq=False)
class FaultPlan:
    """Which request gets which fault: queued injections first, then the random rates."""

    injections: list[Injection] = field(default_factory=list[Injection])
    counts: Counter[FaultKind] = field(default_factory=Counter[FaultKind])
    _rates: _Rates | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, fault: Fault, *, times: int, path: str | None, method: str | None) -> Injection:
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}.")
        injection = Injection(fault, times, path, method.upper() if method else None)
        with self._lock:
            self.injections.append(injection)
        return injection

    def set_rates(
        self,
        rates: Mapping[Any, float],
        *,
        seed: int | None,
        path: str | None,
        method: str | None,
    ) -> None:
        table = [(_as_fault(key), float(rate)) for key, rate in rates.items()]
        if any(not 0.0 <= rate <= 1.0 for _, rate in table) or sum(rate for _, rate in table) > 1.0 + 1e-9:
            raise ValueError("Each fault rate must be within [0, 1] and together they must not exceed 1.")
        with self._lock:
            self._rates = (
                _Rates(table, random.Random(seed), path, method.upper() if method else None) if table else None
            )

    def take(self, method: str, path: str, template: str, *, streaming: bool) -> Fault | None:
        """The fault for this request, if any, counting it. A path filter matches the path or its route template."""
        with self._lock:
            paths = (path, template)
            fault = self._take_injected(method, paths, streaming) or self._draw(method, paths, streaming)
            if fault is not None:
                self.counts[fault.kind] += 1
            return fault

    def _take_injected(self, method: str, paths: tuple[str, str], streaming: bool) -> Fault | None:
        for injection in self.injections:
            if injection.matches(method, paths, streaming=streaming):
                injection.remaining -= 1
                injection.applied += 1
                if injection.remaining == 0:
                    self.injections.remove(injection)
                return injection.fault
        return None

    def _draw(self, method: str, paths: tuple[str, str], streaming: bool) -> Fault | None:
        rates = self._rates
        if rates is None or (rates.path is not None and rates.path not in paths):
            return None
        if rates.method is not None and rates.method != method:
            return None
        point = rates.rng.random()  # drawn for every request, so a seed gives one sequence
        for fault, rate in rates.table:
            if point < rate:
                return fault if fault.applies_to(streaming=streaming) else None
            point -= rate
        return None

    def clear(self) -> None:
        with self._lock:
            self.injections.clear()
            self._rates = None
            self.counts.clear()
