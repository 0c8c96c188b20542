"""What the emulator records about each request, and what a route handler receives.

The response helpers (`json_response`, `telnyx_error`, `validation_error`) live in `_responses`
and are re-exported here, where handlers have always imported them from.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web
from multidict import CIMultiDictProxy

from ._faults import Fault
from ._responses import json_response, telnyx_error, validation_error
from ._state import EmulatorState

__all__ = [
    "Call",
    "Handler",
    "RecordedRequest",
    "json_response",
    "note_disconnect",
    "telnyx_error",
    "validation_error",
]


@dataclass(slots=True, eq=False)
class RecordedRequest:
    """One request as the emulator received it, and how it was answered.

    ``query`` keeps the last value of a repeated parameter; ``query_all`` keeps every value.
    ``headers`` is case-insensitive. ``status`` is None while the response is being
    produced, and stays None for a connection the emulator reset on purpose.
    """

    method: str
    path: str
    query: dict[str, str]
    query_all: dict[str, list[str]]
    headers: CIMultiDictProxy[str]
    body: bytes
    status: int | None = None
    fault: Fault | None = None
    """The fault acted out on this request, if any."""
    disconnected: bool = False
    """True when the client went away before the whole response was sent."""
    request_id: str = ""
    """The ``x-request-id`` the emulator answered with, as the real API sends one."""

    def json(self) -> Any:
        """The body decoded as JSON (raises `msgspec.DecodeError` if it is not JSON)."""
        return msgspec.json.decode(self.body)

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} status={self.status} fault={self.fault}>"


@dataclass(slots=True, eq=False)
class Call:
    """What a route handler gets: the request, its recording, path parameters and the fault to act out.

    ``state`` is the server's shared data (stream shape, stored conversations, counters).
    """

    state: EmulatorState
    request: web.Request
    record: RecordedRequest
    params: dict[str, str]
    fault: Fault | None
    streaming: bool
    _json: Any = field(default=None)

    def json(self) -> Any:
        """The request body as JSON, decoded once (None for an empty body)."""
        if self._json is None and self.record.body:
            self._json = msgspec.json.decode(self.record.body)
        return self._json

    def client_left(self) -> None:
        """Note that the client went away mid-response (the server counts it once)."""
        note_disconnect(self.state, self.record)


def note_disconnect(state: EmulatorState, record: RecordedRequest) -> None:
    """Mark ``record`` as cut short and count it in ``state``, once per request."""
    if not record.disconnected and state.count_disconnect():
        record.disconnected = True


Handler = Callable[[Call], Awaitable[web.StreamResponse]]
"""A route handler: return a `web.Response` (the emulator may then apply a body fault) or a
`web.StreamResponse` it already prepared and wrote (it then handles stream faults itself)."""
