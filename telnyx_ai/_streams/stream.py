"""`AsyncStream`: a streamed response read incrementally as typed events, in any wire protocol.

What an event is, where the stream ends and what the events add up to is the `StreamProtocol`'s
business (one module per protocol); this module reads, decodes in batches, hands out, and closes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import msgspec

from .._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStreamError,
    APITimeoutError,
    connection_error,
    request_id_of,
)
from .._hooks import CallInfo, Hooks, StreamOutcome
from .._http.request import Request
from .._http.response import raise_for_status, read_body
from .deadlines import Deadlines, deadlines
from .failures import body_ended, invalid_event, stream_error
from .helpers import StreamHelpers
from .protocol import Accumulator, StreamProtocol
from .sse import ServerSentEvent, SSEDecoder
from .watch import EndWatch, outcome_of

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["AsyncStream"]

T = TypeVar("T")
E = TypeVar("E", bound=Exception)

# A finished stream waits this long, for at most this much trailing data, to keep its connection.
_DRAIN_SECONDS = 0.1
_DRAIN_BYTES = 64 * 1024
# A read can complete hundreds of events; they are decoded this many at a time, so the objects alive
# at once stay few and their memory is reused (decoding a whole 100 KiB read at once made the
# allocator map fresh pages for every read: ten times the floor's page faults, 10 % of the time).
_DECODE_AT_ONCE = 64
_NO_ITEMS: list[Any] = []  # shared and never changed: an empty batch or queue without a list of its own


class _IdleTimeout(Exception):
    """Set on the response's body by the idle timer: no data event for `Timeout.stream_idle` seconds."""


class AsyncStream(StreamHelpers[T]):
    """The events of a streamed response, in order, as they arrive.

    Use it as ``async with stream:`` (or ``contextlib.aclosing(stream)``, or call `aclose`) so that
    leaving early drops the connection at once; a stream simply dropped, or whose reading task is
    cancelled, drops it too. The stream ends at its protocol's last event (``data: [DONE]`` for chat);
    a connection cut before that raises `APIConnectionError` instead of ending quietly, and an error
    event raises `APIStreamError`.

    Every stream offers ``text_stream``, `get_final_text` and `to_sse`; each protocol adds its final
    object: `get_final_completion` (chat), `get_final_response` (Responses), `get_final_message`
    (Anthropic Messages), `get_final_answer` (assistant chat). They share the one connection, so use
    one way of reading at a time.
    """

    def __init__(
        self,
        response: ClientResponse,
        protocol: StreamProtocol[T],
        *,
        method: str,
        url: str,
        max_event_bytes: int,
        stream_idle: float | None = None,
        owner: object = None,
    ) -> None:
        self._closed = False
        self._loop = asyncio.get_running_loop()
        self.response = response
        # Kept referenced while the stream lives: the client's pool, whose finalizer closes its
        # connections when the client is dropped, would otherwise cut this stream mid-read.
        self._owner = owner
        self._protocol = protocol
        self._sse = SSEDecoder(
            max_event_bytes=max_event_bytes,
            drop_names=protocol.names_in_data,
            frequent_names=protocol.frequent_names,
        )
        self._method = method
        self._url = url
        self._finished = False
        self._primed: list[T] | None = None
        self._pending_error: Exception | None = None
        self._current: list[T] = _NO_ITEMS  # the batch `__anext__` hands out, from `_at` on
        self._at = 0
        self._batch_json: list[bytes] = []  # the JSON of each event in the batch last decoded
        # The last read's events not decoded yet: its plain messages (from `_queued_at` on), then the rest.
        self._queued: list[bytes] = _NO_ITEMS
        self._queued_at = 0  # an offset, not slicing the list: a read can hold hundreds of messages
        self._queued_events: list[ServerSentEvent] = _NO_ITEMS
        # What the events add up to: every event handed out is folded in as it passes (keeping their
        # JSON to fold on demand was no faster: the memory held cost page faults).
        self._accumulator: Accumulator[T] | None = protocol.accumulator()
        self._pausable = False  # a relay's heartbeat cancels reads to send pings: not an abandonment
        self._watch: EndWatch | None = None  # the event hooks to tell of its end, when there are any
        self._idle = stream_idle
        self._idle_since: float | None = None  # when the wait for the next data event began (None: not waiting)
        # A protocol without keep-alives is not asked about each batch.
        self._keepalive = protocol.keepalive if protocol.has_keepalives else None
        # The loop's one timer watches this stream's idle limit (`deadlines.py`): no timer of its own.
        self._idle_watch: Deadlines | None = None  # None: no limit, or no longer watched
        self._now = time.monotonic  # the loop's clock (the deadlines'), read once per batch with a limit
        if stream_idle is not None:
            watch = self._idle_watch = deadlines(self._loop)
            self._now = now = watch.now
            watch.add(self, now() + stream_idle)

    @classmethod
    async def open(
        cls,
        response: ClientResponse,
        request: Request,
        protocol: StreamProtocol[T],
        *,
        max_event_bytes: int,
        max_body_bytes: int,
        owner: object = None,
    ) -> AsyncStream[T]:
        """The stream of ``response`` once its first event has arrived, so a failure before it can be retried.

        An error status or a body that is not an event stream raises instead; whatever fails,
        the connection is dropped (the caller never held the stream, so nobody else could).
        """
        try:
            if response.status >= 300:  # checked here first: no coroutine for the usual 200
                await raise_for_status(response, request, max_body_bytes)
            content_type = response.headers.get("Content-Type", "")
            if not content_type.startswith("text/event-stream"):
                raw = await read_body(response, request, max_body_bytes)
                raise APIResponseValidationError(
                    "Expected a text/event-stream response to a streaming request, "
                    f"got {content_type or 'no content type'!r}.",
                    status_code=response.status,
                    method=request.method,
                    url=request.url,
                    body=raw.decode("utf-8", "replace"),
                )
            stream = cls(
                response,
                protocol,
                method=request.method,
                url=request.url,
                max_event_bytes=max_event_bytes,
                stream_idle=request.stream_idle,
                owner=owner,
            )
            try:
                stream._primed = await stream.next_batch()
                cut = stream._pending_error  # events decoded, then JSON cut short, all before the caller read any
                if isinstance(cut, APIResponseValidationError) and cut.malformed:
                    raise cut
            except APIResponseValidationError as exc:
                if not exc.malformed:
                    raise
                # JSON cut short before anything was handed out: cut in transit, so worth another attempt.
                raise APIConnectionError(
                    f"The stream's first event arrived cut short: {exc}", method=request.method, url=request.url
                ) from exc
        except BaseException:
            response.close()
            raise
        return stream

    def __aiter__(self) -> AsyncIterator[T]:
        # A fresh generator, not one the stream keeps: a stream that held its own iterator would be a
        # reference cycle, alive after the last reference is dropped until the garbage collector runs.
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        if self._at < len(self._current):  # what `__anext__` left of its batch
            rest, self._current = self._current[self._at :], _NO_ITEMS
            for item in rest:
                yield item
            del rest
        while (batch := await self.next_batch()) is not None:
            for item in batch:
                yield item
            del batch  # not held while the next read waits: fewer objects for each young collection to visit

    async def __anext__(self) -> T:
        at = self._at
        batch = self._current
        if at < len(batch):
            self._at = at + 1
            return batch[at]
        fresh = await self.next_batch()
        if fresh is None:
            self._current = _NO_ITEMS
            raise StopAsyncIteration
        self._current = fresh
        self._at = 1
        return fresh[0]

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "finished" if self._finished else "open"
        return f"<AsyncStream {self._method} {self._url} {state}>"

    def __del__(self) -> None:
        # Dropped unfinished (left with ``break``, its task gone): the server must see the connection go now,
        # not when it finishes generating. Closing is the loop's job; from another thread it is handed over.
        if self._closed:
            return
        self._closed = True
        self._unwatch()
        if self._watch is not None:
            self._watch.report_dropped(self._finished, self._accumulator, self._loop)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self.response.close()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.response.close)

    @property
    def request_id(self) -> str | None:
        """The server's id for this request (its ``x-request-id`` header), for support tickets and logs."""
        return request_id_of(self.response.headers)

    @property
    def closed(self) -> bool:
        """True once the stream was closed or read to its end."""
        return self._closed

    async def aclose(self) -> None:
        """The same as `close`: so ``contextlib.aclosing(stream)`` works."""
        await self.close()

    async def close(self) -> None:
        """Stop reading; an unfinished response's connection is dropped so the server sees it."""
        if self._closed:
            return
        self._closed = True
        self._unwatch()
        self._ended(None)
        # The end already read but not yet reached (it waits behind other events of its read): the
        # body is over all the same, so the connection can still go back to the pool.
        done = self._finished or self._end_queued()
        self._queued, self._queued_at, self._queued_events = _NO_ITEMS, 0, _NO_ITEMS
        reusable = False
        try:
            reusable = done and (self.response.content.at_eof() or await self._body_ends_soon())
        finally:  # also when cancelled while draining: the connection is then dropped, never leaked
            if reusable:
                self.response.release()  # back to the pool for the next request
            else:
                self.response.close()

    def _unwatch(self) -> None:
        """Tell the deadlines this stream's entry is dead (it goes at its deadline, or with the others)."""
        if (watch := self._idle_watch) is not None:
            self._idle_watch = None
            watch.forget()

    def _deadline_alive(self) -> bool:
        return self._idle_watch is not None

    def _deadline_due(self, now: float) -> float | None:
        """The idle limit's deadline: the seconds of the limit left at ``now``, or None once the pending read
        was failed for waiting the whole limit for data (keep-alives do not count)."""
        limit = self._idle
        if limit is None:
            return None
        since = self._idle_since
        waited = 0.0 if since is None else now - since
        if waited < limit:
            return limit - waited
        self._idle_watch = None  # its entry is gone: closing it later is no dead entry
        self.response.content.set_exception(_IdleTimeout())
        return None

    def _end_queued(self) -> bool:
        protocol = self._protocol
        queued = self._queued[self._queued_at :]
        datas = queued + [event.data for event in self._queued_events]
        if protocol.done is not None and protocol.done in datas:
            return True
        markers = protocol.end_markers
        return bool(markers) and any(marker in data for data in datas[-1:] for marker in markers)

    def _abort(self) -> None:
        """Drop the connection at once (no draining: for a reader that is gone)."""
        if not self._closed:
            self._closed = True
            self._unwatch()
            self._ended(None, "cancelled")
            self.response.close()

    async def _body_ends_soon(self) -> bool:
        """After the last event, whether the body's last bytes arrive promptly (so the connection can be reused)."""
        content = self.response.content
        if content.at_eof():
            return True
        try:
            async with asyncio.timeout(_DRAIN_SECONDS):
                left = _DRAIN_BYTES
                while not content.at_eof() and left > 0:
                    left -= len(await content.readany())
        except (TimeoutError, aiohttp.ClientError):
            return False
        return content.at_eof()

    async def next_batch(self) -> list[T] | None:
        """The next events (never empty), or None at the end: those of the next network read, at most
        `_DECODE_AT_ONCE` (64) at a time.

        For readers that handle several events at once: the sync `Stream` crosses threads once
        per batch, a relay can forward a batch in one write. Do not mix it with ``async for``.
        """
        if self._primed is not None:
            batch, self._primed = self._primed, None
            return batch
        if self._pending_error is not None:
            pending, self._pending_error = self._pending_error, None
            self._ended(pending)  # if not told yet (the events before it were folded in since)
            raise pending
        idle = self._idle
        if idle is not None and self._idle_since is None:
            self._idle_since = self._now()  # waiting for data from now (a batch of keep-alives keeps the wait going)
        # Read here, not in a coroutine of its own: one frame less per batch, a paced stream's every chunk.
        while not self._finished and not self._closed:
            if self._queued_at < len(self._queued) or self._queued_events:
                batch = self._decode_queued()
            else:
                error: APIError | None = None
                # The last batch's JSON went to its relay when it was handed out: not held while waiting.
                self._batch_json = _NO_ITEMS
                try:
                    chunk = await self.response.content.readany()
                except asyncio.CancelledError:
                    if not self._pausable:  # the reader was cancelled: nobody will read on, so the server must stop
                        self._abort()
                        # ...and a read after all raises: the stream did not end, it was cut (never a quiet end).
                        self._pending_error = APIConnectionError(
                            f"A read of this stream was cancelled, so it was closed before its {self._end_name()}.",
                            method=self._method,
                            url=self._url,
                        )
                    raise
                except (TimeoutError, aiohttp.ClientError, _IdleTimeout) as exc:
                    # Only the SDK's error is kept: aiohttp's exception can hold the request's headers.
                    error = self._read_error(exc)
                    chunk = b""
                if not chunk:  # raised outside the except block, so aiohttp's exception is not its context
                    if error is None:
                        error = body_ended(self._sse, self._end_name(), method=self._method, url=self._url)
                    self._ended(error)
                    await self.close()
                    raise error
                try:
                    messages, events = self._sse.feed_split(chunk)
                except Exception as exc:
                    self._ended(exc)
                    await self.close()
                    raise
                if events or len(messages) > _DECODE_AT_ONCE:  # decoded a slice at a time, in order
                    self._queued, self._queued_at, self._queued_events = messages, 0, events
                    continue
                if not messages:  # a read that completed no event
                    continue
                batch = self._decode(messages, _NO_ITEMS)  # the usual read, decoded at once
            if batch:
                accumulator = self._accumulator
                if accumulator is not None and (kept := accumulator.add(batch)) is not None:
                    batch = self._cut(batch, kept)
                    if not batch:
                        continue
                if idle is not None and (self._keepalive is None or not self._keepalive(batch)):
                    self._idle_since = None  # data came: the wait is over
                return batch
        if not self._closed:
            await self.close()
        return None

    def _end_name(self) -> str:
        return self._protocol.end

    def _read_error(self, exc: TimeoutError | aiohttp.ClientError | _IdleTimeout) -> APIError:
        """The SDK's error for a read that failed: timed out, cut, or silent past the stream's idle limit."""
        if isinstance(exc, _IdleTimeout):
            return APITimeoutError(
                f"No data event for {self._idle:g} s (only keep-alives, or nothing): the stream looks stuck. "
                "Raise Timeout(stream_idle=...) if such pauses are expected, or pass None for no limit.",
                method=self._method,
                url=self._url,
            )
        return connection_error(
            exc,
            timed_out="Timed out waiting for the next stream event.",
            broke="The stream was cut before it finished",
            method=self._method,
            url=self._url,
        )

    def _cut(self, batch: list[T], kept: int) -> list[T]:
        """``batch`` up to what the accumulator keeps: the events before an error event (raised next), or
        up to the stream's last event."""
        accumulator = self._accumulator
        assert accumulator is not None
        if accumulator.failed:
            error = self._stream_error(self._batch_json[kept])
            if not kept:
                raise error
            self._pending_error = error
        else:
            self._finished = True
        del self._batch_json[kept:]
        return batch[:kept]

    # -- decoding ------------------------------------------------------------------------

    def _decode_queued(self) -> list[T]:
        """Decode the next `_DECODE_AT_ONCE` messages of the last read (its other events with the last ones)."""
        at = self._queued_at
        end = at + _DECODE_AT_ONCE
        messages = self._queued[at:end]
        if end < len(self._queued):
            self._queued_at = end
            return self._decode(messages, [])
        events, self._queued, self._queued_at, self._queued_events = self._queued_events, _NO_ITEMS, 0, _NO_ITEMS
        return self._decode(messages, events)

    def _decode(self, messages: list[bytes], events: list[ServerSentEvent]) -> list[T]:
        """The events of one read: ``messages`` (plain data) first, then ``events``."""
        done = self._protocol.done
        if messages and not events and b"" not in messages:
            plain: list[bytes] | None = messages
            if done is not None and done in messages:  # the end: decoded at once only as the read's one last message
                plain = messages[:-1] if messages.index(done) == len(messages) - 1 else None
            if plain is not None:
                try:  # the usual read: events only, decoded without a Python step per event
                    items = self._protocol.decode_all(plain)
                except (msgspec.DecodeError, RecursionError):
                    pass  # the careful way below finds the bad one and hands over those before it
                else:
                    self._batch_json = plain
                    if plain is not messages:
                        self._finished = True
                    return items
        if messages:
            events = [ServerSentEvent(data) for data in messages] + events
        return self._decode_events(events)

    def _decode_events(self, events: list[ServerSentEvent]) -> list[T]:
        items: list[T] = []
        raw: list[bytes] = []
        self._batch_json = raw
        protocol = self._protocol
        done = protocol.done
        decode = protocol.decode
        for event in events:
            data = event.data
            if data == done and done is not None:
                self._finished = True
                break
            error: Exception | None = None
            if event.event == "error":
                error = self._stream_error(data, later=bool(items))
            elif not data:
                continue  # an empty data: event is a keep-alive, not an event
            else:
                try:
                    items.append(decode(data, event.event))
                    raw.append(data)
                except (msgspec.DecodeError, RecursionError) as exc:
                    error = self._invalid_event(data, exc, later=bool(items))
                    error.__cause__ = exc
            if error is not None:
                if not items:
                    raise error
                # Hand over the events that came before the error first; raise it on the next read.
                self._pending_error = error
                break
        return items

    def _stream_error(self, data: bytes, *, later: bool = False) -> APIStreamError:
        return self._closed_after_error(stream_error(data, method=self._method, url=self._url), later)

    def _invalid_event(self, data: bytes, exc: Exception, *, later: bool = False) -> Exception:
        status = self.response.status
        error = invalid_event(data, exc, status=status, method=self._method, url=self._url)
        return self._closed_after_error(error, later)

    def _closed_after_error(self, error: E, later: bool) -> E:
        """Close after an error event; the hooks hear of it now, or ``later`` (the events before it folded in)."""
        self._closed = True
        self._unwatch()
        if later and self._watch is not None:
            self._loop.call_soon(self._ended, error)
        else:
            self._ended(error)
        self.response.close()
        return error

    def watch_end(self, hooks: Hooks, call: CallInfo, first_event: float) -> None:
        """Tell ``hooks`` of this stream's end (called by the transport once the stream is handed out)."""
        self._watch = EndWatch(hooks, call, first_event)
        if self._closed:  # it already failed behind its first events: an error event in the same read
            self._ended(self._pending_error)

    def _ended(self, error: BaseException | None, outcome: StreamOutcome | None = None) -> None:
        if (watch := self._watch) is not None:
            self._watch = None
            watch.report(outcome or outcome_of(error, self._finished), error, self._accumulator)
