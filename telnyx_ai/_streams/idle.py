"""The stream idle limit (`Timeout.stream_idle`): one timer per event loop for all of its open streams.

A timer per stream cost every stream's opening a `TimerHandle`, a push onto the loop's heap and, at its
end, a cancel: work done ahead of every later stream's first chunk when a thousand streams open at once.
Here an opening stream pushes (deadline, number, weak reference) onto the loop's one `IdleWatch`, whose
timer fires for the earliest deadline, fails the streams that waited their whole limit for data, and
gives each of the others the rest of its limit: the same moments as a timer per stream. The entries of
closed streams go when their deadline comes, or all at once when they are most of the heap.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
import weakref
from collections.abc import Callable
from typing import Protocol

__all__ = ["IdleWatch", "Watched", "idle_watch"]


class Watched(Protocol):
    """What the watch asks of a stream (held weakly, so a dropped stream is still collected)."""

    @property
    def closed(self) -> bool: ...

    def _idle_left(self, now: float) -> float | None:
        """Seconds of its limit left at ``now``; None once it failed the stream for waiting too long."""
        ...


_Entry = tuple[float, int, "weakref.ReferenceType[Watched]"]
_COMPACT_AT = 64  # closed streams' entries dropped at once when they are at least this many and most of the heap


class IdleWatch:
    """The idle deadlines of one loop's streams, and the loop's one timer for the earliest."""

    __slots__ = ("_armed_for", "_dead", "_entries", "_handle", "_loop", "_number", "now")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)  # weakly: the loops' table holds the watches
        # asyncio's own clock is time.monotonic behind a method call; another loop's is its own.
        self.now: Callable[[], float] = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        self._entries: list[_Entry] = []
        self._number = 0  # orders equal deadlines (references do not compare)
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for = math.inf
        self._dead = 0  # entries whose stream closed or went away

    def add(self, stream: Watched, limit: float) -> None:
        """Watch ``stream`` from now: it must see data within ``limit`` seconds of each wait's start."""
        if self._dead >= _COMPACT_AT and self._dead * 2 > len(self._entries):
            self._compact()
        self._push(self.now() + limit, weakref.ref(stream))

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self._loop() is loop

    def forget(self) -> None:
        """A watched stream closed (or was dropped): its entry is dead (callable from any thread: a count)."""
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
            stream = ref()
            if stream is None or stream.closed:
                self._dead = max(0, self._dead - 1)
                continue
            left = stream._idle_left(now)  # pyright: ignore[reportPrivateUsage]
            if left is not None:
                self._push(now + left, ref)
        self._armed_for = math.inf
        if entries:
            self._arm(entries[0][0])

    def _compact(self) -> None:
        def alive(entry: _Entry) -> bool:
            stream = entry[2]()
            return stream is not None and not stream.closed

        self._entries = [entry for entry in self._entries if alive(entry)]
        heapq.heapify(self._entries)
        self._dead = 0


_WATCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, IdleWatch] = weakref.WeakKeyDictionary()
_last: list[IdleWatch] = []  # the watch used last: most programs run one loop


def idle_watch(loop: asyncio.AbstractEventLoop) -> IdleWatch:
    """The watch of ``loop`` (made on first use)."""
    if _last and _last[0].serves(loop):
        return _last[0]
    watch = _WATCHES.get(loop)
    if watch is None:
        watch = _WATCHES[loop] = IdleWatch(loop)
    _last[:] = [watch]
    return watch
