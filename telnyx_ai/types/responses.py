"""OpenAI Responses types (``/ai/openai/responses``), named as openai-python names them: the `Response`,
its output items, and the events of its stream, a union tagged by ``type`` (`ResponseStreamEvent`).

The spec leaves both replies free-form; these follow OpenAI's documented shapes. Fields the server may
leave out have defaults; unknown fields are ignored. Each event class has its ``type`` as a class
attribute, so ``event.type == "response.output_text.delta"`` narrows the union as in openai-python.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeAlias, get_args

import msgspec

from .._models import APIResponse, BaseModel
from .stream_events import UnknownEvent, UnknownItem, with_unknown_items

__all__ = [
    "RESPONSE_EVENT_TYPES",
    "KnownResponseEvent",
    "Response",
    "ResponseCompletedEvent",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreatedEvent",
    "ResponseError",
    "ResponseErrorEvent",
    "ResponseFailedEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseFunctionToolCall",
    "ResponseInProgressEvent",
    "ResponseIncompleteDetails",
    "ResponseIncompleteEvent",
    "ResponseInputTokensDetails",
    "ResponseOutputItem",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseOutputMessage",
    "ResponseOutputRefusal",
    "ResponseOutputText",
    "ResponseOutputTokensDetails",
    "ResponseQueuedEvent",
    "ResponseReasoningItem",
    "ResponseReasoningSummaryPartAddedEvent",
    "ResponseReasoningSummaryPartDoneEvent",
    "ResponseReasoningSummaryTextDeltaEvent",
    "ResponseReasoningSummaryTextDoneEvent",
    "ResponseReasoningText",
    "ResponseReasoningTextDeltaEvent",
    "ResponseReasoningTextDoneEvent",
    "ResponseRefusalDeltaEvent",
    "ResponseRefusalDoneEvent",
    "ResponseStreamEvent",
    "ResponseSummaryText",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseUsage",
    "UnknownEvent",
]

# -- the response and its output -----------------------------------------------------------------


class ResponseOutputText(BaseModel, tag_field="type", tag="output_text"):
    """A run of the model's text in a message."""

    type: ClassVar[Literal["output_text"]] = "output_text"
    text: str
    annotations: list[dict[str, Any]] = []
    logprobs: list[dict[str, Any]] | None = None


class ResponseOutputRefusal(BaseModel, tag_field="type", tag="refusal"):
    """The model's refusal to answer, in place of text."""

    type: ClassVar[Literal["refusal"]] = "refusal"
    refusal: str


class ResponseReasoningText(BaseModel, tag_field="type", tag="reasoning_text"):
    """A run of the model's reasoning (the content of a reasoning item, or a content part while streaming)."""

    type: ClassVar[Literal["reasoning_text"]] = "reasoning_text"
    text: str


class ResponseSummaryText(BaseModel, tag_field="type", tag="summary_text"):
    """A part of a reasoning item's summary."""

    type: ClassVar[Literal["summary_text"]] = "summary_text"
    text: str


ContentPart: TypeAlias = ResponseOutputText | ResponseOutputRefusal | ResponseReasoningText


class ResponseOutputMessage(BaseModel, tag_field="type", tag="message"):
    """An assistant message: its ``content`` is text and refusal parts."""

    type: ClassVar[Literal["message"]] = "message"
    id: str
    role: str = "assistant"
    status: str | None = None
    content: list[ResponseOutputText | ResponseOutputRefusal] = []


class ResponseFunctionToolCall(BaseModel, tag_field="type", tag="function_call"):
    """A call of one of your functions: run it, then send its result back as a ``function_call_output``
    input item with the same ``call_id``. ``arguments`` is JSON text (decode it with ``json.loads``)."""

    type: ClassVar[Literal["function_call"]] = "function_call"
    call_id: str
    name: str
    arguments: str = ""
    id: str | None = None
    status: str | None = None

    def to_param(self) -> dict[str, Any]:
        """This call as an input item of the next request (before its ``function_call_output``)."""
        item: dict[str, Any] = {
            "type": "function_call",
            "call_id": self.call_id,
            "name": self.name,
            "arguments": self.arguments,
        }
        if self.id is not None:
            item["id"] = self.id
        return item


class ResponseReasoningItem(BaseModel, tag_field="type", tag="reasoning"):
    """The model's reasoning: a ``summary`` and, where the server sends it, the reasoning text itself."""

    type: ClassVar[Literal["reasoning"]] = "reasoning"
    id: str
    summary: list[ResponseSummaryText] = []
    content: list[ResponseReasoningText] | None = None
    encrypted_content: str | None = None
    status: str | None = None


ResponseOutputItem: TypeAlias = ResponseOutputMessage | ResponseFunctionToolCall | ResponseReasoningItem | UnknownItem
"""One item of `Response.output`: a message, a function call, reasoning, or an item of a type this
version does not know (`UnknownItem`)."""


class ResponseInputTokensDetails(BaseModel):
    cached_tokens: int = 0


class ResponseOutputTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class ResponseUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: ResponseInputTokensDetails | None = None
    output_tokens_details: ResponseOutputTokensDetails | None = None


class ResponseError(BaseModel):
    """Why a response failed (``status == "failed"``)."""

    code: str | None = None
    message: str = ""


class ResponseIncompleteDetails(BaseModel):
    """Why a response stopped early (``status == "incomplete"``), such as ``max_output_tokens``."""

    reason: str | None = None


class Response(APIResponse):
    """A model's response: ``response.output_text``, or each of ``response.output``."""

    id: str = ""
    object: str = "response"
    created_at: float | None = None
    model: str | None = None
    status: str | None = None
    """``completed``, ``failed``, ``incomplete``, ``in_progress``, ``queued`` or ``cancelled``."""
    output: list[ResponseOutputItem] = []
    usage: ResponseUsage | None = None
    error: ResponseError | None = None
    incomplete_details: ResponseIncompleteDetails | None = None
    instructions: str | list[dict[str, Any]] | None = None
    metadata: dict[str, str] | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    tool_choice: str | dict[str, Any] | None = None
    tools: list[dict[str, Any]] = []
    previous_response_id: str | None = None
    conversation: dict[str, Any] | None = None

    @classmethod
    def decode_leniently(cls, raw: bytes) -> Response:
        """``raw`` decoded with each output item of an unknown type as an `UnknownItem` (after a failed decode)."""
        known = {"message", "function_call", "reasoning"}
        return msgspec.convert(with_unknown_items(raw, "output", known), cls)

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message in ``output``, joined."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, ResponseOutputMessage)
            for part in item.content
            if isinstance(part, ResponseOutputText)
        )


# -- the events of a streamed response --------------------------------------------------------------


class _ResponseEvent(BaseModel, tag_field="type", kw_only=True):
    sequence_number: int | None = None


class ResponseCreatedEvent(_ResponseEvent, tag="response.created"):
    type: ClassVar[Literal["response.created"]] = "response.created"
    response: Response


class ResponseQueuedEvent(_ResponseEvent, tag="response.queued"):
    type: ClassVar[Literal["response.queued"]] = "response.queued"
    response: Response


class ResponseInProgressEvent(_ResponseEvent, tag="response.in_progress"):
    type: ClassVar[Literal["response.in_progress"]] = "response.in_progress"
    response: Response


class ResponseCompletedEvent(_ResponseEvent, tag="response.completed"):
    """The last event of a response that finished: the whole `Response`."""

    type: ClassVar[Literal["response.completed"]] = "response.completed"
    response: Response


class ResponseFailedEvent(_ResponseEvent, tag="response.failed"):
    """The last event of a response that failed: its ``response.error`` says why."""

    type: ClassVar[Literal["response.failed"]] = "response.failed"
    response: Response


class ResponseIncompleteEvent(_ResponseEvent, tag="response.incomplete"):
    """The last event of a response that stopped early: its ``response.incomplete_details`` say why."""

    type: ClassVar[Literal["response.incomplete"]] = "response.incomplete"
    response: Response


class ResponseOutputItemAddedEvent(_ResponseEvent, tag="response.output_item.added"):
    type: ClassVar[Literal["response.output_item.added"]] = "response.output_item.added"
    output_index: int
    item: ResponseOutputItem


class ResponseOutputItemDoneEvent(_ResponseEvent, tag="response.output_item.done"):
    type: ClassVar[Literal["response.output_item.done"]] = "response.output_item.done"
    output_index: int
    item: ResponseOutputItem


class ResponseContentPartAddedEvent(_ResponseEvent, tag="response.content_part.added"):
    type: ClassVar[Literal["response.content_part.added"]] = "response.content_part.added"
    item_id: str
    output_index: int
    content_index: int
    part: ContentPart


class ResponseContentPartDoneEvent(_ResponseEvent, tag="response.content_part.done"):
    type: ClassVar[Literal["response.content_part.done"]] = "response.content_part.done"
    item_id: str
    output_index: int
    content_index: int
    part: ContentPart


class ResponseTextDeltaEvent(_ResponseEvent, tag="response.output_text.delta"):
    """A piece of a message's text: ``event.delta``."""

    type: ClassVar[Literal["response.output_text.delta"]] = "response.output_text.delta"
    item_id: str
    output_index: int
    content_index: int
    delta: str
    logprobs: list[dict[str, Any]] | None = None


class ResponseTextDoneEvent(_ResponseEvent, tag="response.output_text.done"):
    type: ClassVar[Literal["response.output_text.done"]] = "response.output_text.done"
    item_id: str
    output_index: int
    content_index: int
    text: str


class ResponseRefusalDeltaEvent(_ResponseEvent, tag="response.refusal.delta"):
    type: ClassVar[Literal["response.refusal.delta"]] = "response.refusal.delta"
    item_id: str
    output_index: int
    content_index: int
    delta: str


class ResponseRefusalDoneEvent(_ResponseEvent, tag="response.refusal.done"):
    type: ClassVar[Literal["response.refusal.done"]] = "response.refusal.done"
    item_id: str
    output_index: int
    content_index: int
    refusal: str


class ResponseFunctionCallArgumentsDeltaEvent(_ResponseEvent, tag="response.function_call_arguments.delta"):
    """A piece of a function call's JSON arguments."""

    type: ClassVar[Literal["response.function_call_arguments.delta"]] = "response.function_call_arguments.delta"
    item_id: str
    output_index: int
    delta: str


class ResponseFunctionCallArgumentsDoneEvent(_ResponseEvent, tag="response.function_call_arguments.done"):
    type: ClassVar[Literal["response.function_call_arguments.done"]] = "response.function_call_arguments.done"
    item_id: str
    output_index: int
    arguments: str
    name: str | None = None


class ResponseReasoningSummaryPartAddedEvent(_ResponseEvent, tag="response.reasoning_summary_part.added"):
    type: ClassVar[Literal["response.reasoning_summary_part.added"]] = "response.reasoning_summary_part.added"
    item_id: str
    output_index: int
    summary_index: int
    part: ResponseSummaryText


class ResponseReasoningSummaryPartDoneEvent(_ResponseEvent, tag="response.reasoning_summary_part.done"):
    type: ClassVar[Literal["response.reasoning_summary_part.done"]] = "response.reasoning_summary_part.done"
    item_id: str
    output_index: int
    summary_index: int
    part: ResponseSummaryText


class ResponseReasoningSummaryTextDeltaEvent(_ResponseEvent, tag="response.reasoning_summary_text.delta"):
    type: ClassVar[Literal["response.reasoning_summary_text.delta"]] = "response.reasoning_summary_text.delta"
    item_id: str
    output_index: int
    summary_index: int
    delta: str


class ResponseReasoningSummaryTextDoneEvent(_ResponseEvent, tag="response.reasoning_summary_text.done"):
    type: ClassVar[Literal["response.reasoning_summary_text.done"]] = "response.reasoning_summary_text.done"
    item_id: str
    output_index: int
    summary_index: int
    text: str


class ResponseReasoningTextDeltaEvent(_ResponseEvent, tag="response.reasoning_text.delta"):
    type: ClassVar[Literal["response.reasoning_text.delta"]] = "response.reasoning_text.delta"
    item_id: str
    output_index: int
    content_index: int
    delta: str


class ResponseReasoningTextDoneEvent(_ResponseEvent, tag="response.reasoning_text.done"):
    type: ClassVar[Literal["response.reasoning_text.done"]] = "response.reasoning_text.done"
    item_id: str
    output_index: int
    content_index: int
    text: str


class ResponseErrorEvent(_ResponseEvent, tag="error"):
    """An error in the stream: the stream raises `APIStreamError` with its ``code`` as ``error_type``."""

    type: ClassVar[Literal["error"]] = "error"
    message: str = ""
    code: str | None = None
    param: str | None = None


KnownResponseEvent: TypeAlias = (
    ResponseCreatedEvent
    | ResponseQueuedEvent
    | ResponseInProgressEvent
    | ResponseCompletedEvent
    | ResponseFailedEvent
    | ResponseIncompleteEvent
    | ResponseOutputItemAddedEvent
    | ResponseOutputItemDoneEvent
    | ResponseContentPartAddedEvent
    | ResponseContentPartDoneEvent
    | ResponseTextDeltaEvent
    | ResponseTextDoneEvent
    | ResponseRefusalDeltaEvent
    | ResponseRefusalDoneEvent
    | ResponseFunctionCallArgumentsDeltaEvent
    | ResponseFunctionCallArgumentsDoneEvent
    | ResponseReasoningSummaryPartAddedEvent
    | ResponseReasoningSummaryPartDoneEvent
    | ResponseReasoningSummaryTextDeltaEvent
    | ResponseReasoningSummaryTextDoneEvent
    | ResponseReasoningTextDeltaEvent
    | ResponseReasoningTextDoneEvent
    | ResponseErrorEvent
)

ResponseStreamEvent: TypeAlias = KnownResponseEvent | UnknownEvent
"""One event of ``create_response(..., stream=True)``: a known event class, or `UnknownEvent`."""

RESPONSE_EVENT_TYPES: frozenset[str] = frozenset(str(cls.type) for cls in get_args(KnownResponseEvent))
"""The ``type`` of every event class above."""
