"""Re-framing a stream as Server-Sent Events for a browser: ``AsyncStream.to_sse``.

Each upstream chunk goes out as ``data: <its JSON>`` (the bytes the API sent), a ``: ping``
comment fills every ``heartbeat`` seconds of upstream silence, and the relay ends with exactly
one terminal frame: ``data: [DONE]`` after a complete stream, or ``event: error`` when it was cut,
timed out or carried an error, so a browser can never take a cut for an end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Final

import msgspec

from .._errors import APIConnectionError, APIError, APIResponseValidationError, APIStreamError, APITimeoutError

__all__ = ["DEFAULT_HEARTBEAT", "SSE_RELAY_HEADERS", "error_frame", "relay"]

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


def error_frame(error: BaseException) -> bytes:
    """The ``event: error`` frame for ``error``: ``{"error": {"message", "type", "retryable"}}``.

    SDK errors give their message (never the request's URL); anything else is reported as an
    ``internal_error`` without its text, which could hold server-side details.
    """
    kind = next(((name, retryable) for cls, name, retryable in _ERROR_KINDS if isinstance(error, cls)), None)
    if kind is not None and isinstance(error, APIError):
        body = {"message": error.message, "type": kind[0], "retryable": kind[1]}
    else:
        body = {"message": "The relay failed.", "type": "internal_error", "retryable": False}
    return b"event: error\ndata: " + msgspec.json.encode({"error": body}) + b"\n\n"


def _frames(payloads: list[bytes]) -> bytes:
    """``data:`` frames for a batch of JSON payloads, built in one pass."""
    joined = b"\n".join(payloads)
    if joined.count(b"\n") != len(payloads) - 1:
        # A payload spread over several data: lines came in with newlines; in JSON they are only whitespace.
        joined = b"\n".join(payload.replace(b"\n", b" ") for payload in payloads)
    return b"data: " + joined.replace(b"\n", b"\n\ndata: ") + b"\n\n"


async def relay(
    next_payloads: Callable[[], Awaitable[list[bytes] | None]],
    close: Callable[[], Awaitable[None]],
    heartbeat: float | None,
) -> AsyncGenerator[bytes, None]:
    """The SSE bytes for a stream read with ``next_payloads`` (one frame group per batch of chunks).

    However the generator ends (finished, failed, closed or cancelled by a framework whose client
    went away), ``close`` drops the upstream connection before it returns.
    """
    try:
        while True:
            silence = asyncio.timeout(heartbeat) if heartbeat else None
            try:
                if silence is None:
                    payloads = await next_payloads()
                else:
                    # Cancelling a read that waits for data loses nothing: the stream resumes where it was.
                    async with silence:
                        payloads = await next_payloads()
            except APIError as exc:
                yield error_frame(exc)
                return
            except Exception as exc:
                if isinstance(exc, TimeoutError) and silence is not None and silence.expired():
                    yield PING_FRAME
                    continue
                yield error_frame(exc)
                raise
            if payloads is None:
                yield DONE_FRAME
                return
            yield _frames(payloads)
    finally:
        await close()
