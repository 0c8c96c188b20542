"""The bytes the emulator sends: JSON and Telnyx error responses, event-stream frames, slow writes, cut connections.

The lowest layer of the emulator: route handlers and faults both build their answers from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec
from aiohttp import web

from ._state import StreamConfig

__all__ = [
    "DONE",
    "EventStream",
    "abort_connection",
    "json_response",
    "response_body",
    "start_body",
    "telnyx_error",
    "validation_error",
    "write_slowly",
]

DONE = b"[DONE]"
_FRAGMENT_MARKERS = {
    "anthropic": b'"input_json_delta"',
    "responses": b'"response.function_call_arguments.delta"',
}

_encoder = msgspec.json.Encoder()


def json_response(data: object, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response encoded with msgspec."""
    return web.Response(body=_encoder.encode(data), status=status, headers=headers, content_type="application/json")


def telnyx_error(
    status: int, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """An error in Telnyx's shape: ``{"errors": [{"code", "title", "detail"}]}``."""
    codes = {401: "10009", 404: "10005", 405: "10005", 429: "10011"}
    titles = {401: "Authentication failed", 404: "Resource not found", 429: "Too many requests"}
    title = titles.get(status) or http.HTTPStatus(status).phrase
    body = {"errors": [{"code": code or codes.get(status, "10007"), "title": title, "detail": detail}]}
    return json_response(body, status=status, headers=headers)


def validation_error(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> web.Response:
    """A 422 in the spec's HTTPValidationError shape: ``{"detail": [{"loc", "msg", "type"}]}``."""
    return json_response({"detail": [{"loc": list(loc), "msg": msg, "type": kind}]}, status=422)


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


async def start_body(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send ``response``'s status and headers (with its full Content-Length), so its body can be written by hand."""
    out = web.StreamResponse(status=response.status)
    out.content_type = response.content_type
    out.content_length = len(response_body(response))
    await out.prepare(request)
    return out


def response_body(response: web.Response) -> bytes:
    """The body of a response built in memory (``b""`` when it has none)."""
    body = response.body
    return body if isinstance(body, bytes) else b""


@dataclass(slots=True, eq=False)
class EventStream:
    """A Server-Sent Events response being written, as stream faults see it.

    ``count`` is the number of events to send, the last one (``[DONE]``, or the protocol's own last
    event) included. ``write_size`` and ``write_delay`` split every write (from `StreamConfig`, unless a
    fault changes them). ``names`` are the events' SSE names (None: data-only events); ``protocol`` is
    the wire protocol (``chat``, ``responses``, ``anthropic``, ``assistant_chat``), which says how an
    injected error event looks and which events are tool-call fragments.
    """

    request: web.Request
    response: web.StreamResponse
    config: StreamConfig
    count: int
    write_size: int | None
    write_delay: float
    seen: dict[str, int] = field(default_factory=dict[str, int])
    """Counters a fault keeps about this stream (faults themselves are immutable and shared)."""
    names: Sequence[str | None] | None = None
    protocol: str = "chat"

    @property
    def fragment_marker(self) -> bytes:
        """Bytes found only in the data of this protocol's tool-call fragments."""
        return _FRAGMENT_MARKERS.get(self.protocol, b'"tool_calls"')

    def error_payload(self, number: int, error_type: str | None) -> tuple[bytes, str]:
        """The data and name of an error event in this protocol (``error_type`` as the error's kind)."""
        message = "The emulator injected an error event."
        body: object
        if self.protocol == "anthropic":
            body = {"type": "error", "error": {"type": error_type or "api_error", "message": message}}
        elif self.protocol == "responses":
            code = error_type or "server_error"
            body = {"type": "error", "code": code, "message": message, "param": None, "sequence_number": number}
        else:
            body = {"errors": [{"code": error_type or "10007", "title": "Unexpected error", "detail": message}]}
        return _encoder.encode(body), "error"

    def frame(self, data: bytes, number: int, *, event: str | None = None) -> bytes:
        """Event ``number`` carrying ``data``, framed as `config` says (line endings, ids, comments...)."""
        config = self.config
        eol = config.line_ending.encode()
        lines: list[bytes] = []
        if config.comments:
            lines.append(b": ping")
        if config.event_ids:
            lines.append(b"id: %d" % number)
        if event is None and self.names is not None and number < len(self.names):
            event = self.names[number]
        if event is not None:
            lines.append(b"event: " + event.encode())
        if config.multiline_data and data != DONE:
            with contextlib.suppress(msgspec.DecodeError):  # a payload broken on purpose goes out as it is
                data = msgspec.json.format(data, indent=2)
        lines.extend(b"data: " + line for line in data.split(b"\n"))
        return eol.join(lines) + eol + eol

    async def write(self, raw: bytes) -> None:
        """Write bytes as they are, split into ``write_size`` pieces."""
        await write_slowly(self.response, raw, self.write_size, self.write_delay)

    async def send(self, number: int, data: bytes) -> None:
        """Send event ``number``: after `StreamConfig.delay` (from the second event on), framed and written."""
        if number and self.config.delay:
            await asyncio.sleep(self.config.delay)
        await self.write(self.frame(data, number))

    def drop(self) -> None:
        """Close the connection mid-stream (a FIN, not a reset)."""
        abort_connection(self.request, rst=False)
