"""Chat completion types, in the OpenAI shapes the endpoint follows (the spec leaves them free-form)."""

from __future__ import annotations

from typing import Any, Generic, Literal, Required, TypeAlias, TypedDict, TypeVar

import msgspec

from .._models import APIResponse, BaseModel

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionNamedToolChoiceParam",
    "ChatCompletionToolChoiceParam",
    "ChatCompletionToolParam",
    "ChatMessageParam",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCall",
    "ChunkChoice",
    "CompletionUsage",
    "FunctionCall",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ResponseFormatParam",
    "tool_result",
]

ParsedT = TypeVar("ParsedT")

# -- what you send ------------------------------------------------------------------------


class ChatMessageParam(TypedDict, total=False):
    """One message of the conversation so far."""

    role: Required[Literal["system", "user", "assistant", "tool"] | str]
    content: Required[str | list[dict[str, Any]] | None]
    name: str
    tool_calls: list[dict[str, Any]]
    tool_call_id: str


class _FunctionParam(TypedDict, total=False):
    name: Required[str]
    description: str
    parameters: dict[str, Any]


class ChatCompletionToolParam(TypedDict, total=False):
    """A function the model may call (``{"type": "function", "function": {...}}``)."""

    type: Required[Literal["function"] | str]
    function: _FunctionParam
    retrieval: dict[str, Any]


class _NamedFunctionParam(TypedDict):
    name: str


class ChatCompletionNamedToolChoiceParam(TypedDict):
    """Make the model call this one function: ``{"type": "function", "function": {"name": "get_weather"}}``."""

    type: Literal["function"]
    function: _NamedFunctionParam


ChatCompletionToolChoiceParam: TypeAlias = Literal["none", "auto", "required"] | ChatCompletionNamedToolChoiceParam
"""Whether and which tool the model calls: one of the three strings, or a named function."""


class ResponseFormatParam(TypedDict, total=False):
    """Constrain the reply: ``{"type": "json_object", "schema": {...}}``."""

    type: Required[Literal["text", "json_object"] | str]
    schema: dict[str, Any]


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

    def to_param(self) -> dict[str, Any]:
        """This call as it goes back in an assistant message's ``tool_calls``."""
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.function.name, "arguments": self.function.arguments},
        }


class ChatCompletionMessage(BaseModel):
    role: str = "assistant"
    content: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    reasoning_content: str | None = None

    def to_param(self) -> ChatMessageParam:
        """This message as the next request's ``messages`` takes it back, tool calls included.

        ``reasoning_content`` is left out: models expect their reasoning not to be sent back.
        """
        param: ChatMessageParam = {"role": self.role, "content": self.content}
        if self.tool_calls:
            param["tool_calls"] = [call.to_param() for call in self.tool_calls]
        return param


def tool_result(tool_call: ChatCompletionMessageToolCall, content: object) -> ChatMessageParam:
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
