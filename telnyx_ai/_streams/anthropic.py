"""The Anthropic Messages protocol (``PROTOCOL``): named events tagged by ``type`` from ``message_start`` to
``message_stop``; `MessageAccumulator` folds them into the `Message`.

Blocks are rebuilt in ``index`` order from their ``content_block_start``: text and thinking joined from
their deltas, a signature replaced by the latest, and a ``tool_use`` block's ``input`` parsed once from
its ``input_json_delta`` fragments joined (a block without fragments keeps the input it started with).
``stop_reason`` comes from ``message_delta``; usage from ``message_start``, then each count a
``message_delta`` carries replaces it (they are running totals).
"""

from __future__ import annotations

from typing import Any, Final, cast

import msgspec

from .._errors import APIResponseValidationError
from ..types.anthropic import (
    MESSAGE_EVENT_TYPES,
    ContentBlock,
    InputJSONDelta,
    KnownMessageStreamEvent,
    Message,
    PingEvent,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawErrorEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    RawMessageStreamEvent,
    SignatureDelta,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)
from ..types.stream_events import UnknownEvent
from .pieces import FOLD_AT, Pieces
from .protocol import Accumulator, TaggedEvents
from .relay import error_frame

__all__ = ["PROTOCOL", "MessageAccumulator", "MessagesProtocol"]


class _Block:
    """One content block being rebuilt: how it started and its pieces since."""

    __slots__ = ("pieces", "signature", "start")

    def __init__(self, start: ContentBlock) -> None:
        self.start = start
        self.pieces = Pieces()
        self.signature: str | None = None

    def result(self) -> ContentBlock:
        start = self.start
        if isinstance(start, TextBlock):
            return msgspec.structs.replace(start, text=start.text + self.pieces.text()) if self.pieces else start
        if isinstance(start, ToolUseBlock):
            if not self.pieces:
                return start
            text = self.pieces.text()
            try:
                parsed: object = msgspec.json.decode(text) if text.strip() else {}
            except msgspec.DecodeError as exc:
                raise APIResponseValidationError(
                    f"The input of tool_use block {start.name!r} ({start.id}) is not valid JSON: {exc}.",
                    status_code=200,
                    body=text,
                ) from exc
            if not isinstance(parsed, dict):
                raise APIResponseValidationError(
                    f"The input of tool_use block {start.name!r} ({start.id}) is not a JSON object.",
                    status_code=200,
                    body=text,
                )
            return msgspec.structs.replace(start, input=cast("dict[str, Any]", parsed))
        if isinstance(start, ThinkingBlock):
            signature = start.signature if self.signature is None else self.signature
            return msgspec.structs.replace(start, thinking=start.thinking + self.pieces.text(), signature=signature)
        return start


class MessageAccumulator(Accumulator[RawMessageStreamEvent]):
    """Adds up the events of a streamed message; `final` is the `Message` they make."""

    __slots__ = ("_blocks", "_message", "_stop_reason", "_stop_sequence", "_usage")

    def __init__(self) -> None:
        super().__init__()
        self._message: Message | None = None
        self._blocks: dict[int, _Block] = {}
        self._stop_reason: str | None = None
        self._stop_sequence: str | None = None
        self._usage: dict[str, Any] = {}

    def add(self, items: list[RawMessageStreamEvent]) -> int | None:
        blocks = self._blocks
        for event in items:
            if isinstance(event, RawContentBlockDeltaEvent):  # the usual event, first and inline
                block = blocks.get(event.index)
                if block is None:
                    continue  # a delta for a block that never started: nothing to add it to
                delta = event.delta
                recent = block.pieces.recent
                if isinstance(delta, TextDelta):
                    recent.append(delta.text)
                elif isinstance(delta, InputJSONDelta):
                    recent.append(delta.partial_json)
                elif isinstance(delta, ThinkingDelta):
                    recent.append(delta.thinking)
                elif isinstance(delta, SignatureDelta):
                    block.signature = delta.signature
                if len(recent) >= FOLD_AT:
                    block.pieces.fold()
                continue
            if isinstance(event, RawContentBlockStartEvent):
                blocks[event.index] = _Block(event.content_block)
            elif isinstance(event, RawMessageStartEvent):
                self._message = event.message
                self._usage = event.message.usage.to_dict()
            elif isinstance(event, RawMessageDeltaEvent):
                self._stop_reason = event.delta.stop_reason
                self._stop_sequence = event.delta.stop_sequence
                self._usage.update((k, v) for k, v in event.usage.to_dict().items() if v is not None)  # what it says
            elif isinstance(event, RawMessageStopEvent):
                self.ended = True
                return items.index(event) + 1
            elif isinstance(event, RawErrorEvent):
                self.failed = True
                return items.index(event)
        return None

    def texts(self, items: list[RawMessageStreamEvent]) -> list[str]:
        return [
            e.delta.text
            for e in items
            if isinstance(e, RawContentBlockDeltaEvent) and isinstance(e.delta, TextDelta) and e.delta.text
        ]

    def final(self) -> Message:
        start = self._message or Message(id="")
        usage = msgspec.convert({**start.usage.to_dict(), **self._usage}, Usage)
        return msgspec.structs.replace(
            start,
            content=[*start.content, *(self._blocks[index].result() for index in sorted(self._blocks))],
            stop_reason=self._stop_reason if self._stop_reason is not None else start.stop_reason,
            stop_sequence=self._stop_sequence if self._stop_sequence is not None else start.stop_sequence,
            usage=usage,
        )

    def final_text(self) -> str:
        return "".join(block.text for block in self.final().content if isinstance(block, TextBlock))


def _anthropic_error(message: str, kind: str, retryable: bool) -> Any:
    return {"type": "error", "error": {"type": kind, "message": message}, "retryable": retryable}


class MessagesProtocol(TaggedEvents[RawMessageStreamEvent]):
    """Anthropic Messages (``/ai/anthropic/v1/messages``)."""

    name = "Anthropic message event"
    end = "message_stop event"
    end_markers = (b'"message_stop"',)
    frequent_names = (b"content_block_delta",)

    def keepalive(self, items: list[RawMessageStreamEvent]) -> bool:
        return all(type(item) is PingEvent for item in items)

    def accumulator(self) -> MessageAccumulator:
        return MessageAccumulator()

    def error_frame(self, error: BaseException) -> bytes:
        return error_frame(error, _anthropic_error, upstream_types=True)


PROTOCOL: Final = MessagesProtocol(KnownMessageStreamEvent, MESSAGE_EVENT_TYPES, UnknownEvent)
