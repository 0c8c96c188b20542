"""`FaultPlan`: which request gets which fault, from the queued injections and the random rates.

It is locked because tests call it from another thread when the server runs in a background thread.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._faults import Fault, Injection, fault_kinds

__all__ = ["FaultPlan"]


def _as_fault(key: object) -> Fault:
    if isinstance(key, Fault):
        return key
    if isinstance(key, str) and key in fault_kinds():
        return Fault.of_kind(key)
    raise ValueError(f"A fault rate's key must be a Fault or one of {', '.join(fault_kinds())}; got {key!r}.")


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
    counts: Counter[str] = field(default_factory=Counter[str])
    """How many requests got each kind of fault, by kind name."""
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
