"""Checked by pyright and mypy (strict, in scripts/test), never run: the reply types user code relies on."""

from __future__ import annotations

from typing import assert_type

import numpy as np
from numpy.typing import NDArray

from telnyx_ai import AsyncStream, AsyncTelnyx, RawResponse, Stream, Telnyx
from telnyx_ai.types.chat import ChatCompletion, ChatCompletionChunk, ChatMessageParam
from telnyx_ai.types.openai import OpenAIEmbeddingResponse
from telnyx_ai.types.openai_base64 import OpenAIEmbeddingBase64Response

MESSAGES: list[ChatMessageParam] = [{"role": "user", "content": "Hi"}]


async def replies(client: AsyncTelnyx) -> None:
    reply = await client.ai.chat.create_completion(
        messages=MESSAGES, n=1, tool_choice={"type": "function", "function": {"name": "f"}}
    )
    assert_type(reply.id, str)
    for call in reply.choices[0].message.tool_calls or []:
        assert_type((call.id, call.type, call.function.name, call.function.arguments), tuple[str, str, str, str])

    floats = await client.ai.openai.embeddings.create_embeddings(input="x", model="m")
    assert_type(floats, OpenAIEmbeddingResponse)
    assert_type(floats.data[0].embedding, list[float])
    packed = await client.ai.openai.embeddings.create_embeddings(input="x", model="m", encoding_format="base64")
    assert_type(packed, OpenAIEmbeddingBase64Response)
    assert_type(packed.data[0].embedding, str)
    assert_type(await client.ai.openai.embeddings.embed_many(["x"], model="m"), list[list[float]])
    array = await client.ai.openai.embeddings.embed_many(["x"], model="m", as_numpy=True)
    assert_type(array, NDArray[np.float32])
    async for index, row in client.ai.openai.embeddings.embed_many_iter(["x"], model="m", as_numpy=True):
        assert_type((index, row), tuple[int, NDArray[np.float32]])
    async for index, vector in client.ai.openai.embeddings.embed_many_iter(["x"], model="m"):
        assert_type((index, vector), tuple[int, list[float]])

    raw = await client.with_raw_response(client.ai.chat.create_completion, messages=MESSAGES, stream=True)
    assert_type(raw, RawResponse[AsyncStream[ChatCompletionChunk]])
    plain = await client.with_raw_response(client.ai.chat.create_completion, messages=MESSAGES)
    assert_type(plain, RawResponse[ChatCompletion])
    called = await client.call_with_raw_response(
        lambda c: c.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}], stream=True)
    )
    assert_type(called, RawResponse[AsyncStream[ChatCompletionChunk]])


def sync_replies(client: Telnyx) -> None:
    assert_type(client.ai.openai.embeddings.embed_many(["x"], model="m"), list[list[float]])
    assert_type(client.ai.openai.embeddings.embed_many(["x"], model="m", as_numpy=True), NDArray[np.float32])
    for index, row in client.ai.openai.embeddings.embed_many_iter(["x"], model="m", as_numpy=True):
        assert_type((index, row), tuple[int, NDArray[np.float32]])
    packed = client.ai.openai.embeddings.create_embeddings(input="x", model="m", encoding_format="base64")
    assert_type(packed, OpenAIEmbeddingBase64Response)
    raw = client.with_raw_response(client.ai.chat.create_completion, messages=MESSAGES, stream=True)
    assert_type(raw, RawResponse[Stream[ChatCompletionChunk]])
    called = client.call_with_raw_response(
        lambda c: c.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}], stream=True)
    )
    assert_type(called, RawResponse[Stream[ChatCompletionChunk]])
