"""``to_sse``: chunks relayed as the API's own bytes, heartbeats, and exactly one terminal frame however a stream ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import aiohttp
import msgspec
import pytest
from aiohttp import web

from telnyx_ai import SSE_RELAY_HEADERS, AsyncTelnyx, Telnyx, Timeout
from telnyx_ai._streams.sse import ServerSentEvent, SSEDecoder
from telnyx_ai.testing import Fault, MockServer, StreamConfig, expected_reply, reply_pieces
from telnyx_ai.types.chat import ChatCompletionChunk, ChatMessageParam

MESSAGES: list[ChatMessageParam] = [{"role": "user", "content": "relay this to the browser please"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string", "minLength": 40}}},
        },
    }
]


def events_of(frames: bytes) -> list[ServerSentEvent]:
    return SSEDecoder().feed(frames)


def terminal(events: list[ServerSentEvent]) -> list[tuple[str, object]]:
    """The terminal frames among ``events``: ``("done", None)`` or ``("error", body)``."""
    found: list[tuple[str, object]] = []
    for event in events:
        if event.data == b"[DONE]":
            found.append(("done", None))
        elif event.event == "error":
            found.append(("error", msgspec.json.decode(event.data)))
    return found


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer() as s:
        yield s


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[AsyncTelnyx]:
    async with AsyncTelnyx(api_key="test", base_url=server.url, max_retries=0, timeout=Timeout(read=1.0)) as c:
        yield c


async def relayed(client: AsyncTelnyx, heartbeat: float | None = 15.0, **kwargs: object) -> bytes:
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True, **kwargs)  # type: ignore[call-overload]
    return b"".join([frame async for frame in stream.to_sse(heartbeat=heartbeat)])


def test_the_relay_headers() -> None:
    assert dict(SSE_RELAY_HEADERS) == {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    }
    with pytest.raises(TypeError):
        SSE_RELAY_HEADERS["Cache-Control"] = "max-age=60"  # type: ignore[index]


async def test_a_complete_stream_relays_every_chunk_then_done(client: AsyncTelnyx, server: MockServer) -> None:
    server.stream = StreamConfig(delay=0.002)  # several reads
    frames = await relayed(client)
    events = events_of(frames)
    assert terminal(events) == [("done", None)] and events[-1].data == b"[DONE]"
    chunks = [msgspec.json.decode(e.data, type=ChatCompletionChunk) for e in events[:-1]]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == expected_reply(MESSAGES)
    assert len(chunks) == len(reply_pieces(expected_reply(MESSAGES))) + 2  # role chunk, pieces, finish chunk
    # The API's own bytes: fields the SDK's types leave out (or hold as defaults) survive.
    assert all(
        e.data.startswith(b'{"id":"chatcmpl-emulator-') and b'"object":"chat.completion.chunk"' in e.data
        for e in events[:-1]
    )
    assert b'"index":0' in events[1].data


async def test_multiline_data_is_reframed_on_one_line(client: AsyncTelnyx, server: MockServer) -> None:
    server.stream = StreamConfig(multiline_data=True, event_ids=True, comments=True)
    frames = await relayed(client)
    assert b"id:" not in frames and b": ping" not in frames
    events = events_of(frames)
    assert terminal(events) == [("done", None)]
    texts = [msgspec.json.decode(e.data, type=ChatCompletionChunk).choices[0].delta.content for e in events[:-1]]
    assert "".join(t or "" for t in texts) == expected_reply(MESSAGES)
    parts = frames.split(b"\n\n")
    assert parts[-1] == b"" and all(p.startswith(b"data: ") and b"\n" not in p for p in parts[:-1])


@pytest.mark.parametrize(
    ("fault", "kind", "retryable"),
    [
        (Fault.truncated_stream(after_events=3), "connection_error", True),
        (Fault.cut_in_tool_call(after_fragments=2), "connection_error", True),
        (Fault.error_event(after_events=2), "upstream_error", False),
        (Fault.truncated_json(), "invalid_response", False),
        (Fault.stall(3.0, after_events=2), "timeout", True),
    ],
)
async def test_a_broken_stream_ends_with_one_error_frame(
    client: AsyncTelnyx, server: MockServer, fault: Fault, kind: str, retryable: bool
) -> None:
    server.inject(fault)
    if fault.kind == "truncated_json":  # cut after the first event was handed out (before it, the call is retried)
        server.stream = StreamConfig(delay=0.05)
    frames = await relayed(client, tools=TOOLS) if fault.kind == "cut_in_tool_call" else await relayed(client)
    events = events_of(frames)
    [(name, body)] = terminal(events)
    assert name == "error"
    assert events[-1].event == "error"  # the last frame, and the only terminal one
    assert isinstance(body, dict) and set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "retryable"}
    assert (error["type"], error["retryable"]) == (kind, retryable)
    assert error["message"] and server.url not in error["message"]  # the upstream URL is not told to the browser
    assert b"data: [DONE]" not in frames


async def test_an_error_frame_follows_the_chunks_that_came_before(client: AsyncTelnyx, server: MockServer) -> None:
    server.inject(Fault.truncated_stream(after_events=4))
    events = events_of(await relayed(client))
    assert [e.event for e in events] == ["message"] * 4 + ["error"]


async def test_heartbeats_fill_upstream_silence(client: AsyncTelnyx, server: MockServer) -> None:
    server.inject(Fault.stall(0.35, after_events=2))  # shorter than the read timeout (1 s)
    frames = await relayed(client, heartbeat=0.1)
    assert frames.count(b": ping\n\n") >= 2
    events = events_of(frames)  # comments are not events
    assert terminal(events) == [("done", None)]
    text = "".join(
        msgspec.json.decode(e.data, type=ChatCompletionChunk).choices[0].delta.content or "" for e in events[:-1]
    )
    assert text == expected_reply(MESSAGES)  # nothing was lost to the interrupted waits


async def test_no_heartbeat_when_disabled(client: AsyncTelnyx, server: MockServer) -> None:
    server.inject(Fault.stall(0.3, after_events=2))
    frames = await relayed(client, heartbeat=None)
    assert b": ping" not in frames and frames.endswith(b"data: [DONE]\n\n")


async def test_closing_the_relay_closes_upstream_at_once(client: AsyncTelnyx, server: MockServer) -> None:
    server.stream = StreamConfig(delay=0.05)
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    async with aclosing(stream.to_sse()) as frames:
        await anext(frames)
    assert stream.closed
    for _ in range(100):
        if server.disconnects:
            break
        await asyncio.sleep(0.01)
    assert server.disconnects == 1 and server.requests[0].disconnected


async def test_cancelling_the_relay_closes_upstream(client: AsyncTelnyx, server: MockServer) -> None:
    """What Starlette does when the browser goes away: the task iterating the relay is cancelled."""
    server.inject(Fault.stall(5.0, after_events=1))
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    frames = stream.to_sse(heartbeat=None)

    async def consume() -> None:
        async for _ in frames:
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream.closed
    for _ in range(100):
        if server.disconnects:
            break
        await asyncio.sleep(0.01)
    assert server.disconnects == 1


async def test_an_unexpected_failure_is_reported_without_its_text_and_raised(server: MockServer) -> None:
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)

        async def broken() -> None:
            raise RuntimeError("secret internal detail")

        stream.next_batch = broken  # type: ignore[method-assign]
        received: list[bytes] = []
        with pytest.raises(RuntimeError, match="secret"):
            async for frame in stream.to_sse():
                received.append(frame)
        assert terminal(events_of(b"".join(received))) == [
            ("error", {"error": {"message": "The relay failed.", "type": "internal_error", "retryable": False}})
        ]
        assert stream.closed


# -- the sync client ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def thread_server() -> Iterator[MockServer]:
    with MockServer.in_thread() as s:
        yield s


def test_sync_relay_ends_with_done_or_error(thread_server: MockServer) -> None:
    thread_server.reset()
    with Telnyx(api_key="test", base_url=thread_server.url, max_retries=0) as client:
        stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
        assert terminal(events_of(b"".join(stream.to_sse()))) == [("done", None)]

        thread_server.inject(Fault.error_event(after_events=2))
        stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
        [(name, body)] = terminal(events_of(b"".join(stream.to_sse(heartbeat=None))))
        assert name == "error" and body["error"]["type"] == "upstream_error"  # type: ignore[index]


def test_sync_relay_closed_early_closes_upstream(thread_server: MockServer) -> None:
    thread_server.reset()
    thread_server.stream = StreamConfig(delay=0.05)
    try:
        with Telnyx(api_key="test", base_url=thread_server.url, max_retries=0) as client:
            stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
            frames = stream.to_sse()
            next(frames)
            frames.close()
            assert stream.closed
    finally:
        thread_server.stream = StreamConfig()


# -- in a web framework ---------------------------------------------------------------------------


async def test_relayed_through_aiohttp_web(server: MockServer, client: AsyncTelnyx) -> None:
    async def chat(request: web.Request) -> web.StreamResponse:
        stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)
        response = web.StreamResponse(headers=SSE_RELAY_HEADERS)
        await response.prepare(request)
        async with stream, aclosing(stream.to_sse()) as frames:
            async for frame in frames:
                await response.write(frame)
        return response

    app = web.Application()
    app.router.add_get("/chat", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://{host}:{port}/chat") as response:
            assert response.headers["Content-Type"] == "text/event-stream"
            assert response.headers["X-Accel-Buffering"] == "no"
            body = await response.read()
    finally:
        await runner.cleanup()
    events = events_of(body)
    assert terminal(events) == [("done", None)]
    assert "".join(
        msgspec.json.decode(e.data, type=ChatCompletionChunk).choices[0].delta.content or "" for e in events[:-1]
    ) == expected_reply(MESSAGES)
