"""`Stream`, the blocking form of `AsyncStream`, and `iterate` for any other async iterator."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Generator, Iterator
from types import AsyncGeneratorType, TracebackType
from typing import Final, Generic, TypeVar, cast

from .._bridge import Bridge
from .._errors import TelnyxError
from ..types.anthropic import Message, RawMessageStreamEvent
from ..types.assistant_chat import AssistantChatDone, AssistantChatEvent
from ..types.chat import ChatCompletion, ChatCompletionChunk
from ..types.responses import Response, ResponseStreamEvent
from .relay import DEFAULT_HEARTBEAT
from .stream import AsyncStream

__all__ = ["Stream", "iterate", "stream_or_value"]

T = TypeVar("T")
V = TypeVar("V")


def _iterate(bridge: Bridge, stream: AsyncStream[T]) -> Generator[T, None, None]:
    # One trip to the loop thread per batch (`AsyncStream.next_batch`: up to 64 chunks), not per chunk.
    read = stream.next_batch
    call = bridge.call
    while (batch := call(read)) is not None:
        yield from batch


def _texts(bridge: Bridge, stream: AsyncStream[T]) -> Generator[str, None, None]:
    texts = stream._require_accumulator().texts  # pyright: ignore[reportPrivateUsage]
    read = stream.next_batch
    call = bridge.call
    while (batch := call(read)) is not None:
        yield from texts(batch)


class Stream(Generic[T]):
    """The chunks of a streamed response, as a plain iterator:

    ```python
    with client.ai.chat.create_completion(messages=[...], stream=True) as stream:
        for chunk in stream:
            print(chunk.choices[0].delta.content or "", end="")
    ```

    Leaving the ``with`` block (or ``contextlib.closing(stream)``, or calling `close`) early drops the
    connection. A stream that is simply abandoned has its connection dropped when it is garbage
    collected. Errors are the same as `AsyncStream`'s, and so are the helpers (``text_stream``,
    `get_final_text`, `to_sse`, and each protocol's final reply), without ``await``.
    """

    __slots__ = ("__weakref__", "_async", "_bridge", "_finalizer", "_iterator")

    def __init__(self, bridge: Bridge, stream: AsyncStream[T]) -> None:
        self._bridge = bridge
        self._async = stream
        self._iterator = _iterate(bridge, stream)
        self._finalizer = weakref.finalize(self, bridge.call_soon, stream.close)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        return next(self._iterator)

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._async).replace("<AsyncStream", "<Stream", 1)

    @property
    def request_id(self) -> str | None:
        """The server's id for this request (its ``x-request-id`` header)."""
        return self._async.request_id

    @property
    def closed(self) -> bool:
        """True once the stream was closed or read to its end."""
        return self._async.closed

    @property
    def text_stream(self) -> Iterator[str]:
        """The reply's text deltas as they arrive, empty ones skipped (see `AsyncStream.text_stream`)."""
        return _texts(self._bridge, self._async)

    def get_final_text(self) -> str:
        """Read the rest of the stream; the reply's whole text (``""`` if it had none; chat: the first choice's)."""
        return self._bridge.call(self._async.get_final_text)

    def get_final(self) -> object:
        """Read the rest of the stream; the whole reply its events add up to, whatever its protocol."""
        return self._bridge.call(self._async.get_final)

    def get_final_completion(self: Stream[ChatCompletionChunk]) -> ChatCompletion:
        """Read the rest of the stream; the `ChatCompletion` every chunk (also those already read) adds up to."""
        return self._bridge.call(self._async.get_final_completion)

    def get_final_response(self: Stream[ResponseStreamEvent]) -> Response:
        """Read the rest of the stream; the `Response` its events add up to (see `AsyncStream.get_final_response`)."""
        return self._bridge.call(self._async.get_final_response)

    def get_final_message(self: Stream[RawMessageStreamEvent]) -> Message:
        """Read the rest of the stream; the Anthropic `Message` its events add up to."""
        return self._bridge.call(self._async.get_final_message)

    def get_final_answer(self: Stream[AssistantChatEvent]) -> AssistantChatDone:
        """Read the rest of the stream; the assistant's ``done`` event, with the whole reply."""
        return self._bridge.call(self._async.get_final_answer)

    def to_sse(self, heartbeat: float | None = DEFAULT_HEARTBEAT) -> Generator[bytes, None, None]:
        """The stream as Server-Sent Events, for a WSGI framework's streaming response (see `AsyncStream.to_sse`).

        One trip to the loop thread per batch of chunks (or ping); closing the generator closes upstream.
        """
        return iterate(self._bridge, self._async.to_sse(heartbeat))

    def close(self) -> None:
        """Stop reading; an unfinished response's connection is dropped. Safe to call twice."""
        self._finalizer.detach()
        self._iterator.close()
        if not self._async.closed and not self._bridge.closed:
            self._bridge.call(self._async.close)


def stream_or_value(bridge: Bridge, value: AsyncStream[T] | V) -> Stream[T] | V:
    """``value`` with an `AsyncStream` wrapped as a `Stream` (for operations that may stream)."""
    if isinstance(value, AsyncStream):
        return Stream(bridge, value)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    return value


class _End:
    pass


_END: Final = _End()


async def _next(iterator: AsyncIterator[T]) -> T | _End:
    return await anext(iterator, _END)


async def _aclose(iterator: AsyncIterator[object]) -> None:
    if isinstance(iterator, AsyncGeneratorType):
        await cast("AsyncGeneratorType[object, None]", iterator).aclose()


def iterate(bridge: Bridge, iterator: AsyncIterator[T]) -> Generator[T, None, None]:
    """The items of an async iterator, one trip to the loop thread each.

    Closing the generator (``close()``, ``contextlib.closing``, or leaving a ``for`` loop early
    and dropping it) closes the async iterator on the loop, cancelling its pending work.
    """
    try:
        while not isinstance(item := bridge.call(_next, iterator), _End):
            yield item
    finally:
        try:
            bridge.call(_aclose, iterator)
        except TelnyxError:  # closed client, forked child, or collected on the loop thread itself
            bridge.call_soon(lambda: _aclose(iterator))
