"""What a wire protocol tells a stream: how its events decode, where it ends, what its events add up to,
and how a relay frames them.

`AsyncStream` reads, decodes, ends, relays and assembles through this interface alone: each protocol is
one module beside this one (`chat`, `responses`, `anthropic`, `assistant_chat`) defining a
`StreamProtocol` subclass, its `Accumulator`, and its instance as ``PROTOCOL``; the generator passes that
instance to `open_stream` (``protocol = "<module>"`` in operations.toml's ``[streaming]`` table). A new
protocol works with that alone (``text_stream``, ``get_final()``, ``to_sse()``); the stream classes only
name each protocol to offer its final reply under a typed name (``get_final_message()``...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

import msgspec

from .relay import DONE_FRAME, data_frames, error_frame

__all__ = ["Accumulator", "JsonEvents", "StreamProtocol", "TaggedEvents", "error_type_of"]

T = TypeVar("T")


class Accumulator(ABC, Generic[T]):
    """One stream's events folded as they pass, so the final object is ready when the stream ends.

    `add` sees every event handed out, in order. ``ended`` is set once the protocol's last event was
    folded (a stream whose protocol ends with an event, not a ``[DONE]`` payload); ``failed`` once an
    in-band error event was reached (the stream raises it after the events before it).
    """

    __slots__ = ("ended", "failed")

    def __init__(self) -> None:
        self.ended = False
        self.failed = False

    def add(self, items: list[T]) -> int | None:
        """Fold ``items`` in. None when every one is to be handed out; else how many are: those before
        an error event (``failed``), or up to and including the last event (``ended``)."""
        return None

    def texts(self, items: list[T]) -> list[str]:
        """The non-empty text deltas in ``items``, in order (what ``text_stream`` yields)."""
        return []

    @abstractmethod
    def final(self) -> object:
        """The whole reply the events folded so far make."""

    @abstractmethod
    def final_text(self) -> str:
        """The reply's text (``""`` if it had none)."""


class StreamProtocol(Generic[T]):
    """How a stream of one wire protocol reads. The defaults describe OpenAI-style data-only JSON events
    ending in ``data: [DONE]``, with ``event: error`` for a failure."""

    name: str = "JSON events"
    end: str = "[DONE] event"
    """What a whole stream ends with, for the error when a connection closes before it."""
    done: bytes | None = b"[DONE]"
    """A data payload that ends the stream (None: the protocol ends with an event, see `Accumulator.ended`)."""
    names_in_data = False
    """True when an event's name only repeats its data's ``type``: the SSE decoder may drop it."""
    frequent_names: tuple[bytes, ...] = ()
    """The names of most events (text deltas), which the SSE decoder drops first, the cheapest way."""
    end_markers: tuple[bytes, ...] = ()
    """Bytes found only in the data of the protocol's last event: a stream closed with it already read
    (but not reached) may give its connection back to the pool."""
    end_frame: bytes = DONE_FRAME
    """What a relay sends after a complete stream (nothing when the last event ends it)."""

    def __init__(self, event_type: Any) -> None:
        self.decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(event_type)
        # Whether `keepalive` can say yes (it is overridden): a stream asks it about each batch only then.
        self.has_keepalives = type(self).keepalive is not StreamProtocol.keepalive  # pyright: ignore[reportUnknownMemberType]

    def decode_all(self, messages: list[bytes]) -> list[T]:
        """The events of one read's data payloads (the usual read: no name, none empty, none ``done``).

        Raises on any payload that does not decode; the stream then goes through them one by one.
        """
        return list(map(self.decoder.decode, messages))

    def decode(self, data: bytes, event: str) -> T:
        """One event, from its data and SSE event name (``"message"`` when it had none)."""
        return self.decoder.decode(data)

    def keepalive(self, items: list[T]) -> bool:
        """True when ``items`` are all keep-alives (pings), which do not count against `Timeout.stream_idle`."""
        return False

    def accumulator(self) -> Accumulator[T] | None:
        """A fresh accumulator for one stream (None: this protocol adds up to nothing)."""
        return None

    def frames(self, items: list[T], payloads: list[bytes]) -> bytes:
        """The SSE frames a relay sends for one batch: ``payloads`` are the events' own JSON bytes."""
        return data_frames(payloads)

    def error_frame(self, error: BaseException) -> bytes:
        """The relay's one terminal frame for a stream that failed."""
        return error_frame(error)


class JsonEvents(StreamProtocol[T]):
    """Data-only JSON events of one type, ending in ``[DONE]``, with nothing to add up (any streamed operation
    without a protocol of its own)."""


class TaggedEvents(StreamProtocol[T]):
    """Events told apart by their JSON ``type`` (a msgspec tagged union), re-framed by a relay with ``event:``
    names; a ``type`` the SDK does not know decodes to an ``unknown`` event instead of failing.

    ``unknown(type, data)`` builds that event. An event of a known type holding a block or delta of an
    unknown ``type`` is unknown too (the whole event is kept, never half of it).
    """

    done: bytes | None = None
    end_frame = b""
    names_in_data = True

    def __init__(self, event_type: Any, known: frozenset[str], unknown: Any) -> None:
        super().__init__(event_type)
        self.known = known
        self._unknown = unknown
        self._peek = msgspec.json.Decoder(_Tagged).decode

    def decode(self, data: bytes, event: str) -> T:
        try:
            return self.decoder.decode(data)
        except msgspec.ValidationError as exc:
            unknown = self._unknown_event(data, exc)
            if unknown is None:
                raise
            return unknown

    def _unknown_event(self, data: bytes, exc: msgspec.ValidationError) -> T | None:
        try:
            kind = self._peek(data).type
        except msgspec.DecodeError:
            return None  # no ``type`` at all: not an event of this protocol
        message = str(exc)
        nested_tag = message.startswith("Invalid value") and message.endswith(".type`")
        if kind in self.known and not nested_tag:
            return None
        raw: dict[str, Any] = msgspec.json.decode(data)
        built: T = self._unknown(type=kind, data=raw)
        return built

    def frames(self, items: list[T], payloads: list[bytes]) -> bytes:
        parts: list[bytes] = []
        for item, payload in zip(items, payloads, strict=True):
            kind: str = getattr(item, "type")  # noqa: B009  (a ClassVar of each event class, or the unknown's field)
            if payload.find(b"\n") >= 0:
                payload = payload.replace(b"\n", b" ")
            parts.append(b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n")
        return b"".join(parts)


class _Tagged(msgspec.Struct):
    type: str


def error_type_of(body: object) -> str | None:
    """The kind of error an error event's body names: ``error.type`` (Anthropic), ``code`` (OpenAI
    Responses), ``type`` of an error object, or the first Telnyx ``errors[].code``."""
    if not isinstance(body, dict):
        return None
    fields: dict[str, Any] = body  # pyright: ignore[reportUnknownVariableType]
    nested = fields.get("error")
    if isinstance(nested, dict):
        kind = nested.get("type") or nested.get("code")  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType]
        if isinstance(kind, str):
            return kind
    for key in ("code", "type"):
        value = fields.get(key)
        if isinstance(value, str) and value != "error":
            return value
    errors = fields.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType]
        if isinstance(code, str):
            return code
    return None
