"""The client's life: lazy session, one event loop, shared pools, closing, high concurrency."""

from __future__ import annotations

import asyncio
import pickle

import aiohttp
import pytest

from telnyx_ai import AsyncTelnyx, TelnyxError
from telnyx_ai.testing import MockServer, expected_embedding, expected_reply, pool_connections

MODEL = "thenlper/gte-large"


async def test_a_thousand_concurrent_calls_on_one_client() -> None:
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url, max_connections=64) as client:

        async def embed(i: int) -> list[float]:
            response = await client.ai.openai.embeddings.create_embeddings(input=f"text {i}", model=MODEL)
            vector = response.data[0].embedding
            assert isinstance(vector, list)
            return vector

        vectors = await asyncio.gather(*(embed(i) for i in range(1000)))
        assert vectors == [expected_embedding(f"text {i}", MODEL) for i in range(1000)]
        assert len(server.requests) == 1000
        assert server.peak_concurrency <= 64
        assert pool_connections(client).total <= 64


async def test_streams_a_reply_token_by_token_from_the_emulator() -> None:
    messages = [{"role": "user", "content": "Tell me something"}]
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        stream = await client.ai.chat.create_completion(messages=messages, stream=True)  # type: ignore[arg-type]
        pieces: list[str] = []
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces.append(chunk.choices[0].delta.content)
    assert len(pieces) > 1
    assert "".join(pieces) == expected_reply(messages)  # type: ignore[arg-type]


def test_session_is_created_lazily_and_construction_needs_no_loop() -> None:
    client = AsyncTelnyx(api_key="k")
    assert pool_connections(client).total == 0
    assert client._transport.pool._session is None


def test_using_a_client_from_a_second_event_loop_is_a_clear_error() -> None:
    with MockServer.in_thread() as server:
        client = AsyncTelnyx(api_key="test", base_url=server.url)
        asyncio.run(client.ai.retrieve_models())
        with pytest.raises(TelnyxError, match="different event loop"):
            asyncio.run(client.ai.retrieve_models())


async def test_a_closed_client_refuses_new_requests() -> None:
    async with MockServer() as server:
        client = AsyncTelnyx(api_key="test", base_url=server.url)
        await client.ai.retrieve_models()
        await client.close()
        await client.close()
        assert client.is_closed
        with pytest.raises(TelnyxError, match="closed"):
            await client.ai.retrieve_models()


async def test_a_shared_session_is_used_and_left_open() -> None:
    async with MockServer() as server, aiohttp.ClientSession() as session:
        async with AsyncTelnyx(api_key="test", base_url=server.url, session=session) as client:
            await client.ai.retrieve_models()
            assert client._transport.pool.session() is session
        assert not session.closed


def test_pickling_a_client_says_what_to_do_instead() -> None:
    with pytest.raises(TypeError, match="build a client in each process"):
        pickle.dumps(AsyncTelnyx(api_key="k"))


async def test_cancelling_a_request_leaves_the_client_usable() -> None:
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        from telnyx_ai.testing import Fault

        server.inject(Fault.stall(2.0), path="/ai/models")
        task = asyncio.create_task(client.ai.retrieve_models())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        models = await client.ai.retrieve_models()
        assert models.data


async def test_a_dropped_connection_is_retried_only_by_the_retry_policy() -> None:
    from telnyx_ai import APIConnectionError
    from telnyx_ai.testing import Fault

    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url, max_retries=0) as client:
        await client.ai.retrieve_models()  # leaves a pooled keep-alive connection
        server.inject(Fault.reset_before_headers(), path="/ai/models")
        with pytest.raises(APIConnectionError):
            await client.ai.retrieve_models()
        # aiohttp's own silent resend of idempotent requests is off: one call, one attempt.
        assert len(server.requests_to("/ai/models")) == 2


async def test_cancelling_a_task_reading_a_stream_drops_the_connection() -> None:
    from telnyx_ai.testing import StreamConfig

    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        server.stream = StreamConfig(reply="word " * 500, delay=0.01)
        first_chunk = asyncio.Event()

        async def consume() -> None:
            stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], stream=True)
            async with stream:
                async for _ in stream:
                    first_chunk.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first_chunk.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(200):
            if server.disconnects:
                break
            await asyncio.sleep(0.01)
        assert server.disconnects == 1
        assert pool_connections(client).total == 0
        assert (await client.ai.retrieve_models()).data


async def test_cancelling_a_stream_before_its_first_chunk_releases_the_connection() -> None:
    from aiohttp import web

    from telnyx_ai.testing import Call

    async def thinking(call: Call) -> web.StreamResponse:
        # Headers at once, then only keep-alive comments: a model "thinking" before its first token.
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        for _ in range(30):
            await response.write(b": keepalive\n\n")
            await asyncio.sleep(0.1)
        return response

    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url, max_connections=2) as client:
        server.add_route("POST", "/ai/chat/completions", thinking)
        for _ in range(2):
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(
                    client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], stream=True), 0.2
                )
        assert pool_connections(client).total <= 2
        assert pool_connections(client).in_use == 0
        # The pool is not exhausted: a plain call goes straight through.
        assert (await asyncio.wait_for(client.ai.retrieve_models(), 2)).data


async def test_a_pool_timeout_bounds_the_wait_for_a_free_connection() -> None:
    from telnyx_ai import APITimeoutError, Timeout
    from telnyx_ai.testing import StreamConfig

    async with MockServer() as server:
        server.stream = StreamConfig(reply="word " * 200, delay=0.02)
        timeout = Timeout(read=5, connect=1, pool=0.3)
        async with AsyncTelnyx(
            api_key="test", base_url=server.url, max_connections=1, timeout=timeout, max_retries=0
        ) as client:
            stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "x"}], stream=True)
            async with stream:  # holds the only connection
                with pytest.raises(APITimeoutError):
                    await client.ai.retrieve_models()
