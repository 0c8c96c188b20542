"""Chat completion types, in the OpenAI shapes the endpoint follows (the spec leaves them free-form)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Literal, Required, TypeAlias, TypedDict, TypeVar, cast

import msgspec

from .._models import APIResponse, BaseModel

__all__ = [
    "ChatCompletion",
    "ChatCompletionAssistantMessageParam",
    "ChatCompletionChunk",
    "ChatCompletionContentPartImageParam",
    "ChatCompletionContentPartParam",
    "ChatCompletionContentPartTextParam",
    "ChatCompletionFunctionToolParam",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionMessageToolCallParam",
    "ChatCompletionNamedToolChoiceParam",
    "ChatCompletionRetrievalToolParam",
    "ChatCompletionStreamOptionsParam",
    "ChatCompletionSystemMessageParam",
    "ChatCompletionToolChoiceParam",
    "ChatCompletionToolMessageParam",
    "ChatCompletionToolParam",
    "ChatCompletionUserMessageParam",
    "ChatMessageParam",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCall",
    "ChunkChoice",
    "CompletionUsage",
    "FunctionCall",
    "FunctionCallParam",
    "FunctionDefinitionParam",
    "JSONSchemaParam",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ResponseFormatParam",
    "RetrievalParam",
    "tool_result",
]

ParsedT = TypeVar("ParsedT")

# -- what you send ------------------------------------------------------------------------
# One TypedDict per message role, so a checker catches a misspelled role, a tool message without its
# ``tool_call_id`` or an assistant tool call of the wrong shape. Sequences, not lists, where a caller
# passes one in: a ``list[ChatCompletionContentPartTextParam]`` is then a valid ``content``.


class ChatCompletionContentPartTextParam(TypedDict):
    """A piece of text in a message's ``content`` list: ``{"type": "text", "text": "..."}``."""

    type: Literal["text"]
    text: str


class ChatCompletionContentPartImageParam(TypedDict):
    """An image in a user message's ``content`` list: ``{"type": "image_url", "image_url": "https://..."}``."""

    type: Literal["image_url"]
    image_url: str
    """The image's URL (or a ``data:`` URL), as a plain string."""


ChatCompletionContentPartParam: TypeAlias = ChatCompletionContentPartTextParam | ChatCompletionContentPartImageParam
"""One part of a user message's ``content`` list: text or an image."""


class FunctionCallParam(TypedDict):
    """The function of a tool call sent back: its name and its arguments as a JSON string."""

    name: str
    arguments: str


class ChatCompletionMessageToolCallParam(TypedDict):
    """A tool call the model made, as an assistant message takes it back (`ChatCompletionMessageToolCall.to_param`)."""

    id: str
    type: Literal["function"]
    function: FunctionCallParam


class ChatCompletionSystemMessageParam(TypedDict, total=False):
    """Instructions for the model: ``{"role": "system", "content": "You are terse."}``."""

    role: Required[Literal["system"]]
    content: Required[str | Sequence[ChatCompletionContentPartTextParam]]
    name: str


class ChatCompletionUserMessageParam(TypedDict, total=False):
    """What the user said: ``{"role": "user", "content": "Hi"}`` (or a list of text and image parts)."""

    role: Required[Literal["user"]]
    content: Required[str | Sequence[ChatCompletionContentPartParam]]
    name: str


class ChatCompletionAssistantMessageParam(TypedDict, total=False):
    """A reply of the model's, sent back as history; ``content`` may be left out when it made ``tool_calls``.

    `ChatCompletionMessage.to_param` builds one from a reply.
    """

    role: Required[Literal["assistant"]]
    content: str | Sequence[ChatCompletionContentPartTextParam] | None
    name: str
    tool_calls: Sequence[ChatCompletionMessageToolCallParam]


class ChatCompletionToolMessageParam(TypedDict):
    """The result of a tool call, answering the call with id ``tool_call_id`` (`tool_result` builds one)."""

    role: Literal["tool"]
    content: str | Sequence[ChatCompletionContentPartTextParam]
    tool_call_id: str


ChatMessageParam: TypeAlias = (
    ChatCompletionSystemMessageParam
    | ChatCompletionUserMessageParam
    | ChatCompletionAssistantMessageParam
    | ChatCompletionToolMessageParam
)
"""One message of the conversation so far; its ``role`` says which of the four shapes it has."""


class FunctionDefinitionParam(TypedDict, total=False):
    """A function the model may call: its name, what it does, and its arguments' JSON schema."""

    name: Required[str]
    description: str
    parameters: dict[str, Any]


class ChatCompletionFunctionToolParam(TypedDict):
    """A function tool: ``{"type": "function", "function": {"name": "get_weather", "parameters": {...}}}``."""

    type: Literal["function"]
    function: FunctionDefinitionParam


class RetrievalParam(TypedDict, total=False):
    """Embedded storage buckets to search for context (retrieval-augmented generation)."""

    bucket_ids: Required[Sequence[str]]
    max_num_results: int


class ChatCompletionRetrievalToolParam(TypedDict):
    """Telnyx's retrieval tool: ``{"type": "retrieval", "retrieval": {"bucket_ids": ["my-bucket"]}}``."""

    type: Literal["retrieval"]
    retrieval: RetrievalParam


ChatCompletionToolParam: TypeAlias = ChatCompletionFunctionToolParam | ChatCompletionRetrievalToolParam
"""A tool the model may use: a function it may call, or buckets to retrieve context from."""


class _NamedFunctionParam(TypedDict):
    name: str


class ChatCompletionNamedToolChoiceParam(TypedDict):
    """Make the model call this one function: ``{"type": "function", "function": {"name": "get_weather"}}``."""

    type: Literal["function"]
    function: _NamedFunctionParam


ChatCompletionToolChoiceParam: TypeAlias = Literal["none", "auto", "required"] | ChatCompletionNamedToolChoiceParam
"""Whether and which tool the model calls: one of the three strings, or a named function."""


class JSONSchemaParam(TypedDict, total=False):
    """A named JSON schema the reply must follow (``response_format={"type": "json_schema", ...}``)."""

    name: Required[str]
    description: str
    schema: dict[str, Any]
    strict: bool


class ResponseFormatParam(TypedDict, total=False):
    """Constrain the reply: ``{"type": "json_object"}``, or ``{"type": "json_schema", "json_schema": {...}}``."""

    type: Required[Literal["text", "json_object", "json_schema"]]
    json_schema: JSONSchemaParam
    schema: dict[str, Any]


class ChatCompletionStreamOptionsParam(TypedDict, total=False):
    """Options of a streamed reply: ``{"include_usage": True}`` adds a last chunk with the token counts."""

    include_usage: bool


# -- what you get back ------------------------------------------------------------------------
# The contract leaves both replies free-form (any object), so no field is required when decoding: a
# missing one takes a default. Strings default to "", lists to [] and nested objects to an empty one,
# so typed code keeps openai-python's non-Optional attributes (``completion.id``,
# ``choice.message``); only what may really be absent (content, usage, finish_reason) is Optional.


class FunctionCall(BaseModel):
    """The function a tool call names, and its arguments as a JSON string (decode with ``json.loads``)."""

    name: str = ""
    arguments: str = ""


class ChatCompletionMessageToolCall(BaseModel):
    id: str = ""
    type: str = "function"
    function: FunctionCall = msgspec.field(default_factory=FunctionCall)

    def to_param(self) -> ChatCompletionMessageToolCallParam:
        """This call as it goes back in an assistant message's ``tool_calls``."""
        return {
            "id": self.id,
            "type": cast("Literal['function']", self.type),  # the only type there is; sent back as it came
            "function": {"name": self.function.name, "arguments": self.function.arguments},
        }


class ChatCompletionMessage(BaseModel):
    role: str = "assistant"
    content: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    reasoning_content: str | None = None

    def to_param(self) -> ChatCompletionAssistantMessageParam:
        """This message as the next request's ``messages`` takes it back, tool calls included.

        ``reasoning_content`` is left out: models expect their reasoning not to be sent back.
        """
        param: ChatCompletionAssistantMessageParam = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            param["tool_calls"] = [call.to_param() for call in self.tool_calls]
        return param


def tool_result(tool_call: ChatCompletionMessageToolCall, content: object) -> ChatCompletionToolMessageParam:
    """The ``tool`` message answering ``tool_call``; ``content`` that is not a str is sent as its JSON."""
    text = content if isinstance(content, str) else msgspec.json.encode(content).decode()
    return {"role": "tool", "tool_call_id": tool_call.id, "content": text}


class Choice(BaseModel):
    message: ChatCompletionMessage = msgspec.field(default_factory=ChatCompletionMessage)
    index: int = 0
    # A str, not an enum: the server may add reasons and old clients must still decode them.
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class CompletionUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(APIResponse):
    """A whole reply: ``completion.choices[0].message.content``."""

    id: str = ""
    object: str = "chat.completion"
    created: int | None = None
    model: str | None = None
    choices: list[Choice] = []
    usage: CompletionUsage | None = None


class ChoiceDeltaFunctionCall(BaseModel):
    """A fragment of a streamed tool call's function: join the ``arguments`` of every fragment."""

    name: str | None = None
    arguments: str | None = None


class ChoiceDeltaToolCall(BaseModel):
    index: int = 0
    id: str | None = None
    type: str | None = None
    function: ChoiceDeltaFunctionCall | None = None


class ChoiceDelta(BaseModel):
    role: str | None = None
    content: str | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None
    reasoning_content: str | None = None


class ChunkChoice(BaseModel):
    delta: ChoiceDelta = msgspec.field(default_factory=ChoiceDelta)
    index: int = 0
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class ChatCompletionChunk(BaseModel):
    """One piece of a streamed reply: ``chunk.choices[0].delta.content``.

    ``choices`` is required (a usage-only chunk sends ``[]``): an event without it is not a chunk, and
    the stream reads it as what it is, such as ``{"error": {...}}`` (the contract has no chunk schema)."""

    choices: list[ChunkChoice]
    id: str | None = None
    object: str = "chat.completion.chunk"
    created: int | None = None
    model: str | None = None
    usage: CompletionUsage | None = None


# -- structured output (``client.ai.chat.parse``) ------------------------------------------------------


class ParsedChatCompletionMessage(ChatCompletionMessage, Generic[ParsedT]):
    """A message whose content was decoded into the requested type: ``message.parsed``."""

    parsed: ParsedT | None = None


class ParsedChoice(BaseModel, Generic[ParsedT]):
    message: ParsedChatCompletionMessage[ParsedT] = msgspec.field(default_factory=ParsedChatCompletionMessage[Any])
    index: int = 0
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class ParsedChatCompletion(BaseModel, Generic[ParsedT]):
    """What ``client.ai.chat.parse`` returns: ``completion.choices[0].message.parsed``."""

    id: str | None = None
    object: str = "chat.completion"
    created: int | None = None
    model: str | None = None
    choices: list[ParsedChoice[ParsedT]] = []
    usage: CompletionUsage | None = None
