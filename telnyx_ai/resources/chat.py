"""``client.ai.chat``: chat completions, plain or streamed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Unpack, overload

from .._resource import AsyncResource
from .._streaming import AsyncStream
from .._types import NOT_GIVEN, NotGiven, RequestOptions
from ..types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionToolParam,
    ChatMessageParam,
    ResponseFormatParam,
)

__all__ = ["AsyncChat"]


class AsyncChat(AsyncResource):
    @overload
    async def create_completion(
        self,
        *,
        messages: Sequence[ChatMessageParam],
        api_key_ref: str | NotGiven = NOT_GIVEN,
        best_of: int | NotGiven = NOT_GIVEN,
        early_stopping: bool | NotGiven = NOT_GIVEN,
        enable_thinking: bool | NotGiven = NOT_GIVEN,
        frequency_penalty: float | NotGiven = NOT_GIVEN,
        guided_choice: Sequence[str] | NotGiven = NOT_GIVEN,
        guided_json: dict[str, Any] | NotGiven = NOT_GIVEN,
        guided_regex: str | NotGiven = NOT_GIVEN,
        length_penalty: float | NotGiven = NOT_GIVEN,
        logprobs: bool | NotGiven = NOT_GIVEN,
        max_tokens: int | NotGiven = NOT_GIVEN,
        min_p: float | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        n: float | NotGiven = NOT_GIVEN,
        presence_penalty: float | NotGiven = NOT_GIVEN,
        response_format: ResponseFormatParam | NotGiven = NOT_GIVEN,
        stream: Literal[False] | NotGiven = NOT_GIVEN,
        temperature: float | NotGiven = NOT_GIVEN,
        tool_choice: Literal["none", "auto", "required"] | NotGiven = NOT_GIVEN,
        tools: Sequence[ChatCompletionToolParam] | NotGiven = NOT_GIVEN,
        top_logprobs: int | NotGiven = NOT_GIVEN,
        top_p: float | NotGiven = NOT_GIVEN,
        use_beam_search: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion: ...
    @overload
    async def create_completion(
        self,
        *,
        messages: Sequence[ChatMessageParam],
        stream: Literal[True],
        api_key_ref: str | NotGiven = NOT_GIVEN,
        best_of: int | NotGiven = NOT_GIVEN,
        early_stopping: bool | NotGiven = NOT_GIVEN,
        enable_thinking: bool | NotGiven = NOT_GIVEN,
        frequency_penalty: float | NotGiven = NOT_GIVEN,
        guided_choice: Sequence[str] | NotGiven = NOT_GIVEN,
        guided_json: dict[str, Any] | NotGiven = NOT_GIVEN,
        guided_regex: str | NotGiven = NOT_GIVEN,
        length_penalty: float | NotGiven = NOT_GIVEN,
        logprobs: bool | NotGiven = NOT_GIVEN,
        max_tokens: int | NotGiven = NOT_GIVEN,
        min_p: float | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        n: float | NotGiven = NOT_GIVEN,
        presence_penalty: float | NotGiven = NOT_GIVEN,
        response_format: ResponseFormatParam | NotGiven = NOT_GIVEN,
        temperature: float | NotGiven = NOT_GIVEN,
        tool_choice: Literal["none", "auto", "required"] | NotGiven = NOT_GIVEN,
        tools: Sequence[ChatCompletionToolParam] | NotGiven = NOT_GIVEN,
        top_logprobs: int | NotGiven = NOT_GIVEN,
        top_p: float | NotGiven = NOT_GIVEN,
        use_beam_search: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> AsyncStream[ChatCompletionChunk]: ...
    @overload
    async def create_completion(
        self,
        *,
        messages: Sequence[ChatMessageParam],
        stream: bool,
        api_key_ref: str | NotGiven = NOT_GIVEN,
        best_of: int | NotGiven = NOT_GIVEN,
        early_stopping: bool | NotGiven = NOT_GIVEN,
        enable_thinking: bool | NotGiven = NOT_GIVEN,
        frequency_penalty: float | NotGiven = NOT_GIVEN,
        guided_choice: Sequence[str] | NotGiven = NOT_GIVEN,
        guided_json: dict[str, Any] | NotGiven = NOT_GIVEN,
        guided_regex: str | NotGiven = NOT_GIVEN,
        length_penalty: float | NotGiven = NOT_GIVEN,
        logprobs: bool | NotGiven = NOT_GIVEN,
        max_tokens: int | NotGiven = NOT_GIVEN,
        min_p: float | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        n: float | NotGiven = NOT_GIVEN,
        presence_penalty: float | NotGiven = NOT_GIVEN,
        response_format: ResponseFormatParam | NotGiven = NOT_GIVEN,
        temperature: float | NotGiven = NOT_GIVEN,
        tool_choice: Literal["none", "auto", "required"] | NotGiven = NOT_GIVEN,
        tools: Sequence[ChatCompletionToolParam] | NotGiven = NOT_GIVEN,
        top_logprobs: int | NotGiven = NOT_GIVEN,
        top_p: float | NotGiven = NOT_GIVEN,
        use_beam_search: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]: ...
    async def create_completion(
        self,
        *,
        messages: Sequence[ChatMessageParam],
        api_key_ref: str | NotGiven = NOT_GIVEN,
        best_of: int | NotGiven = NOT_GIVEN,
        early_stopping: bool | NotGiven = NOT_GIVEN,
        enable_thinking: bool | NotGiven = NOT_GIVEN,
        frequency_penalty: float | NotGiven = NOT_GIVEN,
        guided_choice: Sequence[str] | NotGiven = NOT_GIVEN,
        guided_json: dict[str, Any] | NotGiven = NOT_GIVEN,
        guided_regex: str | NotGiven = NOT_GIVEN,
        length_penalty: float | NotGiven = NOT_GIVEN,
        logprobs: bool | NotGiven = NOT_GIVEN,
        max_tokens: int | NotGiven = NOT_GIVEN,
        min_p: float | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        n: float | NotGiven = NOT_GIVEN,
        presence_penalty: float | NotGiven = NOT_GIVEN,
        response_format: ResponseFormatParam | NotGiven = NOT_GIVEN,
        stream: bool | NotGiven = NOT_GIVEN,
        temperature: float | NotGiven = NOT_GIVEN,
        tool_choice: Literal["none", "auto", "required"] | NotGiven = NOT_GIVEN,
        tools: Sequence[ChatCompletionToolParam] | NotGiven = NOT_GIVEN,
        top_logprobs: int | NotGiven = NOT_GIVEN,
        top_p: float | NotGiven = NOT_GIVEN,
        use_beam_search: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """Create a chat completion; with ``stream=True``, an `AsyncStream` of typed chunks."""
        body = {
            "messages": messages,
            "api_key_ref": api_key_ref,
            "best_of": best_of,
            "early_stopping": early_stopping,
            "enable_thinking": enable_thinking,
            "frequency_penalty": frequency_penalty,
            "guided_choice": guided_choice,
            "guided_json": guided_json,
            "guided_regex": guided_regex,
            "length_penalty": length_penalty,
            "logprobs": logprobs,
            "max_tokens": max_tokens,
            "min_p": min_p,
            "model": model,
            "n": n,
            "presence_penalty": presence_penalty,
            "response_format": response_format,
            "stream": stream,
            "temperature": temperature,
            "tool_choice": tool_choice,
            "tools": tools,
            "top_logprobs": top_logprobs,
            "top_p": top_p,
            "use_beam_search": use_beam_search,
        }
        if stream:
            return await self._transport.stream(
                "POST", "/ai/chat/completions", cast_to=ChatCompletionChunk, body=body, options=options
            )
        return await self._transport.request(
            "POST", "/ai/chat/completions", cast_to=ChatCompletion, body=body, options=options
        )
