"""Deadlines of streams (`Timeout.stream_idle`, a relay's heartbeat): one timer per event loop for all of them.

A timer per stream cost every stream's opening a `TimerHandle`, a push onto the loop's heap and, at its
end, a cancel: work done ahead of every later stream's first chunk when a thousand streams open at once.
Here a stream pushes (deadline, number, weak reference) onto its loop's `Deadlines`, whose one timer
fires for the earliest deadline and asks each stream that is due what to do (fail a read, send a ping)
and when to ask again: the same moments as a timer per stream. The entries of streams that are done
go when their deadline comes, or all at once when they are most of the heap.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
import weakref
from collections.abc import Callable
from typing import Protocol

__all__ = ["Deadlines", "Watched", "deadlines"]


class Watched(Protocol):
    """What the deadlines ask of what they watch (held weakly, so a dropped stream is still collected)."""

    def _deadline_due(self, now: float) -> float | None:
        """Its deadline came (at ``now``): do what is due; the seconds until the next one, or None for none."""
        ...

    def _deadline_alive(self) -> bool:
        """False once it is done (its entry dead: it called `Deadlines.forget`)."""
        ...


_Entry = tuple[float, int, "weakref.ReferenceType[Watched]"]
_COMPACT_AT = 64  # dead entries dropped at once when they are at least this many and most of the heap


class Deadlines:
    """The deadlines of one loop's streams, and the loop's one timer for the earliest."""

    __slots__ = ("_armed_for", "_dead", "_entries", "_handle", "_loop", "_number", "now")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)  # weakly: the loops' table holds their deadlines
        # asyncio's own clock is time.monotonic behind a method call; another loop's is its own.
        self.now: Callable[[], float] = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        self._entries: list[_Entry] = []
        self._number = 0  # orders equal deadlines (references do not compare)
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for = math.inf
        self._dead = 0  # entries of what is done (or gone)

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self._loop() is loop

    def add(self, watched: Watched, deadline: float) -> None:
        """Ask ``watched`` at ``deadline`` (on the `now` clock) what is due."""
        if self._dead >= _COMPACT_AT and self._dead * 2 > len(self._entries):
            self._compact()
        self._push(deadline, weakref.ref(watched))

    def forget(self) -> None:
        """One watched is done, its entry dead (callable from any thread: only a count)."""
        self._dead += 1

    def _push(self, deadline: float, ref: weakref.ReferenceType[Watched]) -> None:
        self._number += 1
        heapq.heappush(self._entries, (deadline, self._number, ref))
        if deadline < self._armed_for:
            self._arm(deadline)

    def _arm(self, deadline: float) -> None:
        loop = self._loop()
        if loop is None or loop.is_closed():
            return
        if self._handle is not None:
            self._handle.cancel()
        self._armed_for = deadline
        self._handle = loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._armed_for = -math.inf  # no arming while the due entries go back in: once, for the earliest, below
        entries = self._entries
        now = self.now()
        due: list[weakref.ReferenceType[Watched]] = []
        while entries and entries[0][0] <= now:
            due.append(heapq.heappop(entries)[2])
        for ref in due:
            watched = ref()
            if watched is None or not watched._deadline_alive():  # pyright: ignore[reportPrivateUsage]
                self._dead = max(0, self._dead - 1)
                continue
            left = watched._deadline_due(now)  # pyright: ignore[reportPrivateUsage]
            if left is not None:
                self._push(now + left, ref)
        self._armed_for = math.inf
        if entries:
            self._arm(entries[0][0])

    def _compact(self) -> None:
        def alive(entry: _Entry) -> bool:
            watched = entry[2]()
            return watched is not None and watched._deadline_alive()  # pyright: ignore[reportPrivateUsage]

        self._entries = [entry for entry in self._entries if alive(entry)]
        heapq.heapify(self._entries)
        self._dead = 0


_LOOPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Deadlines] = weakref.WeakKeyDictionary()
_last: list[Deadlines] = []  # the loop used last: most programs run one


def deadlines(loop: asyncio.AbstractEventLoop) -> Deadlines:
    """The deadlines of ``loop`` (made on first use)."""
    if _last and _last[0].serves(loop):
        return _last[0]
    found = _LOOPS.get(loop)
    if found is None:
        found = _LOOPS[loop] = Deadlines(loop)
    _last[:] = [found]
    return found
