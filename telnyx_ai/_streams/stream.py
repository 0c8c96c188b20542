"""`AsyncStream`: a chat completion (or any SSE) response read incrementally as typed chunks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar, cast

import aiohttp
import msgspec

from .._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStreamError,
    TelnyxError,
    connection_error,
    error_message_from_body,
    request_id_of,
)
from .._http.request import Request
from .._http.response import raise_for_status, read_body
from .._models import decoder_for
from ..types.chat import ChatCompletion, ChatCompletionChunk
from .chat import ChatAccumulator, first_choice_texts
from .relay import DEFAULT_HEARTBEAT, relay
from .sse import ServerSentEvent, SSEDecoder

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["AsyncStream"]

T = TypeVar("T")

_DONE = b"[DONE]"
# A finished stream waits this long, for at most this much trailing data, to keep its connection.
_DRAIN_SECONDS = 0.1
_DRAIN_BYTES = 64 * 1024
# A read can complete hundreds of chunks; they are decoded this many at a time, so the objects alive
# at once stay few and their memory is reused (decoding a whole 100 KiB read at once made the
# allocator map fresh pages for every read: ten times the floor's page faults, 10 % of the time).
_DECODE_AT_ONCE = 64


class AsyncStream(Generic[T]):
    """The chunks of a streamed response, in order, as they arrive.

    Use it as ``async with stream:`` (or call `close`) so that leaving early drops the
    connection at once. The stream ends at ``data: [DONE]``; a connection cut before that
    raises `APIConnectionError` instead of ending quietly, and an ``error`` event raises
    `APIStreamError`.

    A chat stream also offers ``text_stream``, `get_final_completion`, `get_final_text` and
    `to_sse`; they share the one connection, so use one way of reading at a time.
    """

    def __init__(
        self,
        response: ClientResponse,
        cast_to: type[T],
        *,
        method: str,
        url: str,
        max_event_bytes: int,
        owner: object = None,
    ) -> None:
        self.response = response
        # Kept referenced while the stream lives: the client's pool, whose finalizer closes its
        # connections when the client is dropped, would otherwise cut this stream mid-read.
        self._owner = owner
        self._decoder = decoder_for(cast_to)
        self._sse = SSEDecoder(max_event_bytes=max_event_bytes)
        self._method = method
        self._url = url
        self._finished = False
        self._closed = False
        self._primed: list[T] | None = None
        self._pending_error: Exception | None = None
        self._iterator = self._iterate()
        self._batch_json: list[bytes] = []  # the JSON of each chunk in the batch last decoded
        # The last read's events not decoded yet: its plain messages (from `_queued_at` on), then the rest.
        self._queued: list[bytes] = []
        self._queued_at = 0  # an offset, not slicing the list: a read can hold hundreds of messages
        self._queued_events: list[ServerSentEvent] = []
        # A chat stream's completion so far: every chunk handed out is folded in as it passes
        # (keeping their JSON to fold on demand was no faster: the memory held cost page faults).
        self._accumulator = ChatAccumulator() if cast_to is ChatCompletionChunk else None

    @classmethod
    async def open(
        cls,
        response: ClientResponse,
        request: Request,
        cast_to: type[T],
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
                cast_to,
                method=request.method,
                url=request.url,
                max_event_bytes=max_event_bytes,
                owner=owner,
            )
            try:
                stream._primed = await stream.next_batch()
            except APIResponseValidationError as exc:
                if not exc.malformed:
                    raise
                # Not JSON at all before anything was yielded: cut in transit, so worth another attempt.
                raise APIConnectionError(
                    f"The stream's first event arrived cut short: {exc}", method=request.method, url=request.url
                ) from exc
        except BaseException:
            response.close()
            raise
        return stream

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterator

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "finished" if self._finished else "open"
        return f"<AsyncStream {self._method} {self._url} {state}>"

    @property
    def request_id(self) -> str | None:
        """The server's id for this request (its ``x-request-id`` header), for support tickets and logs."""
        return request_id_of(self.response.headers)

    @property
    def closed(self) -> bool:
        """True once the stream was closed or read to its end."""
        return self._closed

    async def close(self) -> None:
        """Stop reading; an unfinished response's connection is dropped so the server sees it."""
        if self._closed:
            return
        self._closed = True
        # [DONE] already read but not yet reached (it waits behind other chunks of its read): the
        # body is over all the same, so the connection can still go back to the pool.
        done = self._finished or _DONE in self._queued or any(event.data == _DONE for event in self._queued_events)
        self._queued, self._queued_at, self._queued_events = [], 0, []
        reusable = False
        try:
            reusable = done and await self._body_ends_soon()
        finally:  # also when cancelled while draining: the connection is then dropped, never leaked
            if reusable:
                self.response.release()  # back to the pool for the next request
            else:
                self.response.close()

    async def _body_ends_soon(self) -> bool:
        """After ``[DONE]``, whether the body's last bytes arrive promptly (so the connection can be reused)."""
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

    async def _iterate(self) -> AsyncIterator[T]:
        while (batch := await self.next_batch()) is not None:
            for item in batch:
                yield item

    async def next_batch(self) -> list[T] | None:
        """The next chunks (never empty), or None at the end: those of the next network read, at most
        `_DECODE_AT_ONCE` (64) at a time.

        For readers that handle several chunks at once: the sync `Stream` crosses threads once
        per batch, a relay can forward a batch in one write. Do not mix it with ``async for``.
        """
        if self._primed is not None:
            batch, self._primed = self._primed, None
            return batch
        if self._pending_error is not None:
            pending, self._pending_error = self._pending_error, None
            raise pending
        while not self._finished and not self._closed:
            if self._queued_at < len(self._queued) or self._queued_events:
                batch = self._decode_queued()
                if batch:
                    if self._accumulator is not None:
                        self._accumulator.add(cast("list[ChatCompletionChunk]", batch))
                    return batch
                continue
            error: APIConnectionError | None = None
            try:
                chunk = await self.response.content.readany()
            except (TimeoutError, aiohttp.ClientError) as exc:
                # Only the SDK's error is kept: aiohttp's exception can hold the request's headers.
                error = connection_error(
                    exc,
                    timed_out="Timed out waiting for the next stream event.",
                    broke="The stream was cut before it finished",
                    method=self._method,
                    url=self._url,
                )
                chunk = b""
            if error is not None:  # raised outside the except block, so aiohttp's exception is not its context
                await self.close()
                raise error
            if not chunk:
                await self.close()
                raise APIConnectionError(
                    "The connection closed before the stream finished (no [DONE] event).",
                    method=self._method,
                    url=self._url,
                )
            try:
                self._queued, self._queued_events = self._sse.feed_split(chunk)
            except Exception:
                await self.close()
                raise
            self._queued_at = 0
        if not self._closed:
            await self.close()
        return None

    # -- chat helpers --------------------------------------------------------------------

    @property
    def text_stream(self: AsyncStream[ChatCompletionChunk]) -> AsyncGenerator[str, None]:
        """The first choice's content deltas as they arrive, empty ones skipped."""
        return self._texts()

    async def _texts(self: AsyncStream[ChatCompletionChunk]) -> AsyncGenerator[str, None]:
        while (batch := await self.next_batch()) is not None:
            for text in first_choice_texts(batch):
                yield text

    async def get_final_completion(self: AsyncStream[ChatCompletionChunk]) -> ChatCompletion:
        """Read the rest of the stream; the `ChatCompletion` every chunk (also those already read) adds up to.

        Tool calls are merged by index, content and ``reasoning_content`` joined, ``usage`` kept.
        A stream that was closed or failed before ``[DONE]`` raises rather than return a short reply.
        """
        accumulator = self._accumulator
        if accumulator is None:
            raise TelnyxError("Only a chat completion stream can be assembled into a completion.")
        while await self.next_batch() is not None:
            pass
        if not self._finished:
            raise TelnyxError(
                "The stream was closed before it finished, so its completion is incomplete; "
                "read it to the end before asking for the final completion."
            )
        completion = accumulator.completion()
        vars(completion)["_request_id"] = self.request_id  # the stream's id, as a parsed reply would carry
        return completion

    async def get_final_text(self: AsyncStream[ChatCompletionChunk]) -> str:
        """Read the rest of the stream; the first choice's whole content (``""`` if it had none)."""
        completion = await self.get_final_completion()
        return next((c.message.content or "" for c in completion.choices if c.index == 0), "")

    def to_sse(self, heartbeat: float | None = DEFAULT_HEARTBEAT) -> AsyncGenerator[bytes, None]:
        """The stream as Server-Sent Events for a browser, ready for any streaming HTTP response.

        Each chunk goes out as ``data: <json>`` (the API's own bytes), a ``: ping`` comment after
        ``heartbeat`` seconds of upstream silence (None: never), and the last frame is either
        ``data: [DONE]`` or ``event: error`` with ``{"error": {"message", "type", "retryable"}}``.
        Send it with the headers in `SSE_RELAY_HEADERS`. Closing the iterator (as frameworks do
        when the browser goes away) closes the upstream connection at once.
        """
        return relay(self._next_batch_json, self.close, heartbeat)

    async def _next_batch_json(self) -> list[bytes] | None:
        return None if await self.next_batch() is None else self._batch_json

    # -- decoding ------------------------------------------------------------------------

    def _decode_queued(self) -> list[T]:
        """Decode the next `_DECODE_AT_ONCE` messages of the last read (its other events with the last ones)."""
        at = self._queued_at
        end = at + _DECODE_AT_ONCE
        messages = self._queued[at:end]
        if end < len(self._queued):
            self._queued_at = end
            return self._decode(messages, [])
        events, self._queued, self._queued_at, self._queued_events = self._queued_events, [], 0, []
        return self._decode(messages, events)

    def _decode(self, messages: list[bytes], events: list[ServerSentEvent]) -> list[T]:
        """The chunks of one read's events: ``messages`` (plain data) first, then ``events``."""
        if messages and not events and _DONE not in messages and b"" not in messages:
            try:  # the usual read: chunks only, decoded without a Python step per chunk
                items = list(map(self._decoder.decode, messages))
            except (msgspec.DecodeError, RecursionError):
                pass  # the careful way below finds the bad one and hands over those before it
            else:
                self._batch_json = messages
                return items
        if messages:
            events = [ServerSentEvent(data) for data in messages] + events
        return self._decode_events(events)

    def _decode_events(self, events: list[ServerSentEvent]) -> list[T]:
        items: list[T] = []
        raw: list[bytes] = []
        self._batch_json = raw
        decode = self._decoder.decode
        for event in events:
            data = event.data
            if data == _DONE:
                self._finished = True
                break
            error: Exception | None = None
            if event.event == "error":
                error = self._stream_error(data)
            elif not data:
                continue  # an empty data: event is a keep-alive, not a chunk
            else:
                try:
                    items.append(decode(data))
                    raw.append(data)
                except (msgspec.DecodeError, RecursionError) as exc:
                    error = self._invalid_chunk(data, exc)
                    error.__cause__ = exc
            if error is not None:
                if not items:
                    raise error
                # Hand over the chunks that came before the error first; raise it on the next read.
                self._pending_error = error
                break
        return items

    def _stream_error(self, data: bytes) -> APIStreamError:
        body = _loads(data)
        message = error_message_from_body(data, body) or "The server reported an error during the stream."
        self._closed_after_error()
        return APIStreamError(message, method=self._method, url=self._url, body=body)

    def _invalid_chunk(self, data: bytes, exc: Exception) -> Exception:
        body = _loads(data)
        self._closed_after_error()
        message = error_message_from_body(data, body)
        if message is not None and b'"error"' in data:
            return APIStreamError(message, method=self._method, url=self._url, body=body)
        what = (
            "is JSON nested too deeply to decode"
            if isinstance(exc, RecursionError)
            else f"did not match its type: {exc}"
        )
        return APIResponseValidationError(
            f"A stream chunk {what}",
            malformed=isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError),
            status_code=self.response.status,
            method=self._method,
            url=self._url,
            body=body,
        )

    def _closed_after_error(self) -> None:
        self._closed = True
        self.response.close()


def _loads(data: bytes) -> object:
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return data.decode("utf-8", "replace")
