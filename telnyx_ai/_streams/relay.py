"""Re-framing a stream as Server-Sent Events for a browser: ``AsyncStream.to_sse``.

Each upstream event goes out framed as its protocol frames it (``data: <its JSON>``, the bytes the API
sent, with an ``event:`` name where the protocol uses them), a ``: ping`` comment fills every
``heartbeat`` seconds of upstream silence, and the relay ends with exactly one terminal frame: the
protocol's end (``data: [DONE]``, or its own last event) after a complete stream, or ``event: error``
when it was cut, timed out or carried an error, so a browser can never take a cut for an end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

import msgspec

from .._errors import APIConnectionError, APIError, APIResponseValidationError, APIStreamError, APITimeoutError
from .deadlines import deadlines

__all__ = ["DEFAULT_HEARTBEAT", "DONE_FRAME", "SSE_RELAY_HEADERS", "ErrorShape", "data_frames", "error_frame", "relay"]

SSE_RELAY_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
)
"""The response headers a relay of `to_sse` needs: an event stream that no cache or proxy (nginx) holds back."""

DEFAULT_HEARTBEAT = 15.0
"""Seconds of upstream silence before a ``: ping`` comment keeps the browser's connection (and proxies) alive."""

DONE_FRAME: Final = b"data: [DONE]\n\n"
PING_FRAME: Final = b": ping\n\n"

# What the browser is told for each way upstream can fail: (type, whether trying again may help).
_ERROR_KINDS: tuple[tuple[type[APIError], str, bool], ...] = (
    (APITimeoutError, "timeout", True),
    (APIConnectionError, "connection_error", True),
    (APIStreamError, "upstream_error", False),
    (APIResponseValidationError, "invalid_response", False),
    (APIError, "api_error", False),
)


ErrorShape = Callable[[str, str, bool], Any]
"""Builds an error frame's JSON from its message, type and whether trying again may help."""


def _telnyx_shape(message: str, kind: str, retryable: bool) -> Any:
    return {"error": {"message": message, "type": kind, "retryable": retryable}}


def error_frame(error: BaseException, shape: ErrorShape = _telnyx_shape, *, upstream_types: bool = False) -> bytes:
    """The ``event: error`` frame for ``error``, by default ``{"error": {"message", "type", "retryable"}}``.

    SDK errors give their message (never the request's URL); anything else is reported as an
    ``internal_error`` without its text, which could hold server-side details. ``shape`` puts the three
    in a protocol's own error format; with ``upstream_types`` an error event from upstream keeps the type
    it named (``overloaded_error``) instead of ``upstream_error``.
    """
    kind = next(((name, retryable) for cls, name, retryable in _ERROR_KINDS if isinstance(error, cls)), None)
    if kind is not None and isinstance(error, APIError):
        named = error.error_type if upstream_types and isinstance(error, APIStreamError) else None
        name = named or kind[0]
        body = shape(error.message, name, kind[1])
    else:
        body = shape("The relay failed.", "internal_error", False)
    return b"event: error\ndata: " + msgspec.json.encode(body) + b"\n\n"


def data_frames(payloads: list[bytes]) -> bytes:
    """``data:`` frames for a batch of JSON payloads, built in one pass."""
    if len(payloads) == 1 and payloads[0].find(b"\n") < 0:  # a paced stream's usual batch
        return b"data: " + payloads[0] + b"\n\n"
    joined = b"\n".join(payloads)
    if joined.count(b"\n") != len(payloads) - 1:
        # A payload spread over several data: lines came in with newlines; in JSON they are only whitespace.
        joined = b"\n".join(payload.replace(b"\n", b" ") for payload in payloads)
    return b"data: " + joined.replace(b"\n", b"\n\ndata: ") + b"\n\n"


class _Heartbeat:
    """The relay's pings, on the loop's one timer for streams' deadlines (`deadlines.py`), instead of a
    timeout armed and cancelled around every read, or a timer of its own.

    `start` marks the start of a wait for upstream and sets a deadline only when none is pending; at the
    deadline, if the current wait began later (data came in meanwhile), it asks again for the rest of the
    period, and otherwise cancels the waiting task so the relay can send a ping. `stop` tells that cancel
    apart from anyone else's (``Task.uncancel``), so a real cancellation of the consumer (a client gone,
    ``task.cancel()``) still propagates.
    """

    __slots__ = (
        "__weakref__",
        "_armed",
        "_cancelling",
        "_deadlines",
        "_fired",
        "_now",
        "_period",
        "_since",
        "_task",
        "_waiting",
    )

    def __init__(self, period: float) -> None:
        self._deadlines = deadlines(asyncio.get_running_loop())
        self._now = self._deadlines.now  # asyncio's clock, read once per read
        self._period = period
        self._armed = False  # a deadline is pending
        self._task: asyncio.Task[Any] | None = None
        self._cancelling = 0  # the task's cancel requests before this wait: not ours to take back
        self._since = 0.0  # when the current wait began
        self._waiting = False
        self._fired = False  # the deadline cancelled the waiting task

    def start(self) -> None:
        """A wait for upstream begins (in the task that runs the relay now)."""
        task = self._task = asyncio.current_task()
        assert task is not None
        self._cancelling = task.cancelling()
        self._since = self._now()
        self._waiting = True
        if not self._armed:
            self._armed = True
            self._deadlines.add(self, self._since + self._period)

    def stop(self) -> bool:
        """The wait is over; True when the deadline alone cancelled it (a ping is due, nothing else asked)."""
        self._waiting = False
        if not self._fired:
            return False
        self._fired = False
        assert self._task is not None
        return self._task.uncancel() <= self._cancelling

    def _deadline_alive(self) -> bool:
        return self._armed

    def _deadline_due(self, now: float) -> float | None:
        if not self._waiting or self._task is None:
            self._armed = False
            return None  # the relay is busy with its consumer: the next wait sets a deadline again
        due = self._since + self._period
        if now < due:  # upstream sent data since the deadline was set: the silence began later
            return due - now
        self._armed = False
        self._fired = True
        self._task.cancel()
        return None

    def end(self) -> None:
        if self._armed:
            self._armed = False
            self._deadlines.forget()


async def relay(
    next_batch: Callable[[], Awaitable[Any]],
    close: Callable[[], Awaitable[None]],
    heartbeat: float | None,
    *,
    frames: Callable[[Any], bytes] | None = None,
    end: Callable[[], bytes] = lambda: DONE_FRAME,
    failed: Callable[[BaseException], bytes] = error_frame,
) -> AsyncGenerator[bytes, None]:
    """The SSE bytes for a stream read with ``next_batch`` (one batch of events, None at the end), each batch
    framed by ``frames`` (without it, a batch is its frames already).

    ``end()`` is the frame after a complete stream (empty: none), ``failed`` the frame for an error. However the generator
    ends (finished, failed, closed or cancelled by a framework whose client went away), ``close`` drops
    the upstream connection before it returns.
    """
    beat = _Heartbeat(heartbeat) if heartbeat else None
    try:
        while True:
            pause = False
            try:
                if beat is None:
                    batch = await next_batch()
                else:
                    # Cancelling a read that waits for data loses nothing: the stream resumes where it was.
                    beat.start()
                    try:
                        batch = await next_batch()
                    finally:
                        pause = beat.stop()
            except asyncio.CancelledError:
                if not pause:
                    raise
                yield PING_FRAME
                continue
            except APIError as exc:
                yield failed(exc)
                return
            except Exception as exc:
                yield failed(exc)
                raise
            if batch is None:
                last = end()
                if last:
                    yield last
                return
            yield batch if frames is None else frames(batch)
            del batch  # not held while the next read waits (a young collection visits all that is held)
    finally:
        if beat is not None:
            beat.end()
        await close()
