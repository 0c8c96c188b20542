"""Incremental Server-Sent Events framing: bytes in, whole events out.

Events may be split anywhere across network reads. Lines end in ``\\n``, ``\\r\\n`` or a lone
``\\r`` (a ``\\r\\n`` pair may itself straddle two reads). ``data`` stays as bytes, so a JSON
payload goes straight into msgspec without a str round trip; UTF-8 is only decoded on whole
lines, so a multi-byte character split across reads is never cut.
See https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

import re

import msgspec

from .._config import DEFAULT_MAX_EVENT_BYTES
from .._errors import APIError

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"
# An event line (not ``event: error``) that starts a block and comes right before a data line, with the two
# newlines before it, of which the substitution puts one back (a later event line may rename an error event:
# it stays). A literal start, not a look-behind, so that the regex engine can search for it quickly.
_EVENT_LINE = re.compile(rb"\n\nevent: (?!error\n)[^\n]*(?=\ndata: )")
_NO_EVENTS: list[ServerSentEvent] = []  # shared, never changed: the usual read's "no other events"


class ServerSentEvent(msgspec.Struct, frozen=True, gc=False):
    """One dispatched event. ``data`` is the event's data lines joined by ``\\n``."""

    data: bytes
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns a byte stream into `ServerSentEvent` objects, one ``feed`` per network read."""

    __slots__ = (
        "_data",
        "_data_size",
        "_drop_names",
        "_event",
        "_frequent",
        "_id",
        "_max_event",
        "_overflowed",
        "_partial",
        "_partial_size",
        "_retry",
        "_skip_lf",
        "_started",
    )

    def __init__(
        self,
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        drop_names: bool = False,
        frequent_names: tuple[bytes, ...] = (),
    ) -> None:
        self._max_event = max_event_bytes
        # ``event: <name>`` then one ``data:`` line counts as a plain message (its name dropped) for a reader
        # whose events say what they are in their data (``"type"``); ``event: error`` never does. The lines
        # of ``frequent_names`` go first, with bytes.replace (the usual event: cheaper than the regex).
        self._drop_names = drop_names
        self._frequent = (
            [b"\n\nevent: " + name + b"\ndata: " for name in frequent_names if name != b"error"]
            if frequent_names
            else []
        )
        # The pieces of an unfinished line, joined only once its ending arrives: a long line
        # spread over many reads costs linear time, not quadratic.
        self._partial: list[bytes] = []
        self._partial_size = 0
        self._skip_lf = False  # the last read ended in "\r": a leading "\n" finishes that line ending
        self._started = False
        self._overflowed = False
        self._data: list[bytes] = []
        self._data_size = 0  # bytes held for the event being read: one limit for the line and the event
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume one read; return the events it completed (often none, sometimes many)."""
        id_, retry = self._id, self._retry  # what the leading plain messages carry
        messages, events = self.feed_split(chunk)
        if not messages:
            return events
        made = [ServerSentEvent(data, "message", id_, retry) for data in messages]
        return made + events if events else made

    def feed_split(self, chunk: bytes) -> tuple[list[bytes], list[ServerSentEvent]]:
        """Like `feed`, for a reader that wants the data of the usual events without an object per event.

        Returns the data of the leading plain messages (a ``message`` event of one ``data:`` line, the
        whole of a typical JSON stream; with ``drop_names``, also a named one other than ``error``), then
        every event after them, in order, as `ServerSentEvent`.
        The messages' ``id`` and ``retry`` are the ones in force before this call (`feed` adds them).
        """
        if self._overflowed:
            raise self._overflow_error()
        if (
            chunk.startswith(b"data: ")
            and chunk.endswith(b"\n\n")
            and not self._partial
            and not self._data
            and self._event is None
            and not self._skip_lf
            and len(chunk) <= self._max_event
            and chunk.find(b"\r") < 0
        ):
            # The usual read of a paced stream: whole one-line data events and nothing else. Each such event
            # has exactly two newlines, so counting them proves that no event has another line. (A read that
            # starts with "data: " has no byte-order mark to drop, so a stream's first read can go this way.)
            self._started = True
            end = len(chunk) - 2
            if chunk.find(b"\n") == end:  # one event: its first newline is the blank line's (memchr, not a count)
                return [chunk[6:end]], _NO_EVENTS
            messages = chunk[6:end].split(b"\n\ndata: ")
            if chunk.count(b"\n") == 2 * len(messages):
                return messages, _NO_EVENTS
        if self._skip_lf:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if not chunk:
            return [], []
        has_cr = chunk.find(b"\r") >= 0  # find, not "in" (see `_feed_data_events`)
        if self._partial:  # an unfinished line or block from before, which this read continues
            if not has_cr and chunk.find(b"\n") < 0:
                return [], self._hold(chunk)
            self._partial.append(chunk)
            chunk = b"".join(self._partial)
            self._partial = []
            self._partial_size = 0
        if not self._started:
            if len(chunk) < 3 and _BOM.startswith(chunk):
                return [], self._hold(chunk)
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
                if not chunk:
                    return [], []
        if not self._data and self._event is None and not has_cr:  # plain data events, "\n" endings
            if self._drop_names:
                chunk = self._drop_event_lines(chunk)
            return self._feed_data_events(chunk)
        return [], self._feed_lines(chunk)

    def _drop_event_lines(self, chunk: bytes) -> bytes:
        """``chunk`` (which starts at a line's start) without the ``event: <name>`` lines, other than
        ``event: error``, that start a block and come right before its data line: in C, so that its blocks
        read as plain messages. A blank line is put before the read's first line for the replacements to
        see it, and taken off again."""
        lead = chunk.startswith(b"event: ")
        if lead:
            chunk = b"\n\n" + chunk
        for line in self._frequent:
            chunk = chunk.replace(line, b"\n\ndata: ")
        if chunk.find(b"\n\nevent: ") >= 0:
            chunk = _EVENT_LINE.sub(b"\n", chunk)
        return chunk[2:] if lead else chunk

    def _feed_data_events(self, chunk: bytes) -> tuple[list[bytes], list[ServerSentEvent]]:
        """The usual stream, one ``data: <json>`` line per event and ``\n`` line endings: split on
        blank lines, with no work per line. Anything else goes the general way from where it starts.

        When every complete event of the read is such a line (the usual large read, which ends inside an
        event), the read is split in C on ``\n\ndata: ``: two newlines for each separator and none
        elsewhere prove that each block is one data line.
        """
        end = chunk.rfind(b"\n\n")
        if end >= 6 and chunk.startswith(b"data: "):
            datas = chunk[6:end].split(b"\n\ndata: ")
            most = self._max_event - 6  # a block's limit counts its "data: "
            if chunk.count(b"\n", 0, end) == 2 * len(datas) - 2 and (end <= most or max(map(len, datas)) <= most):
                return self._after_blocks(datas, chunk[end + 2 :])
        blocks = chunk.split(b"\n\n")
        tail = blocks.pop()  # what follows the last blank line: part of the next event, or nothing
        messages: list[bytes] = []
        limit = self._max_event
        for position, block in enumerate(blocks):
            # find, not "in": bytes.__contains__ tries its argument as an int first, and raising and
            # clearing that TypeError costs more than the rest of this line.
            if block.startswith(b"data: ") and block.find(b"\n") < 0 and len(block) <= limit:
                messages.append(block[6:])
                continue
            if self._drop_names and block.startswith(b"event: ") and len(block) <= limit:
                data = _named_data(block)
                if data is not None:
                    messages.append(data)
                    continue
            rest = b"\n\n".join(blocks[position:]) + b"\n\n" + tail
            return self._after(messages, rest)
        return self._after_blocks(messages, tail)

    def _after_blocks(self, messages: list[bytes], tail: bytes) -> tuple[list[bytes], list[ServerSentEvent]]:
        """``messages``, the read's complete events, then what ``tail`` (after the last blank line) begins."""
        if not tail:
            return messages, []
        if self._drop_names and len(tail) <= self._max_event and tail.find(b"\n", tail.find(b"\n") + 1) < 0:
            # The start of the next event (its event line complete, its data line not), held as it is and read
            # with the next read: parsed now, its name would be pending and send that whole read the slow way.
            # Only while it holds one line ending at most: a longer tail, held, would be copied again by every
            # read until its event ends (quadratic in a large event of many lines); it is parsed instead.
            self._partial.append(tail)
            self._partial_size = len(tail)
            return messages, []
        return self._after(messages, tail)

    def _after(self, messages: list[bytes], rest: bytes) -> tuple[list[bytes], list[ServerSentEvent]]:
        """``messages``, then the events the general parser finds in ``rest``; an overflow there is
        raised on the next read when ``messages`` has something to deliver first."""
        try:
            return messages, self._feed_lines(rest)
        except APIError:
            if not messages:
                raise
            self._overflowed = True
            return messages, []

    def _feed_lines(self, chunk: bytes) -> list[ServerSentEvent]:
        """The general parser: line by line, every field, every line ending."""
        lines = chunk.splitlines()
        last = chunk[-1]
        if last == 13:  # b"\r"
            self._skip_lf = True
        elif last != 10 and lines:  # no line ending: the last line is unfinished
            unfinished = lines.pop()
            self._partial = [unfinished]
            self._partial_size = len(unfinished)
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(self._dispatch())
                    data = self._data
                else:
                    self._event = None
                continue
            if line.startswith(b"data:"):
                piece = line[6:] if line.startswith(b" ", 5) else line[5:]
                data.append(piece)
                self._data_size += len(piece) + 1
            elif line[0] != 58:  # b":" starts a comment
                self._field(line)  # a bare "data" line grows the event too
            else:
                continue
            if self._data_size > self._max_event:
                # The event being read is over the limit, however short its lines: stop holding it.
                self._overflowed = True
                if not events:
                    raise self._overflow_error()
                return events
        if self._partial_size > self._max_event:
            # Events completed before the oversized line are still delivered; the next read raises.
            self._overflowed = True
            if not events:
                raise self._overflow_error()
        return events

    def _hold(self, piece: bytes) -> list[ServerSentEvent]:
        """Keep a piece of a line whose ending has not arrived yet."""
        self._partial.append(piece)
        self._partial_size += len(piece)
        if self._partial_size > self._max_event:
            self._overflowed = True
            raise self._overflow_error()
        return []

    def raise_if_overflowed(self) -> None:
        """At the end of the body: the size error of an event found too large, had it not been raised yet
        (the events before it were handed out first)."""
        if self._overflowed:
            raise self._overflow_error()

    def _overflow_error(self) -> APIError:
        return APIError(
            f"A server-sent event exceeded {self._max_event} bytes; raise the client's "
            "max_event_bytes if such large events are expected."
        )

    def _field(self, line: bytes) -> None:
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"data":  # "data" with no colon: an empty data line
            self._data.append(value)
            self._data_size += len(value) + 1
        elif name == b"id":
            if b"\0" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)

    def _dispatch(self) -> ServerSentEvent:
        data = self._data
        payload = data[0] if len(data) == 1 else b"\n".join(data)
        event = ServerSentEvent(payload, self._event or "message", self._id, self._retry)
        self._data = []
        self._data_size = 0
        self._event = None
        return event


def _named_data(block: bytes) -> bytes | None:
    """The data of a block that is exactly ``event: <name>`` and one ``data: `` line, unless it is an error."""
    end = block.find(b"\n")
    if end < 0 or not block.startswith(b"data: ", end + 1) or block.find(b"\n", end + 1) >= 0:
        return None
    if block[7:end].strip() == b"error":
        return None
    return block[end + 7 :]
