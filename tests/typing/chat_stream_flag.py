"""Typing check: a non-literal `stream` flag gives the union of both results, on either client."""

from typing import assert_type

from telnyx_ai import AsyncStream, AsyncTelnyx, Stream, Telnyx
from telnyx_ai.types.chat import ChatCompletion, ChatCompletionChunk


async def f(client: AsyncTelnyx, flag: bool) -> None:
    r = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], stream=flag)
    assert_type(r, ChatCompletion | AsyncStream[ChatCompletionChunk])


def g(client: Telnyx, flag: bool) -> None:
    r = client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], stream=flag)
    assert_type(r, ChatCompletion | Stream[ChatCompletionChunk])
