"""Writing Server-Sent Events, shaped by `StreamConfig` and broken on purpose by stream faults."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

import msgspec
from aiohttp import web

from ._records import Call
from ._state import StreamConfig

__all__ = ["DONE", "abort_connection", "send_events", "write_slowly"]

DONE = b"[DONE]"
_ERROR_EVENT = msgspec.json.encode(
    {"errors": [{"code": "10007", "title": "Unexpected error", "detail": "The emulator injected an error event."}]}
)


def _frame(data: bytes, number: int, config: StreamConfig, *, event: str | None = None) -> bytes:
    eol = config.line_ending.encode()
    lines: list[bytes] = []
    if config.comments:
        lines.append(b": ping")
    if config.event_ids:
        lines.append(b"id: %d" % number)
    if event is not None:
        lines.append(b"event: " + event.encode())
    if config.multiline_data and data != DONE:
        with contextlib.suppress(msgspec.DecodeError):  # a payload broken on purpose goes out as it is
            data = msgspec.json.format(data, indent=2)
    lines.extend(b"data: " + line for line in data.split(b"\n"))
    return eol.join(lines) + eol + eol


async def write_slowly(response: web.StreamResponse, data: bytes, size: int | None, delay: float) -> None:
    """Write ``data`` in pieces of ``size`` bytes, ``delay`` seconds apart (all at once when ``size`` is None)."""
    if size is None or size >= len(data):
        await response.write(data)
        return
    for start in range(0, len(data), size):
        await response.write(data[start : start + size])
        await asyncio.sleep(delay)  # even 0 lets the client read each piece on its own


def abort_connection(request: web.Request, *, rst: bool) -> None:
    """Drop the connection at once; with ``rst`` the peer gets a TCP reset instead of a FIN."""
    transport = request.transport
    if transport is None:
        return
    if rst:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def send_events(call: Call, payloads: list[bytes], config: StreamConfig) -> web.StreamResponse:
    """Stream ``payloads`` (JSON bytes) as SSE, then ``[DONE]``, acting out the call's fault if any.

    A client that goes away mid-stream is counted in the call's state, and the handler ends quietly.
    """
    fault = call.fault
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    events = [*payloads, DONE]
    size, pause = config.write_size, config.write_delay
    if fault is not None and fault.kind == "trickle":
        size, pause = fault.chunk_size, fault.seconds
    cut = None
    if fault is not None and fault.kind in ("truncated_stream", "error_event"):
        cut = min(fault.after_events, len(events) - 1)
    try:
        await response.prepare(request=call.request)
        if config.bom:
            await response.write(b"\xef\xbb\xbf")
        for number, data in enumerate(events):
            if fault is not None:
                if fault.kind == "reset_after_headers":
                    await response.write(_frame(data, number, config)[:7])
                    abort_connection(call.request, rst=False)
                    return response
                if fault.kind == "stall" and number == fault.after_events and number:
                    await asyncio.sleep(fault.seconds)
                if number == cut:
                    if fault.kind == "error_event":
                        await write_slowly(response, _frame(_ERROR_EVENT, number, config, event="error"), size, pause)
                    return response
                if fault.kind == "truncated_json" and number == min(1, len(payloads) - 1):
                    data = data[: len(data) // 2]
            if number and config.delay:
                await asyncio.sleep(config.delay)
            await write_slowly(response, _frame(data, number, config), size, pause)
            if fault is not None and fault.kind == "truncated_json" and number == min(1, len(payloads) - 1):
                return response
    except ConnectionError:
        call.client_left()
    return response
