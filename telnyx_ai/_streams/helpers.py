"""What every stream offers beyond its events, whatever its protocol: the text, the final reply, a relay.

`StreamHelpers` is the base of `AsyncStream` (``stream.py`` reads, decodes and closes; this module only
uses `next_batch`, the protocol and its accumulator). The final reply has one name per protocol a stream
of this package speaks, typed for it; `StreamHelpers.get_final` is the same for any protocol.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, Generic, TypeVar, cast

from .._errors import TelnyxError
from .._models import APIResponse
from ..types.anthropic import Message, RawMessageStreamEvent
from ..types.assistant_chat import AssistantChatDone, AssistantChatEvent
from ..types.chat import ChatCompletion, ChatCompletionChunk
from ..types.responses import Response, ResponseStreamEvent
from .protocol import Accumulator, StreamProtocol
from .relay import DEFAULT_HEARTBEAT, relay

__all__ = ["StreamHelpers"]

T = TypeVar("T")


class StreamHelpers(Generic[T]):
    """The helpers of `AsyncStream`; it provides the state and the reading they use."""

    _protocol: StreamProtocol[T]
    _accumulator: Accumulator[T] | None
    _batch_json: list[bytes]
    _finished: bool
    _pausable: bool

    # Provided by AsyncStream (the only subclass); declared here so the helpers type-check on their own.
    # Not an ABC: ABCMeta would put its isinstance check on every stream's hot path.
    async def next_batch(self) -> list[T] | None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    @property
    def request_id(self) -> str | None:
        raise NotImplementedError

    @property
    def text_stream(self) -> AsyncGenerator[str, None]:
        """The reply's text deltas as they arrive, empty ones skipped (chat: the first choice's content;
        Responses: output text; Anthropic: text blocks; assistant chat: the deltas)."""
        return self._texts()

    async def _texts(self) -> AsyncGenerator[str, None]:
        texts = self._require_accumulator().texts
        while (batch := await self.next_batch()) is not None:
            for text in texts(batch):
                yield text
            del batch  # not held while the next read waits, as in `AsyncStream._iterate`

    async def get_final_text(self) -> str:
        """Read the rest of the stream; the reply's whole text (``""`` if it had none; chat: the first choice's)."""
        return (await self._read_to_end()).final_text()

    def to_sse(self, heartbeat: float | None = DEFAULT_HEARTBEAT) -> AsyncGenerator[bytes, None]:
        """The stream as Server-Sent Events for a browser, ready for any streaming HTTP response.

        Each event goes out in its protocol's framing (``data: <json>``, the API's own bytes, after an
        ``event: <type>`` line for Responses and Anthropic), a ``: ping`` comment after ``heartbeat``
        seconds of upstream silence (None: never), and the last frame is either the protocol's end
        (``data: [DONE]`` for chat, its own last event for the others) or ``event: error`` (for chat
        ``{"error": {"message", "type", "retryable"}}``; for the others their own error event's shape,
        with ``retryable``). Send it with the headers in `SSE_RELAY_HEADERS`. Closing the iterator (as
        frameworks do when the browser goes away) closes the upstream connection at once.
        """
        # The relay's heartbeat cancels its reads to send pings: pauses, not an abandoned stream.
        self._pausable = True
        return relay(
            self.next_batch,
            self.close,
            heartbeat,
            frames=self._frames,
            end=self._end_frame,
            failed=self._protocol.error_frame,
        )

    def _end_frame(self) -> bytes:
        """What a relay sends after the stream's end: nothing when its protocol's last event ended it."""
        accumulator = self._accumulator
        return b"" if accumulator is not None and accumulator.ended else self._protocol.end_frame

    def _frames(self, batch: list[T]) -> bytes:
        return self._protocol.frames(batch, self._batch_json)

    async def _final(self) -> Any:
        return (await self._read_to_end()).final()

    async def _read_to_end(self) -> Accumulator[T]:
        accumulator = self._require_accumulator()
        while await self.next_batch() is not None:
            pass
        if not self._finished:
            raise TelnyxError(
                "The stream was closed before it finished, so its reply is incomplete; "
                "read it to the end before asking for the final reply."
            )
        return accumulator

    def _require_accumulator(self) -> Accumulator[T]:
        if self._accumulator is None:
            raise TelnyxError(f"A stream of {self._protocol.name}s has no text or final reply to assemble.")
        return self._accumulator

    def _with_request_id(self, reply: Any) -> Any:
        vars(reply)["_request_id"] = self.request_id  # the stream's id, as a parsed reply would carry
        return reply

    # -- the final reply: any protocol's, then each one's typed ----------------------------------

    async def get_final(self) -> object:
        """Read the rest of the stream; the whole reply its events add up to, whatever its protocol (the
        methods below are the same, typed for each protocol a stream of this package may speak)."""
        final = await self._final()
        return self._with_request_id(final) if isinstance(final, APIResponse) else final

    async def get_final_completion(self: StreamHelpers[ChatCompletionChunk]) -> ChatCompletion:
        """Read the rest of the stream; the `ChatCompletion` every chunk (also those already read) adds up to.

        Tool calls are merged by index, content and ``reasoning_content`` joined, ``usage`` kept.
        A stream that was closed or failed before ``[DONE]`` raises rather than return a short reply.
        """
        return cast(ChatCompletion, self._with_request_id(await self._final()))

    async def get_final_response(self: StreamHelpers[ResponseStreamEvent]) -> Response:
        """Read the rest of the stream; the `Response` its events add up to: the ``response.completed``
        (or ``failed``, ``incomplete``) payload, its output assembled from the events where the server left it out."""
        return cast(Response, self._with_request_id(await self._final()))

    async def get_final_message(self: StreamHelpers[RawMessageStreamEvent]) -> Message:
        """Read the rest of the stream; the Anthropic `Message` its events add up to: content blocks rebuilt
        (each ``tool_use`` block's ``input`` parsed from its JSON fragments), ``stop_reason``, ``usage``."""
        return cast(Message, self._with_request_id(await self._final()))

    async def get_final_answer(self: StreamHelpers[AssistantChatEvent]) -> AssistantChatDone:
        """Read the rest of the stream; the assistant's ``done`` event: the whole reply (the deltas joined
        when the event leaves it out) and any ``whatsapp_template``."""
        return cast(AssistantChatDone, await self._final())
