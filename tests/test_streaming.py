"""The typed chat stream over a real socket: scripted byte writes from a local server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import msgspec
import pytest
from aiohttp import web

import telnyx_ai._http.retry as retry_module
from telnyx_ai import (
    APIConnectionError,
    APIResponseValidationError,
    APIStreamError,
    APITimeoutError,
    AsyncStream,
    AsyncTelnyx,
    InternalServerError,
    Timeout,
)
from telnyx_ai.testing import pool_connections
from telnyx_ai.types.chat import ChatCompletionChunk

MESSAGES = [{"role": "user", "content": "hi"}]


def chunk_event(text: str, *, ending: str = "\n") -> bytes:
    body = msgspec.json.encode(
        {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}
    )
    return b"data: " + body + (ending * 2).encode()


DONE = b"data: [DONE]\n\n"


@dataclass
class Script:
    """What the server writes for each request: a list of byte pieces (or delays in seconds)."""

    responses: list[list[bytes | float]] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    content_type: str = "text/event-stream"
    linger: bool = False  # keep the response open after the script, to notice a client leaving
    requests: int = 0
    disconnects: int = 0
    finished: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Script, str]]:
    script = Script()

    async def handler(request: web.Request) -> web.StreamResponse:
        index = script.requests
        script.requests += 1
        status = script.status[index] if index < len(script.status) else 200
        if status != 200:
            return web.json_response({"errors": [{"title": "unavailable"}]}, status=status)
        response = web.StreamResponse(headers={"Content-Type": script.content_type})
        await response.prepare(request)
        try:
            for piece in script.responses[min(index, len(script.responses) - 1)]:
                if isinstance(piece, float):
                    await asyncio.sleep(piece)
                else:
                    await response.write(piece)
            # Linger so a client that closes early is noticed while we keep writing.
            for _ in range(100 if script.linger else 0):
                if request.transport is None or request.transport.is_closing():
                    script.disconnects += 1
                    break
                await asyncio.sleep(0.01)
        except (ConnectionResetError, ConnectionError):
            script.disconnects += 1
        finally:
            script.finished.set()
        return response

    app = web.Application()
    app.router.add_post("/ai/chat/completions", handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield script, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def open_stream(base_url: str, **kwargs: object) -> tuple[AsyncTelnyx, AsyncStream[ChatCompletionChunk]]:
    client = AsyncTelnyx(api_key="k", base_url=base_url, max_retries=int(kwargs.pop("max_retries", 0)), **kwargs)  # type: ignore[arg-type]
    stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    return client, stream


async def collect(stream: AsyncStream[ChatCompletionChunk]) -> str:
    return "".join([c.choices[0].delta.content or "" async for c in stream])


async def test_fragmented_unicode_stream_over_the_wire(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    words = ["Hé", "llo ", "世界", " 🚀", "!"]
    wire = b"".join(chunk_event(w, ending="\r\n") for w in words) + b": comment\r\n\r\n" + DONE
    # Split every 5 bytes, with pauses so the client really gets separate reads.
    script.responses = [[p for i in range(0, len(wire), 5) for p in (wire[i : i + 5], 0.001)]]
    client, stream = await open_stream(url)
    async with client, stream:
        assert await collect(stream) == "".join(words)
    assert stream.closed


async def test_stream_ends_at_done_and_returns_the_connection(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[chunk_event("a"), chunk_event("b"), DONE]]
    client, stream = await open_stream(url)
    async with client:
        chunks = [c async for c in stream]
        assert [c.choices[0].delta.content for c in chunks] == ["a", "b"]
        assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
        assert stream.closed
        assert pool_connections(client).in_use == 0


async def test_the_last_read_ends_at_done_whatever_follows_it(scripted: tuple[Script, str]) -> None:
    # The usual last read (chunks, then [DONE]) is decoded in one step; anything after [DONE] is not an event.
    script, url = scripted
    script.responses = [[chunk_event("a"), 0.05, chunk_event("b") + chunk_event("c") + DONE + chunk_event("late")]]
    client, stream = await open_stream(url)
    async with client:
        assert [c.choices[0].delta.content async for c in stream] == ["a", "b", "c"]
        assert stream.closed and await stream.get_final_text() == "abc"


async def test_a_malformed_chunk_just_before_done_is_raised_after_the_good_ones(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[chunk_event("a"), 0.05, chunk_event("b") + b'data: {"choices": "nope"}\n\n' + DONE]]
    client, stream = await open_stream(url)
    received: list[str] = []
    async with client:
        with pytest.raises(APIResponseValidationError):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
        assert received == ["a", "b"]


async def test_breaking_out_early_drops_the_connection_and_the_server_sees_it(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.linger = True
    script.responses = [[chunk_event("first"), *[p for _ in range(200) for p in (chunk_event("more"), 0.005)], DONE]]
    client, stream = await open_stream(url)
    async with client:
        async with stream:
            async for chunk in stream:
                assert chunk.choices[0].delta.content == "first"
                break
        assert pool_connections(client).in_use == 0
        await asyncio.wait_for(script.finished.wait(), 5)
    assert script.disconnects == 1


async def test_close_is_idempotent_and_iteration_after_close_ends(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[chunk_event("a"), 0.05, chunk_event("b"), DONE]]
    client, stream = await open_stream(url)
    async with client:
        first = await stream.__anext__()
        assert first.choices[0].delta.content == "a"
        await stream.close()
        await stream.close()
        assert [c async for c in stream] == []


async def test_connection_cut_before_done_raises_after_delivering_what_arrived(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[chunk_event("a"), chunk_event("b")]]
    client, stream = await open_stream(url)
    received: list[str] = []
    async with client:
        with pytest.raises(APIConnectionError, match=r"\[DONE\]"):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert received == ["a", "b"]


async def test_error_event_raises_stream_error(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    error = b'event: error\ndata: {"errors": [{"title": "Model overloaded", "detail": "try later"}]}\n\n'
    script.responses = [[chunk_event("a"), error, chunk_event("never")]]
    client, stream = await open_stream(url)
    received: list[str] = []
    async with client:
        with pytest.raises(APIStreamError, match="Model overloaded: try later") as info:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert received == ["a"], "chunks before the error are delivered, not lost"
    assert info.value.body == {"errors": [{"title": "Model overloaded", "detail": "try later"}]}


async def test_error_object_in_a_data_event_raises_stream_error(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[chunk_event("a"), b'data: {"error": {"message": "context too long"}}\n\n']]
    client, stream = await open_stream(url)
    received: list[str] = []
    async with client:
        with pytest.raises(APIStreamError, match="context too long"):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert received == ["a"]


async def test_chunk_of_the_wrong_shape_raises_validation_error(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[b'data: {"choices": "nope"}\n\n']]
    client = AsyncTelnyx(api_key="k", base_url=url, max_retries=0)
    async with client:
        with pytest.raises(APIResponseValidationError):
            await client.ai.chat.create_completion(messages=MESSAGES, stream=True)  # type: ignore[arg-type]


async def test_a_non_sse_answer_to_a_stream_request_is_reported(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.content_type = "application/json"
    script.responses = [[b"{}"]]
    client = AsyncTelnyx(api_key="k", base_url=url, max_retries=0)
    async with client:
        with pytest.raises(APIResponseValidationError, match="text/event-stream"):
            await client.ai.chat.create_completion(messages=MESSAGES, stream=True)  # type: ignore[arg-type]


async def test_failures_before_the_first_event_are_retried(
    scripted: tuple[Script, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(retry_module, "_sleep", no_sleep)
    script, url = scripted
    script.status = [503, 200, 200]
    script.responses = [[], [], [chunk_event("ok"), DONE]]  # the second attempt ends before any event
    client, stream = await open_stream(url, max_retries=2)
    async with client, stream:
        assert await collect(stream) == "ok"
    assert script.requests == 3


async def test_no_retry_once_a_stream_has_delivered_an_event(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[chunk_event("partial")]]
    client, stream = await open_stream(url, max_retries=2)
    async with client:
        with pytest.raises(APIConnectionError):
            await collect(stream)
    assert script.requests == 1


async def test_retries_give_up_with_the_status_error(
    scripted: tuple[Script, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(retry_module, "_sleep", no_sleep)
    script, url = scripted
    script.status = [503, 503, 503]
    with pytest.raises(InternalServerError, match="unavailable"):
        await open_stream(url, max_retries=2)
    assert script.requests == 3


async def test_a_slow_stream_is_never_cut_while_bytes_keep_arriving(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    pieces: list[bytes | float] = []
    for i in range(8):
        pieces += [chunk_event(str(i)), 0.1]
    script.responses = [[*pieces, DONE]]
    # Total time (~0.8 s) is well past the read limit (0.4 s); no single gap is.
    client, stream = await open_stream(url, timeout=Timeout(read=0.4, connect=1))
    async with client, stream:
        assert await collect(stream) == "01234567"


async def test_a_stalled_stream_times_out(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[chunk_event("a"), 0.8, DONE]]
    client, stream = await open_stream(url, timeout=Timeout(read=0.2, connect=1))
    async with client:
        with pytest.raises(APITimeoutError):
            await collect(stream)


async def test_a_finished_stream_returns_its_connection_even_if_the_body_ends_late(
    scripted: tuple[Script, str],
) -> None:
    script, url = scripted
    # The chunked body's terminator comes 30 ms after [DONE].
    script.responses = [[chunk_event("a"), DONE, 0.03]]
    ports: set[int] = set()
    async with AsyncTelnyx(api_key="k", base_url=url, max_retries=0) as client:
        for _ in range(3):
            stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)  # type: ignore[arg-type]
            async with stream:
                async for _chunk in stream:
                    connection = stream.response.connection
                    assert connection is not None
                    assert connection.transport is not None
                    ports.add(connection.transport.get_extra_info("sockname")[1])
    assert len(ports) == 1, "one connection served all three streams"


async def test_a_server_that_never_ends_the_body_after_done_does_not_hold_the_client(
    scripted: tuple[Script, str],
) -> None:
    script, url = scripted
    script.linger = True  # keeps the response open after [DONE]
    script.responses = [[chunk_event("a"), DONE]]
    async with AsyncTelnyx(api_key="k", base_url=url, max_retries=0) as client:
        stream = await client.ai.chat.create_completion(messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        started = asyncio.get_running_loop().time()
        assert [c.choices[0].delta.content async for c in stream] == ["a"]
        assert asyncio.get_running_loop().time() - started < 0.5
        assert stream.closed
        await asyncio.wait_for(script.finished.wait(), 5)
    assert script.disconnects == 1


@pytest.mark.parametrize(
    ("ending", "raised"),
    [
        (DONE, None),
        (b'event: error\ndata: {"errors": [{"title": "Model overloaded"}]}\n\n', APIStreamError),
        (b'data: {"choices": "nope"}\n\n', APIResponseValidationError),
    ],
)
async def test_a_read_of_hundreds_of_chunks_is_delivered_in_order_before_how_it_ends(
    scripted: tuple[Script, str], ending: bytes, raised: type[Exception] | None
) -> None:
    # One write of 300 chunks and its ending arrives as one read; its chunks are decoded a few dozen
    # at a time, and the ending (or the error) comes only after the last of them.
    script, url = scripted
    script.responses = [[chunk_event("first"), 0.05, b"".join(chunk_event(f"{i} ") for i in range(300)) + ending]]
    client, stream = await open_stream(url)
    received: list[str] = []
    async with client:
        if raised is None:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
            completion = await stream.get_final_completion()
            assert completion.choices[0].message.content == "".join(received)
        else:
            with pytest.raises(raised):
                async for chunk in stream:
                    received.append(chunk.choices[0].delta.content or "")
    assert received == ["first", *(f"{i} " for i in range(300))]


async def test_a_large_read_is_handed_over_in_batches_of_at_most_64(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.responses = [[chunk_event("first"), 0.05, b"".join(chunk_event(f"{i} ") for i in range(300)) + DONE]]
    client, stream = await open_stream(url)
    async with client:
        sizes: list[int] = []
        while (batch := await stream.next_batch()) is not None:
            sizes.append(len(batch))
        assert sum(sizes) == 301 and max(sizes) <= 64 and len(sizes) >= 5
        assert stream.closed and pool_connections(client) == (0, 1)  # [DONE] in a later batch still ends it


async def test_leaving_when_done_is_read_but_not_reached_keeps_the_connection(scripted: tuple[Script, str]) -> None:
    # [DONE] arrived in the read whose first chunks the reader stopped at, and the body ends a moment
    # later: the stream is over, so the connection goes back to the pool instead of being dropped.
    script, url = scripted
    big_read = b"".join(chunk_event(f"{i} ") for i in range(300)) + DONE
    script.responses = [[chunk_event("first"), 0.05, big_read, 0.03]]
    client, stream = await open_stream(url)
    async with client:
        async with stream:
            async for chunk in stream:
                if chunk.choices[0].delta.content == "10 ":
                    break
        assert pool_connections(client) == (0, 1)
