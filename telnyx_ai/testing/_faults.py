"""Faults the emulator can inject: one class per kind, and each class acts out its own failure.

`Fault` is the base, an immutable value with hooks that the server calls at three points: before
the route handler, on a finished body, and on each stream event. A kind overrides only the
hooks it needs, so a new kind is one subclass here and nothing in the server or the stream
writer. Build the built-in kinds with `Fault`'s class methods, e.g. ``Fault.status(429)``.
"""

from __future__ import annotations

import asyncio
import html
import http
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from aiohttp import web

from ._responses import EventStream, abort_connection, response_body, start_body, telnyx_error, write_slowly

__all__ = [
    "CutInToolCall",
    "ErrorEvent",
    "ErrorStatus",
    "Fault",
    "FaultKind",
    "Injection",
    "ResetAfterHeaders",
    "ResetBeforeHeaders",
    "Stall",
    "Trickle",
    "TruncatedJson",
    "TruncatedStream",
    "fault_kinds",
    "mixed_faults",
]

FaultKind = Literal[
    "status",
    "reset_before_headers",
    "reset_after_headers",
    "truncated_json",
    "truncated_stream",
    "error_event",
    "stall",
    "trickle",
    "cut_in_tool_call",
]
"""The names of the built-in kinds, for type checkers (a test keeps it in step with the classes below)."""

_KINDS: dict[str, type[Fault]] = {}  # kind name -> its class, filled as the classes are defined


def fault_kinds() -> list[str]:
    """The name of every fault kind defined so far (the built-in ones first)."""
    return list(_KINDS)


@dataclass(frozen=True)
class Fault:
    """One way for a response to go wrong. Build it with the class methods, e.g. ``Fault.status(429)``.

    Each kind is a frozen dataclass subclass that sets ``kind`` and overrides the hooks it needs;
    defining the class is enough to inject it, and makes its name known to `of_kind` and
    `MockServer.set_fault_rates`.
    """

    kind: ClassVar[str]
    """The kind's name, as counted in `MockServer.fault_counts`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register a subclass that names its own ``kind`` (each name belongs to one class)."""
        super().__init_subclass__(**kwargs)
        kind: object = cls.__dict__.get("kind")
        if kind is None:
            return
        if not isinstance(kind, str) or kind in _KINDS:
            raise TypeError(f"{cls.__qualname__}.kind must be a new name, not {kind!r}.")
        _KINDS[kind] = cls

    def __post_init__(self) -> None:
        if not isinstance(getattr(self, "kind", None), str):
            raise TypeError(f"{type(self).__qualname__} has no kind: build faults with Fault's class methods.")

    # -- what the server asks of every fault -------------------------------------------------

    @property
    def stream_only(self) -> bool:
        """True for faults that only make sense inside an event stream (they wait for a streaming request)."""
        return False

    def applies_to(self, *, streaming: bool) -> bool:
        """Whether this fault can be acted out on a request that is (or is not) streaming."""
        return streaming or not self.stream_only

    async def before_handler(self, request: web.Request) -> web.StreamResponse | None:
        """Before the route handler runs: a response to send instead of its answer, or None to let it answer.

        The hook may also wait first, or cut the connection (the response it returns then never goes out).
        """
        return None

    async def on_body(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        """The handler's whole, not yet sent ``response`` (not a stream): return what to send instead.

        The request is recorded with the handler's status, whatever the hook then sends.
        """
        return response

    async def on_stream_start(self, stream: EventStream) -> None:
        """An event stream's headers are sent; no event is yet."""

    async def on_event(self, stream: EventStream, number: int, data: bytes) -> bytes | None:
        """Before event ``number`` is sent (``data`` is its JSON, ``[DONE]`` last): what to send, or None to stop.

        A hook that stops the stream may first write something of its own on ``stream``.
        """
        return data

    # -- building faults -------------------------------------------------------------------

    @classmethod
    def with_defaults(cls) -> Self:
        """This kind with default parameters, as `of_kind` gives it (kinds with required ones override this)."""
        return cls()

    @classmethod
    def of_kind(cls, kind: str) -> Fault:
        """The fault of ``kind`` with default parameters (``status`` means a 503; ``stall`` 30 s)."""
        kind_class = _KINDS.get(kind)
        if kind_class is None:
            raise ValueError(f"Unknown fault kind {kind!r}; expected one of {', '.join(_KINDS)}.")
        return kind_class.with_defaults()

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
        return ErrorStatus(code, retry_after=retry_after, retry_after_ms=retry_after_ms, html=html)

    @classmethod
    def reset_before_headers(cls) -> Fault:
        """Abort the TCP connection (RST) before any byte of the response.

        Note: aiohttp itself resends an idempotent request (GET, PUT, DELETE) once when a reused
        keep-alive connection drops like this, so a GET may reach the server twice for one call.
        Use a POST endpoint when counting attempts.
        """
        return ResetBeforeHeaders()

    @classmethod
    def reset_after_headers(cls) -> Fault:
        """Send the headers and part of the body, then abort the connection."""
        return ResetAfterHeaders()

    @classmethod
    def truncated_json(cls) -> Fault:
        """A 200 whose JSON is cut in half (with a matching Content-Length, so only the JSON is broken).

        On a stream, the first content event carries the cut JSON.
        """
        return TruncatedJson()

    @classmethod
    def truncated_stream(cls, after_events: int = 3) -> Fault:
        """End a stream cleanly after ``after_events`` events, without ``[DONE]`` (streams only)."""
        return TruncatedStream(after_events)

    @classmethod
    def error_event(cls, after_events: int = 2, *, error_type: str | None = None) -> Fault:
        """After ``after_events`` events, send ``event: error`` with a JSON error body and end (streams only).

        The body is the stream's protocol's own: a Telnyx error (chat), ``{"type": "error", "error": {...}}``
        (Anthropic), ``{"type": "error", "code", "message"}`` (Responses); ``error_type`` is the kind of
        error it names, such as Anthropic's ``"overloaded_error"``.
        """
        return ErrorEvent(after_events, error_type)

    @classmethod
    def stall(cls, seconds: float, *, after_events: int = 0) -> Fault:
        """Send nothing for ``seconds`` (longer than the client's read timeout), then answer normally.

        With ``after_events`` on a stream, the pause comes after that many events instead.
        """
        return Stall(seconds, after_events)

    @classmethod
    def trickle(cls, delay: float, *, chunk_size: int = 1) -> Fault:
        """Send the body ``chunk_size`` bytes at a time, ``delay`` seconds apart."""
        return Trickle(delay, chunk_size)

    @classmethod
    def cut_in_tool_call(cls, after_fragments: int = 2) -> Fault:
        """Drop the connection after ``after_fragments`` tool-call fragments, before the next one (streams only).

        Fragments are chat ``tool_calls`` deltas, Anthropic ``input_json_delta`` events or Responses
        ``function_call_arguments.delta`` events. A stream with no more fragments than that is cut before
        its last event (``[DONE]``) instead.
        """
        return CutInToolCall(after_fragments)


def _check(fault: Fault, valid: bool) -> None:
    if not valid:
        raise ValueError(f"Invalid fault parameters: {fault!r}.")


# -- the built-in kinds, in the order of FaultKind ------------------------------------------------


@dataclass(frozen=True)
class ErrorStatus(Fault):
    """An HTTP error status with a Telnyx error body, or a proxy's HTML page (`Fault.status`)."""

    kind = "status"
    status_code: int
    retry_after: float | str | None = None
    retry_after_ms: float | None = None
    html: bool = False

    def __post_init__(self) -> None:
        if not 400 <= self.status_code <= 599:
            raise ValueError(f"A status fault needs a 4xx or 5xx code, got {self.status_code}.")

    @classmethod
    def with_defaults(cls) -> Self:
        return cls(503)

    async def before_handler(self, request: web.Request) -> web.StreamResponse:
        code = self.status_code
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = str(self.retry_after_ms)
        if not self.html:
            return telnyx_error(code, f"The emulator injected a {code} response.", headers=headers)
        title = html.escape(f"{code} {http.HTTPStatus(code).phrase}")
        page = (
            f"<html><head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
        return web.Response(text=page, status=code, headers=headers, content_type="text/html")


@dataclass(frozen=True)
class ResetBeforeHeaders(Fault):
    """The connection is reset (RST) before any byte of the response (`Fault.reset_before_headers`)."""

    kind = "reset_before_headers"

    async def before_handler(self, request: web.Request) -> web.StreamResponse:
        abort_connection(request, rst=True)
        return web.Response()  # never sent: the connection is gone


@dataclass(frozen=True)
class ResetAfterHeaders(Fault):
    """The headers and part of the body, then the connection closes (`Fault.reset_after_headers`)."""

    kind = "reset_after_headers"

    async def on_body(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        body = response_body(response)
        out = await start_body(request, response)
        await out.write(body[: max(1, len(body) // 2)])
        abort_connection(request, rst=False)
        return out

    async def on_event(self, stream: EventStream, number: int, data: bytes) -> bytes | None:
        await stream.response.write(stream.frame(data, number)[:7])  # a few bytes of the first event
        stream.drop()
        return None


@dataclass(frozen=True)
class TruncatedJson(Fault):
    """A body (or the first content event of a stream) whose JSON is cut in half (`Fault.truncated_json`)."""

    kind = "truncated_json"

    async def on_body(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        body = response_body(response)
        return web.Response(body=body[: len(body) // 2], status=response.status, content_type=response.content_type)

    async def on_event(self, stream: EventStream, number: int, data: bytes) -> bytes | None:
        if number != min(1, stream.count - 2):  # event 0 is the role, 1 the first content (if any)
            return data
        await stream.send(number, data[: len(data) // 2])
        return None


@dataclass(frozen=True)
class TruncatedStream(Fault):
    """A stream that ends cleanly after ``after_events`` events, with no ``[DONE]`` (`Fault.truncated_stream`)."""

    kind = "truncated_stream"
    after_events: int = 3

    def __post_init__(self) -> None:
        _check(self, self.after_events >= 0)

    @property
    def stream_only(self) -> bool:
        return True

    async def on_event(self, stream: EventStream, number: int, data: bytes) -> bytes | None:
        return None if number == min(self.after_events, stream.count - 1) else data


@dataclass(frozen=True)
class ErrorEvent(Fault):
    """After ``after_events`` events, an ``event: error`` with a Telnyx error body, then the end (`Fault.error_event`)."""

    kind = "error_event"
    after_events: int = 2
    error_type: str | None = None

    def __post_init__(self) -> None:
        _check(self, self.after_events >= 0)

    @property
    def stream_only(self) -> bool:
        return True

    async def on_event(self, stream: EventStream, number: int, data: bytes) -> bytes | None:
        if number != min(self.after_events, stream.count - 1):
            return data
        payload, name = stream.error_payload(number, self.error_type)
        await stream.write(stream.frame(payload, number, event=name))
        return None


@dataclass(frozen=True)
class Stall(Fault):
    """Silence for ``seconds``: before the answer, or after ``after_events`` events of a stream (`Fault.stall`)."""

    kind = "stall"
    seconds: float
    after_events: int = 0

    def __post_init__(self) -> None:
        _check(self, self.seconds >= 0 and self.after_events >= 0)

    @classmethod
    def with_defaults(cls) -> Self:
        return cls(30.0)

    @property
    def stream_only(self) -> bool:
        return self.after_events > 0

    async def before_handler(self, request: web.Request) -> web.StreamResponse | None:
        if not self.after_events:
            await asyncio.sleep(self.seconds)
        return None

    async def on_event(self, stream: EventStream, number: int, data: bytes) -> bytes | None:
        if self.after_events and number == self.after_events:
            await asyncio.sleep(self.seconds)
        return data


@dataclass(frozen=True)
class Trickle(Fault):
    """The whole answer, ``chunk_size`` bytes at a time, ``seconds`` apart (`Fault.trickle`)."""

    kind = "trickle"
    seconds: float
    chunk_size: int = 1

    def __post_init__(self) -> None:
        _check(self, self.seconds >= 0 and self.chunk_size >= 1)

    @classmethod
    def with_defaults(cls) -> Self:
        return cls(0.001, chunk_size=16)

    async def on_body(self, request: web.Request, response: web.Response) -> web.StreamResponse:
        out = await start_body(request, response)
        await write_slowly(out, response_body(response), self.chunk_size, self.seconds)
        return out

    async def on_stream_start(self, stream: EventStream) -> None:
        stream.write_size, stream.write_delay = self.chunk_size, self.seconds


@dataclass(frozen=True)
class CutInToolCall(Fault):
    """A stream cut between two tool-call fragments, after ``after_fragments`` of them (`Fault.cut_in_tool_call`)."""

    kind = "cut_in_tool_call"
    after_fragments: int = 2

    def __post_init__(self) -> None:
        _check(self, self.after_fragments >= 1)

    @property
    def stream_only(self) -> bool:
        return True

    async def on_event(self, stream: EventStream, number: int, data: bytes) -> bytes | None:
        last = number == stream.count - 1
        if not last and stream.fragment_marker not in data:
            return data
        sent = stream.seen.get(self.kind, 0)
        if not last and sent < self.after_fragments:
            stream.seen[self.kind] = sent + 1
            return data
        stream.drop()
        return None


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
