"""A stream's end, told to the event hooks once: the stream holds an `EndWatch` only when hooks are on.

`AsyncStream` calls `EndWatch.report` from the few places a stream ends (its last event, an error, a
close, a cancelled reader, the garbage collector), never per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from typing import Any

from .._hooks import CallInfo, Hooks, StreamEndEvent, StreamOutcome, emit
from .protocol import Accumulator

__all__ = ["EndWatch"]


class EndWatch:
    """Where and when a watched stream's call began, and the hooks to tell of its end."""

    __slots__ = ("call", "first_event", "hooks")

    def __init__(self, hooks: Hooks, call: CallInfo, first_event: float) -> None:
        self.hooks = hooks
        self.call = call
        self.first_event = first_event
        """``time.perf_counter()`` when the stream's first event had arrived."""

    def report(self, outcome: StreamOutcome, error: BaseException | None, accumulator: Accumulator[Any] | None) -> None:
        """Tell the ``stream_end`` hooks, with what the events folded so far add up to."""
        if not self.hooks.stream_end:
            return
        reply: object = None
        if accumulator is not None:
            try:
                reply = accumulator.final()
            except Exception:  # half a tool call's JSON, say: the end is reported all the same
                reply = None
        call = self.call
        elapsed = time.perf_counter() - call.started
        event = StreamEndEvent(call, outcome, error, reply, self.first_event - call.started, elapsed)
        emit(self.hooks.stream_end, event)

    def report_dropped(
        self, finished: bool, accumulator: Accumulator[Any] | None, loop: asyncio.AbstractEventLoop
    ) -> None:
        """The stream was collected: report it on its own loop (hooks run there), now if this is that loop."""
        report = functools.partial(self.report, "completed" if finished else "abandoned", None, accumulator)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            report()
        elif not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile: nobody is left to tell
                loop.call_soon_threadsafe(report)


def outcome_of(error: BaseException | None, finished: bool) -> StreamOutcome:
    """``failed`` with an error, else ``completed`` when the stream reached its end, else ``closed``."""
    if error is not None:
        return "failed"
    return "completed" if finished else "closed"
