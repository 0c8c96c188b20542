"""The loop the async tests run on: asyncio's, or uvloop's with ``pytest --uvloop`` (scripts/test runs the
core tests both ways); the SDK works on either, and says what to do on trio."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from telnyx_ai import AsyncTelnyx
from telnyx_ai.testing import MockServer, expected_reply
from telnyx_ai.types.chat import ChatMessageParam


async def test_the_loop_is_the_one_asked_for(request: pytest.FixtureRequest) -> None:
    loop = asyncio.get_running_loop()
    if request.config.getoption("--uvloop"):
        assert isinstance(loop, uvloop.Loop)
    else:
        assert type(loop).__module__.startswith("asyncio") and not isinstance(loop, uvloop.Loop)


async def test_a_call_and_a_stream_on_this_loop() -> None:
    messages: list[ChatMessageParam] = [{"role": "user", "content": "Hi"}]
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        reply = await client.ai.chat.create_completion(messages=messages)
        stream = await client.ai.chat.create_completion(messages=messages, stream=True)
        async with stream:
            text = await stream.get_final_text()
    assert reply.choices[0].message.content == text == expected_reply(messages)
