"""``parse``: structured output for ``client.ai.chat``, decoded into your own msgspec or pydantic type.

Hand-written; the generated `AsyncChat` inherits it. The type's JSON schema goes out as
``guided_json`` (the API's way to fix a reply's shape) and each choice's content comes back
decoded strictly into that type, or raises `StructuredOutputError`. A pydantic model is described
and validated by pydantic itself; anything else by msgspec, the fast path. pydantic is never
imported here: a model class can only come from a program that imported it already.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal, TypeVar, Unpack, cast

import msgspec

from .._checks import check_arguments
from .._errors import StructuredOutputError
from .._models import decoder_for
from .._resource import AsyncResource
from .._types import NOT_GIVEN, NotGiven, RequestOptions
from ..types.chat import ChatCompletionToolChoiceParam, ChatCompletionToolParam, ChatMessageParam, ParsedChatCompletion

__all__ = ["AsyncLegacyStructuredChat", "AsyncStructuredChat", "ParsedT"]

ParsedT = TypeVar("ParsedT")


class AsyncStructuredChat(AsyncResource):
    """``parse`` beside a generated chat class: ``client.ai.openai.chat.parse``."""

    _completions_path: ClassVar[str] = "/ai/openai/chat/completions"

    async def parse(
        self,
        *,
        messages: Sequence[ChatMessageParam],
        response_format: type[ParsedT],
        model: str | NotGiven = NOT_GIVEN,
        api_key_ref: str | NotGiven = NOT_GIVEN,
        enable_thinking: bool | NotGiven = NOT_GIVEN,
        frequency_penalty: float | NotGiven = NOT_GIVEN,
        max_tokens: int | NotGiven = NOT_GIVEN,
        min_p: float | NotGiven = NOT_GIVEN,
        n: int | NotGiven = NOT_GIVEN,
        presence_penalty: float | NotGiven = NOT_GIVEN,
        temperature: float | NotGiven = NOT_GIVEN,
        tool_choice: ChatCompletionToolChoiceParam | NotGiven = NOT_GIVEN,
        tools: Sequence[ChatCompletionToolParam] | NotGiven = NOT_GIVEN,
        top_p: float | NotGiven = NOT_GIVEN,
        seed: int | NotGiven = NOT_GIVEN,
        stop: str | Sequence[str] | NotGiven = NOT_GIVEN,
        service_tier: str | NotGiven = NOT_GIVEN,
        reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | NotGiven = NOT_GIVEN,
        region: Literal["USA", "EU", "AUS", "UAE"] | NotGiven = NOT_GIVEN,
        mode: Literal["preferred", "strict"] | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> ParsedChatCompletion[ParsedT]:
        """A chat completion whose content is decoded into ``response_format``: ``choices[0].message.parsed``.

        ``response_format`` is a msgspec `Struct`, a dataclass, a `TypedDict` or any type msgspec
        can describe, or a pydantic ``BaseModel`` class; its JSON schema is sent as ``guided_json``.
        Content that does not match raises `StructuredOutputError` with the raw content and the
        reason (msgspec's, or pydantic's ``ValidationError``). A choice with no content (a tool
        call) has ``parsed=None``.
        """
        schema, decode, failures = _structured_format(response_format)
        body: dict[str, object] = {
            "messages": messages,
            "guided_json": schema,
            "model": model,
            "api_key_ref": api_key_ref,
            "enable_thinking": enable_thinking,
            "frequency_penalty": frequency_penalty,
            "max_tokens": max_tokens,
            "min_p": min_p,
            "n": n,
            "presence_penalty": presence_penalty,
            "temperature": temperature,
            "tool_choice": tool_choice,
            "tools": tools,
            "top_p": top_p,
            "seed": seed,
            "stop": stop,
            "service_tier": service_tier,
            "reasoning_effort": reasoning_effort,
            "region": region,
            "mode": mode,
        }
        # Wrong types and misspelled keywords (``temprature=``) fail here, before any request, as in the
        # generated methods; ``messages`` and the rest are checked by the server.
        check_arguments(
            "ai.openai.chat.parse",
            strings={"model": model, "api_key_ref": api_key_ref, "service_tier": service_tier},
            numbers={"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p, "seed": seed},
            mapping_lists={"messages": messages},
            options=options,
            others=_PARSE_ARGUMENTS,
        )
        completion_type = cast("type[ParsedChatCompletion[ParsedT]]", ParsedChatCompletion)
        completion = await self._transport.request(
            "POST", self._completions_path, cast_to=completion_type, body=body, options=options
        )
        for choice in completion.choices:
            content = choice.message.content
            if content is None:
                continue
            try:
                choice.message.parsed = decode(content)
            except failures as exc:
                name = getattr(response_format, "__name__", repr(response_format))
                error = StructuredOutputError(
                    f"Choice {choice.index}'s content is not a valid {name}: {exc}",
                    content=content,
                    decode_error=exc,
                    body=cast("Any", completion.to_dict()),
                )
                raise error from exc
        return completion


_PARSE_ARGUMENTS = tuple(inspect.signature(AsyncStructuredChat.parse).parameters)[1:-1]  # for "did you mean"


class AsyncLegacyStructuredChat(AsyncStructuredChat):
    """``parse`` at the older chat path (deprecated upstream): ``client.ai.chat.parse``."""

    _completions_path = "/ai/chat/completions"


def _structured_format(
    response_format: type[ParsedT],
) -> tuple[dict[str, Any], Callable[[str], ParsedT], tuple[type[Exception], ...]]:
    """The JSON schema to send, the decoder of a reply's content, and the errors that mean "no match"."""
    pydantic = sys.modules.get("pydantic")
    given = cast("object", response_format)  # may also be an alias such as list[int], which is no class
    if pydantic is not None and isinstance(given, type) and issubclass(given, pydantic.BaseModel):
        model: Any = given
        return model.model_json_schema(), model.model_validate_json, (pydantic.ValidationError,)
    try:
        schema = msgspec.json.schema(response_format)
    except TypeError as exc:
        raise TypeError(
            f"response_format must be a type msgspec can describe (a Struct, a dataclass, a TypedDict, ...) "
            f"or a pydantic BaseModel class: {exc}"
        ) from None
    return schema, decoder_for(response_format).decode, (msgspec.ValidationError, msgspec.DecodeError)
