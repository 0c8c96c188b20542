"""Streams that close themselves: aclose/aclosing, abandoned streams and cancelled readers free their
connection at once (on every path), the idle limit on streams kept open by pings, and a whole event that
is not UTF-8. The server would keep generating for a minute: it must see the disconnect within a second."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from telnyx_ai import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncTelnyx,
    Telnyx,
    TelnyxError,
    Timeout,
)
from telnyx_ai._streams import stream as stream_module
from telnyx_ai._types import DEFAULT_STREAM_IDLE_TIMEOUT
from telnyx_ai.testing import Call, MockServer, StreamConfig, pool_connections

from .protocol_calls import anthropic_stream, canned
from .transcripts import frame

MESSAGES: Any = [{"role": "user", "content": "Tell me everything."}]
MINUTE = StreamConfig(reply="x" * 6000, chunks=6000, delay=0.01)  # 6,000 events 10 ms apart: a minute


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer(stream=MINUTE) as s:
        yield s


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=0) as c:
        yield c


async def disconnects_within(server: MockServer, count: int, seconds: float = 1.0) -> float:
    """How long the server took to see ``count`` clients go away (fails after ``seconds``)."""
    started = time.monotonic()
    while server.disconnects < count:
        if time.monotonic() - started > seconds:
            raise AssertionError(f"the server saw {server.disconnects} of {count} disconnects after {seconds} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def open_chat(client: AsyncTelnyx) -> Any:
    return await client.ai.chat.create_completion(messages=MESSAGES, stream=True)


async def test_streams_left_with_break_and_dropped_close_at_once(client: AsyncTelnyx, server: MockServer) -> None:
    for _ in range(5):
        stream = await open_chat(client)
        async for _chunk in stream:
            break
        del stream  # no close, no gc.collect(): the last reference going away is enough
    await disconnects_within(server, 5)
    assert pool_connections(client).in_use == 0


async def test_text_stream_left_with_break_closes_once_dropped(client: AsyncTelnyx, server: MockServer) -> None:
    stream = await open_chat(client)
    async for _text in stream.text_stream:
        break
    del stream
    await disconnects_within(server, 1)
    assert pool_connections(client).in_use == 0


async def test_an_abandoned_relay_closes_upstream(client: AsyncTelnyx, server: MockServer) -> None:
    relay = (await open_chat(client)).to_sse()
    assert (await anext(relay)).startswith(b"data: ")
    del relay  # a framework dropping the body iterator without closing it
    await disconnects_within(server, 1)
    assert pool_connections(client).in_use == 0


async def test_a_cancelled_reader_closes_upstream(client: AsyncTelnyx, server: MockServer) -> None:
    stream = await open_chat(client)  # still referenced: only the cancellation can close it

    async def read_all() -> None:
        async for _ in stream:
            pass

    task = asyncio.ensure_future(read_all())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream.closed
    await disconnects_within(server, 1)
    assert pool_connections(client).in_use == 0


async def test_a_cancelled_helper_closes_upstream(client: AsyncTelnyx, server: MockServer) -> None:
    stream = await open_chat(client)
    task = asyncio.ensure_future(stream.get_final_text())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await disconnects_within(server, 1)
    assert stream.closed and pool_connections(client).in_use == 0


async def test_aclosing_works_and_a_relays_heartbeat_is_not_a_cancellation(
    client: AsyncTelnyx, server: MockServer
) -> None:
    async with contextlib.aclosing(await open_chat(client)) as stream:
        async for _ in stream:
            break
    assert stream.closed
    await disconnects_within(server, 1)
    server.stream = StreamConfig(reply="a b c", delay=0.25)  # slower than the heartbeat
    relayed = b"".join([piece async for piece in (await open_chat(client)).to_sse(heartbeat=0.1)])
    assert b": ping" in relayed and relayed.endswith(b"data: [DONE]\n\n")


async def test_anthropic_stream_dropped_mid_way_closes(client: AsyncTelnyx, server: MockServer) -> None:
    body = {"model": "Qwen/Qwen3-235B-A22B", "max_tokens": 9, "messages": MESSAGES}
    stream = await anthropic_stream(client, **body)
    async for _event in stream:
        break
    del stream
    await disconnects_within(server, 1)


def test_sync_stream_dropped_mid_way_closes() -> None:
    with MockServer.in_thread(stream=MINUTE) as server, Telnyx(api_key="t", base_url=server.url) as client:
        for _ in range(3):
            stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
            for _chunk in stream:
                break
            del stream
        deadline = time.monotonic() + 1.0
        while server.disconnects < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.disconnects == 3
        assert pool_connections(client).in_use == 0
        with client.ai.chat.create_completion(messages=MESSAGES, stream=True) as stream:
            next(iter(stream))
        assert stream.closed


# -- the idle limit ------------------------------------------------------------------------------


def pinging(first: bytes, keepalive: bytes, *, every: float, count: int) -> Any:
    """A handler sending ``first``, then ``keepalive`` ``count`` times, ``every`` seconds apart."""

    async def handler(call: Call) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        await response.write(first)
        for _ in range(count):
            await asyncio.sleep(every)
            await response.write(keepalive)
        return response

    return handler


CHUNK = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'


async def test_a_stream_kept_open_by_pings_alone_times_out(server: MockServer) -> None:
    server.add_route("POST", "/ai/chat/completions", pinging(CHUNK, b": ping\n\n", every=0.05, count=200))
    limits = Timeout(read=5, stream_idle=0.5)
    async with AsyncTelnyx(api_key="t", base_url=server.url, timeout=limits, max_retries=0) as client:
        stream = await open_chat(client)
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match=r"No data event for 0\.5 s") as caught:
            async for _ in stream:
                pass
        assert 0.4 < time.monotonic() - started < 2.0
        assert "stream_idle" in str(caught.value)
        assert pool_connections(client).in_use == 0


async def test_anthropic_ping_events_do_not_count_as_data(server: MockServer) -> None:
    start = frame("message_start", {"type": "message_start", "message": {"id": "m", "content": [], "usage": {}}})
    ping = frame("ping", {"type": "ping"})
    server.add_route("POST", "/ai/anthropic/v1/messages", pinging(start, ping, every=0.05, count=200))
    async with AsyncTelnyx(api_key="t", base_url=server.url, timeout=Timeout(stream_idle=0.5), max_retries=0) as client:
        stream = await anthropic_stream(client, model="m", max_tokens=1, messages=MESSAGES)
        pings = 0
        with pytest.raises(APITimeoutError):
            async for event in stream:
                pings += event.type == "ping"
        assert pings > 3  # they were handed out, and still ended the wait for data


async def test_data_events_and_a_slow_reader_keep_the_stream_alive(server: MockServer) -> None:
    server.stream = StreamConfig(reply="one two three four five", delay=0.3)
    async with AsyncTelnyx(api_key="t", base_url=server.url, timeout=Timeout(stream_idle=0.5), max_retries=0) as client:
        stream = await open_chat(client)
        chunks = 0
        async for _ in stream:
            chunks += 1
            if chunks == 2:
                await asyncio.sleep(0.8)  # the reader's own pause is not the server's silence
        assert chunks == 7  # role, five words, finish


def test_the_idle_limit_defaults_to_ten_minutes_and_can_be_turned_off() -> None:
    assert Timeout().stream_idle == DEFAULT_STREAM_IDLE_TIMEOUT == 600.0
    assert Timeout(stream_idle=None).stream_idle is None
    assert "stream_idle=600.0" in repr(Timeout())
    with pytest.raises(ValueError, match="stream_idle"):
        Timeout(stream_idle=0)


# -- a whole event that is not UTF-8 ---------------------------------------------------------------


async def test_invalid_utf8_in_a_whole_event_is_a_validation_error_not_retried(server: MockServer) -> None:
    bad = b'data: {"choices":[{"index":0,"delta":{"content":"caf\xe9"}}]}\n\n'
    server.add_route("POST", "/ai/chat/completions", canned(bad + b"data: [DONE]\n\n"))
    async with AsyncTelnyx(api_key="t", base_url=server.url, max_retries=2) as client:
        with pytest.raises(APIResponseValidationError, match=r"not valid UTF-8: byte 0xe9 at position \d+") as caught:
            await open_chat(client)
        assert not caught.value.malformed
        assert not isinstance(caught.value, APIConnectionError)
    assert len(server.requests_to("/ai/chat/completions")) == 1


async def test_a_first_event_cut_short_is_still_retried(server: MockServer) -> None:
    cut = b'data: {"choices":[{"index":0,"delta":{"content":"caf\xc3'  # the JSON and a character cut short
    server.add_route("POST", "/ai/chat/completions", canned(cut + b"\n\n"))
    async with AsyncTelnyx(api_key="t", base_url=server.url, max_retries=2) as client:
        with pytest.raises(APIConnectionError, match="first event arrived cut short"):
            await open_chat(client)
    assert len(server.requests_to("/ai/chat/completions")) == 3


def test_no_reference_cycle_keeps_a_stream_alive() -> None:
    async def run() -> bool:
        async with MockServer(stream=MINUTE) as server, AsyncTelnyx(api_key="t", base_url=server.url) as client:
            stream = await open_chat(client)
            async for _ in stream:
                break
            gc.disable()
            try:
                ref = weakref.ref(stream)
                del stream
                for _ in range(3):
                    await asyncio.sleep(0)  # the abandoned generator's aclose runs as a task
                return ref() is None
            finally:
                gc.enable()

    assert asyncio.run(run())


async def test_a_read_after_a_cancelled_read_raises_instead_of_ending_quietly(server: MockServer) -> None:
    # A relay's own heartbeat: wait_for gives up on a slow read, then reads on with anext(stream).
    server.stream = StreamConfig(delay=0.2)
    async with AsyncTelnyx(api_key="t", base_url=server.url) as client:
        stream = await open_chat(client)
        await anext(stream)  # the first chunk was primed with the open
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(stream), 0.05)
        with pytest.raises(APIConnectionError, match="was cancelled, so it was closed before its"):
            await anext(stream)
        with pytest.raises(TelnyxError, match="closed before it finished"):
            await stream.get_final_completion()


async def next_read_waiting(events: AsyncIterator[Any]) -> asyncio.Future[Any]:
    """``anext(events)`` started and still waiting for the server's next event (a second away) 0.1 s later."""
    waiting = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    return waiting


async def test_a_waiting_stream_holds_neither_its_last_batch_nor_that_batchs_json(server: MockServer) -> None:
    # With a thousand streams open, each list a waiting stream holds is a thousand objects more for every
    # young collection to visit: the batch handed out and its JSON are let go before the next read waits.
    server.stream = StreamConfig(reply="one two", delay=1.0)  # a second between events: the read waits
    async with AsyncTelnyx(api_key="t", base_url=server.url) as client:
        stream = await open_chat(client)
        events = stream.__aiter__()
        first = await anext(events)  # the role chunk, primed with the open
        assert first.choices[0].delta.role == "assistant"
        assert (await anext(events)).choices[0].delta.content == "one"  # read and handed out
        waiting = await next_read_waiting(events)
        assert "batch" not in events.ag_frame.f_locals  # pyright: ignore[reportAttributeAccessIssue]
        assert stream._batch_json is stream_module._NO_ITEMS  # pyright: ignore[reportPrivateUsage]
        assert (await waiting).choices[0].delta.content == " two"
        await events.aclose()
        await stream.close()
    assert stream_module._NO_ITEMS == []  # pyright: ignore[reportPrivateUsage]  # shared: never filled


async def test_a_waiting_relay_holds_no_batch(server: MockServer) -> None:
    server.stream = StreamConfig(reply="one two", delay=1.0)
    async with AsyncTelnyx(api_key="t", base_url=server.url) as client:
        stream = await open_chat(client)
        frames = stream.to_sse(heartbeat=None)
        assert b'"role":"assistant"' in await anext(frames)
        assert b'"content":"one"' in await anext(frames)
        waiting = await next_read_waiting(frames)
        assert "batch" not in frames.ag_frame.f_locals  # pyright: ignore[reportAttributeAccessIssue]
        assert b'"content":" two"' in await waiting
        await frames.aclose()
