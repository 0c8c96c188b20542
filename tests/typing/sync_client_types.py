"""Checked by pyright (tests/test_sync_generated.py), never run: the sync API's static types."""

from __future__ import annotations

from collections.abc import Generator
from typing import assert_type, reveal_type

from telnyx_ai import AsyncPaginator, AsyncTelnyx, Stream, SyncPage, SyncPaginator, Telnyx
from telnyx_ai._sync.ai import AI
from telnyx_ai.types.assistant_tests import AssistantTestResponse
from telnyx_ai.types.chat import ChatCompletion, ChatCompletionChunk, ChatMessageParam
from telnyx_ai.types.conversation_insights import InsightTemplateGroupDetailRespData, InsightTemplateGroupResp
from telnyx_ai.types.models import ModelsResponse
from telnyx_ai.types.openai import OpenAIEmbeddingResponse


def check(client: Telnyx) -> None:
    messages: list[ChatMessageParam] = [{"role": "user", "content": "Hi"}]
    assert_type(client.ai, AI)

    reply = client.ai.chat.create_completion(messages=messages)
    assert_type(reply, ChatCompletion)
    assert_type(client.ai.chat.create_completion(messages=messages, stream=False), ChatCompletion)

    stream = client.ai.chat.create_completion(messages=messages, stream=True)
    assert_type(stream, Stream[ChatCompletionChunk])
    with stream as entered:
        assert_type(entered, Stream[ChatCompletionChunk])
        for chunk in entered:
            assert_type(chunk, ChatCompletionChunk)

    embedding = client.ai.openai.embeddings.create_embeddings(input="hello", model="thenlper/gte-large")
    assert_type(embedding, OpenAIEmbeddingResponse)

    pairs = client.ai.openai.embeddings.embed_many_iter(["a", "b"], model="thenlper/gte-large")
    assert_type(pairs, Generator[tuple[int, list[float]], None, None])
    pairs.close()

    tests = client.ai.assistants.tests.list(page_size=5)
    assert_type(tests, SyncPaginator[AssistantTestResponse])
    assert_type(tests.first_page(), SyncPage[AssistantTestResponse])
    assert_type(tests.data, list[AssistantTestResponse])
    for test in tests:
        assert_type(test, AssistantTestResponse)

    assert_type(client.ai.retrieve_models(timeout=5.0, extra_headers={"X-Trace": "1"}), ModelsResponse)
    assert_type(client.with_options(max_retries=0), Telnyx)
    with Telnyx(api_key="k") as entered_client:
        assert_type(entered_client, Telnyx)
    client.close()


async def same_shapes_as_async(client: AsyncTelnyx) -> None:
    reply = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}])
    assert_type(reply, ChatCompletion)


def aliases(client: Telnyx, async_client: AsyncTelnyx) -> None:
    # A readable alias (scripts/openapi/operations.toml) types exactly like the spec's name, on both clients.
    groups, async_groups = client.ai.conversations.insight_groups, async_client.ai.conversations.insight_groups
    assert_type(groups.create(name="n"), InsightTemplateGroupDetailRespData)
    assert_type(groups.list(), SyncPaginator[InsightTemplateGroupResp])
    assert_type(groups.insights.unassign("i", group_id="g"), None)
    assert_type(async_groups.list(), AsyncPaginator[InsightTemplateGroupResp])


def revealed(client: Telnyx) -> None:
    # tests/test_sync_generated.py reads these back from pyright's output.
    reveal_type(client.ai.chat.create_completion(messages=[], stream=True))
    reveal_type(client.ai.assistants.tests.list())
