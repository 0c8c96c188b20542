"""Anthropic Messages types (``/ai/anthropic/v1/messages``), named as the anthropic SDK names them: the
`Message`, its content blocks, and the events of its stream, a union tagged by ``type``
(`RawMessageStreamEvent`).

The spec leaves both replies free-form; these follow Anthropic's documented shapes. Fields the server
may leave out have defaults; unknown fields are ignored. Each event, block and delta class has its
``type`` as a class attribute, so ``event.type == "content_block_delta"`` narrows the union.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeAlias, get_args

import msgspec

from .._models import APIResponse, BaseModel
from .stream_events import UnknownEvent, UnknownItem, with_unknown_items

__all__ = [
    "MESSAGE_EVENT_TYPES",
    "ContentBlock",
    "ErrorObject",
    "InputJSONDelta",
    "KnownMessageStreamEvent",
    "Message",
    "MessageDelta",
    "MessageDeltaUsage",
    "PingEvent",
    "RawContentBlockDelta",
    "RawContentBlockDeltaEvent",
    "RawContentBlockStartEvent",
    "RawContentBlockStopEvent",
    "RawErrorEvent",
    "RawMessageDeltaEvent",
    "RawMessageStartEvent",
    "RawMessageStopEvent",
    "RawMessageStreamEvent",
    "RedactedThinkingBlock",
    "SignatureDelta",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolUseBlock",
    "UnknownEvent",
    "Usage",
]

# -- the message and its content ------------------------------------------------------------------


class TextBlock(BaseModel, tag_field="type", tag="text"):
    type: ClassVar[Literal["text"]] = "text"
    text: str
    citations: list[dict[str, Any]] | None = None


class ToolUseBlock(BaseModel, tag_field="type", tag="tool_use"):
    """A call of one of your tools: run it, then answer with a ``tool_result`` block (``tool_use_id=id``)
    in the next user message."""

    type: ClassVar[Literal["tool_use"]] = "tool_use"
    id: str
    name: str
    input: dict[str, Any] = {}

    def to_param(self) -> dict[str, Any]:
        """This block as an assistant message's content takes it back."""
        return {"type": "tool_use", "id": self.id, "name": self.name, "input": self.input}


class ThinkingBlock(BaseModel, tag_field="type", tag="thinking"):
    type: ClassVar[Literal["thinking"]] = "thinking"
    thinking: str
    signature: str = ""


class RedactedThinkingBlock(BaseModel, tag_field="type", tag="redacted_thinking"):
    type: ClassVar[Literal["redacted_thinking"]] = "redacted_thinking"
    data: str


ContentBlock: TypeAlias = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock | UnknownItem
"""One block of `Message.content` (`UnknownItem` for a block of a type this version does not know)."""


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    server_tool_use: dict[str, Any] | None = None
    service_tier: str | None = None


def _sent_back(block: BaseModel) -> dict[str, Any]:
    """A content block as a request takes it back: the fields it holds (a null is left out, not sent)."""
    return {key: value for key, value in block.to_dict().items() if value is not None}


class Message(APIResponse):
    """A model's reply: ``message.content`` blocks, ``stop_reason`` and ``usage``."""

    id: str = ""
    type: str = "message"
    role: str = "assistant"
    model: str | None = None
    content: list[ContentBlock] = []
    stop_reason: str | None = None
    """``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``, ``pause_turn`` or ``refusal``."""
    stop_sequence: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)

    @classmethod
    def decode_leniently(cls, raw: bytes) -> Message:
        """``raw`` decoded with each content block of an unknown type as an `UnknownItem` (after a failed decode)."""
        known = {"text", "tool_use", "thinking", "redacted_thinking"}
        return msgspec.convert(with_unknown_items(raw, "content", known), cls)

    def to_param(self) -> dict[str, Any]:
        """This reply as the next request's ``messages`` takes it back (an assistant message)."""
        blocks = [block.data if isinstance(block, UnknownItem) else _sent_back(block) for block in self.content]
        return {"role": self.role, "content": blocks}


# -- the events of a streamed message ---------------------------------------------------------------


class TextDelta(BaseModel, tag_field="type", tag="text_delta"):
    type: ClassVar[Literal["text_delta"]] = "text_delta"
    text: str


class InputJSONDelta(BaseModel, tag_field="type", tag="input_json_delta"):
    """A piece of a ``tool_use`` block's ``input``, as JSON text: the pieces joined are the whole input."""

    type: ClassVar[Literal["input_json_delta"]] = "input_json_delta"
    partial_json: str


class ThinkingDelta(BaseModel, tag_field="type", tag="thinking_delta"):
    type: ClassVar[Literal["thinking_delta"]] = "thinking_delta"
    thinking: str


class SignatureDelta(BaseModel, tag_field="type", tag="signature_delta"):
    type: ClassVar[Literal["signature_delta"]] = "signature_delta"
    signature: str


class CitationsDelta(BaseModel, tag_field="type", tag="citations_delta"):
    type: ClassVar[Literal["citations_delta"]] = "citations_delta"
    citation: dict[str, Any]


RawContentBlockDelta: TypeAlias = TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta | CitationsDelta


class MessageDelta(BaseModel):
    stop_reason: str | None = None
    stop_sequence: str | None = None


class MessageDeltaUsage(BaseModel):
    """The usage so far: ``output_tokens`` always; the input counts when the server updates them."""

    output_tokens: int = 0
    input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    server_tool_use: dict[str, Any] | None = None


class ErrorObject(BaseModel):
    type: str = "api_error"
    message: str = ""


class RawMessageStartEvent(BaseModel, tag_field="type", tag="message_start"):
    """The first event: the message with empty content and its usage so far."""

    type: ClassVar[Literal["message_start"]] = "message_start"
    message: Message


class RawContentBlockStartEvent(BaseModel, tag_field="type", tag="content_block_start"):
    type: ClassVar[Literal["content_block_start"]] = "content_block_start"
    index: int
    content_block: ContentBlock


class RawContentBlockDeltaEvent(BaseModel, tag_field="type", tag="content_block_delta"):
    """A piece of block ``index``: text, tool input JSON, thinking or a signature."""

    type: ClassVar[Literal["content_block_delta"]] = "content_block_delta"
    index: int
    delta: RawContentBlockDelta


class RawContentBlockStopEvent(BaseModel, tag_field="type", tag="content_block_stop"):
    type: ClassVar[Literal["content_block_stop"]] = "content_block_stop"
    index: int


class RawMessageDeltaEvent(BaseModel, tag_field="type", tag="message_delta"):
    """Near the end: the ``stop_reason`` and the final usage."""

    type: ClassVar[Literal["message_delta"]] = "message_delta"
    delta: MessageDelta
    usage: MessageDeltaUsage = msgspec.field(default_factory=MessageDeltaUsage)


class RawMessageStopEvent(BaseModel, tag_field="type", tag="message_stop"):
    """The last event of a complete message."""

    type: ClassVar[Literal["message_stop"]] = "message_stop"


class PingEvent(BaseModel, tag_field="type", tag="ping"):
    """A keep-alive: it carries nothing, and does not count against ``Timeout.stream_idle``."""

    type: ClassVar[Literal["ping"]] = "ping"


class RawErrorEvent(BaseModel, tag_field="type", tag="error"):
    """An error in the stream (``overloaded_error``...): the stream raises `APIStreamError` with its
    ``error.type`` as ``error_type``."""

    type: ClassVar[Literal["error"]] = "error"
    error: ErrorObject


KnownMessageStreamEvent: TypeAlias = (
    RawMessageStartEvent
    | RawContentBlockStartEvent
    | RawContentBlockDeltaEvent
    | RawContentBlockStopEvent
    | RawMessageDeltaEvent
    | RawMessageStopEvent
    | PingEvent
    | RawErrorEvent
)

RawMessageStreamEvent: TypeAlias = KnownMessageStreamEvent | UnknownEvent
"""One event of ``messages(..., stream=True)``: a known event class, or `UnknownEvent`."""

MESSAGE_EVENT_TYPES: frozenset[str] = frozenset(str(cls.type) for cls in get_args(KnownMessageStreamEvent))
"""The ``type`` of every event class above."""
