"""What every call does, made cheap without changing what it means (issue 22, item 8).

The read timeout (``Timeout.read``) as the SDK's connections keep it: one timer per response, not per
read. A read only moves the deadline (`LazyReadTimeout`); these tests hold it to aiohttp's meaning: a
body whose pieces keep coming is never cut, a silence longer than ``read`` is, at about ``read``
seconds, and a shorter limit on a reused connection is honoured although a longer timer was set on it
before. Reads ask for at most `READ_SIZE` bytes, over TCP and TLS, and a large body still arrives whole.
Also: URLs parsed once, and idempotency keys that are still random version 4 UUIDs.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiohttp.client_proto import ResponseHandler

from telnyx_ai import APITimeoutError, AsyncTelnyx, Timeout
from telnyx_ai._http.aiohttp_compat import READ_SIZE, LazyReadTimeout
from telnyx_ai.testing import Call, MockServer
from telnyx_ai.testing._fixtures import model_metadata

from ._aiohttp_app import serve_app

PIECES = 40
GAP = 0.02


async def _models_in_pieces(
    call: Call, pieces: int = PIECES, gap: float = GAP, stall: float = 0.0
) -> web.StreamResponse:
    """``{"data": []}`` after ``pieces`` spaces written ``gap`` apart (and a ``stall`` before the last)."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(call.request)
    for _ in range(pieces):
        await response.write(b" ")
        await asyncio.sleep(gap)
    await asyncio.sleep(stall)
    await response.write(b'{"object": "list", "data": []}')
    await response.write_eof()
    return response


async def test_the_pool_opens_connections_with_the_lazy_read_timeout() -> None:
    async with MockServer() as server, AsyncTelnyx(api_key="k", base_url=server.url) as client:
        await client.ai.retrieve_models()
        session = client._transport.pool.current  # pyright: ignore[reportPrivateUsage]
        assert session is not None and session.connector is not None
        idle = [proto for entries in session.connector._conns.values() for proto, _ in entries]  # pyright: ignore
        assert idle and all(isinstance(proto, LazyReadTimeout) for proto in idle)


async def test_a_body_that_keeps_coming_is_never_cut_and_sets_few_timers() -> None:
    """40 reads over 0.8 s with a 0.3 s read limit: no timeout, and not a timer per read (aiohttp's way)."""
    async with MockServer() as server:
        server.add_route("GET", "/ai/models", _models_in_pieces)
        timeout = Timeout(read=0.3, total=30)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, timeout=timeout) as client:
            await client.ai.retrieve_models()  # a pooled connection for the counted call
            loop = asyncio.get_running_loop()
            scheduled: list[Any] = []
            call_at = loop.call_at

            def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
                if isinstance(getattr(callback, "__self__", None), ResponseHandler):  # a read timer
                    scheduled.append(callback)
                return call_at(when, callback, *args, **kwargs)

            loop.call_at = counting_call_at  # type: ignore[method-assign]
            try:
                started = time.monotonic()
                reply = await client.ai.retrieve_models()
            finally:
                del loop.call_at  # type: ignore[method-assign]
            assert reply.data == []
            assert time.monotonic() - started > 0.3 * 2  # longer than the read limit in all
            # The server's pieces arrive in about 40 reads; the timer was set once (again only if it fired).
            assert 1 <= len(scheduled) <= 6, len(scheduled)


def _read_timers(loop: asyncio.AbstractEventLoop) -> list[asyncio.TimerHandle]:
    """The read timers waiting on ``loop`` (not cancelled)."""
    scheduled: list[asyncio.TimerHandle] = loop._scheduled  # type: ignore[attr-defined]  # pyright: ignore
    return [
        h
        for h in scheduled
        if not h.cancelled() and isinstance(getattr(h._callback, "__self__", None), ResponseHandler)
    ]  # type: ignore[attr-defined]  # pyright: ignore


async def test_one_timer_serves_a_connection_for_many_calls_and_goes_with_it() -> None:
    """aiohttp sets a timer per read and drops it per response; here 30 calls on one connection share one."""
    async with MockServer() as server:
        client = AsyncTelnyx(api_key="k", base_url=server.url, max_connections=1, timeout=Timeout(read=30))
        loop = asyncio.get_running_loop()
        call_at = loop.call_at
        scheduled = 0

        def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
            nonlocal scheduled
            scheduled += isinstance(getattr(callback, "__self__", None), ResponseHandler)
            return call_at(when, callback, *args, **kwargs)

        loop.call_at = counting_call_at  # type: ignore[method-assign]
        try:
            for _ in range(30):
                assert (await client.ai.retrieve_models()).data
        finally:
            del loop.call_at  # type: ignore[method-assign]
        assert scheduled == 1
        assert len(_read_timers(loop)) == 1  # still set on the idle pooled connection: it lapses when it fires
        await client.close()
        await asyncio.sleep(0)
        assert _read_timers(loop) == []  # the closed connection's timer is cancelled, not left for 30 s


async def test_a_silence_longer_than_the_read_limit_times_out_at_the_limit() -> None:
    async def stalls(call: Call) -> web.StreamResponse:
        return await _models_in_pieces(call, pieces=5, gap=0.02, stall=5.0)

    async with MockServer() as server:
        server.add_route("GET", "/ai/models", stalls)
        timeout = Timeout(read=0.3, total=30)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, timeout=timeout) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await client.ai.retrieve_models()
            waited = time.monotonic() - started
            assert 0.3 <= waited < 3.0, waited  # 0.1 s of pieces, then 0.3 s of silence; loose for a loaded host


async def test_a_shorter_limit_on_a_reused_connection_is_honoured() -> None:
    """A long read limit leaves its timer set on the connection; the next call's short limit still applies."""
    calls = 0

    async def second_call_stalls(call: Call) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        return await _models_in_pieces(call, pieces=2, gap=0.01, stall=0.0 if calls == 1 else 5.0)

    async with MockServer() as server:
        server.add_route("GET", "/ai/models", second_call_stalls)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, max_connections=1) as client:
            await client.ai.retrieve_models(timeout=Timeout(read=60, total=120))
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await client.ai.retrieve_models(timeout=Timeout(read=0.3, total=120))
            assert time.monotonic() - started < 3.0
            assert calls == 2


async def test_a_stream_lives_past_the_read_limit_while_events_keep_coming() -> None:
    chunk = b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n'

    async def events(call: Call) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        for _ in range(20):
            await response.write(chunk)
            await asyncio.sleep(0.05)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async with MockServer() as server:
        server.add_route("POST", "/ai/chat/completions", events)
        async with AsyncTelnyx(api_key="k", base_url=server.url, max_retries=0, timeout=Timeout(read=0.4)) as client:
            stream = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "hi"}], stream=True)
            async with stream:
                assert len([chunk async for chunk in stream]) == 20  # 1 s in all, 0.05 s apart


async def test_a_timer_set_for_a_longer_limit_is_moved_up_for_a_shorter_one() -> None:
    loop = asyncio.get_running_loop()
    protocol = LazyReadTimeout(loop)
    protocol._read_timeout = 60.0  # pyright: ignore[reportPrivateUsage]
    protocol._reschedule_timeout()  # pyright: ignore[reportPrivateUsage]
    long_timer = protocol._read_timeout_handle  # pyright: ignore[reportPrivateUsage]
    assert long_timer is not None and long_timer.when() > loop.time() + 59
    protocol._reschedule_timeout()  # another read: the deadline moves, the timer stays
    assert protocol._read_timeout_handle is long_timer  # pyright: ignore[reportPrivateUsage]
    protocol._read_timeout = 0.5  # pyright: ignore[reportPrivateUsage]
    protocol._reschedule_timeout()  # pyright: ignore[reportPrivateUsage]
    short_timer = protocol._read_timeout_handle  # pyright: ignore[reportPrivateUsage]
    assert long_timer.cancelled() and short_timer is not None and short_timer.when() < loop.time() + 1
    protocol._drop_timeout()  # pyright: ignore[reportPrivateUsage]
    assert short_timer.cancelled() and protocol._read_timeout_handle is None  # pyright: ignore[reportPrivateUsage]


def test_urls_are_parsed_once_and_the_cache_stays_bounded() -> None:
    from telnyx_ai._http import transport

    url = "https://api.example.com/v2/ai/assistants/a%2Fb%3Fc"
    first = transport.parsed_url(url)
    assert transport.parsed_url(url) is first
    assert str(first) == url and first.raw_path == "/v2/ai/assistants/a%2Fb%3Fc"  # the encoding is kept
    for n in range(transport._URLS_KEPT + 10):  # pyright: ignore[reportPrivateUsage]
        transport.parsed_url(f"https://api.example.com/v2/ai/assistants/{n}")
    assert len(transport._URLS) <= transport._URLS_KEPT  # pyright: ignore[reportPrivateUsage]


def test_idempotency_keys_are_random_version_4_uuids() -> None:
    import uuid

    from telnyx_ai._http.request import new_idempotency_key

    keys = [new_idempotency_key() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    for key in keys:
        parsed = uuid.UUID(key)
        assert str(parsed) == key and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # every hex digit turns up in the variant field's random bits and elsewhere
    assert {key[19] for key in keys} == set("89ab") and {key[0] for key in keys} == set("0123456789abcdef")


# -- the read size: each read's buffer under glibc's mmap threshold --

BIG_NAME = "m" * (1 << 20)  # a model id of 1 MiB: a body of 16 reads or more at READ_SIZE


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many bytes each read asked for: a TCP transport's ``recv`` size (and at most that arrived), and
    each TLS read's request of the TLS object."""
    asked: list[int] = []
    received = LazyReadTimeout.data_received
    tls_read = ssl.SSLObject.read

    def recording(self: LazyReadTimeout, data: bytes) -> None:
        if getattr(self.transport, "_ssl_protocol", None) is None:  # TLS reads are counted below
            size = getattr(self.transport, "max_size", 0)
            assert len(data) <= size
            asked.append(size)
        received(self, data)

    def recording_tls_read(self: ssl.SSLObject, size: int = 1024, buffer: Any = None) -> Any:
        if buffer is None and not self.server_side:  # the test's server reads in this process too
            asked.append(size)
        return tls_read(self, size, buffer)

    monkeypatch.setattr(LazyReadTimeout, "data_received", recording)
    monkeypatch.setattr(ssl.SSLObject, "read", recording_tls_read)
    return asked


async def _big_models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [model_metadata(BIG_NAME)]})


@pytest.fixture
async def big_server(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, ssl.SSLContext | None]]:
    """An API answering ``GET /v2/ai/models`` with a 1 MiB body, over TCP or (param "tls") TLS."""
    server_context = client_context = None
    if request.param == "tls":
        ca = trustme.CA()
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(server_context)
        client_context = ssl.create_default_context()
        ca.configure_trust(client_context)
    app = web.Application()
    app.router.add_get("/v2/ai/models", _big_models)
    async with serve_app(app, server_context) as url:
        yield f"{url}/v2", client_context


@pytest.mark.parametrize("big_server", ["tcp", "tls"], indirect=True)
async def test_reads_ask_for_at_most_read_size_and_a_large_body_arrives_whole(
    big_server: tuple[str, ssl.SSLContext | None], reads: list[int]
) -> None:
    # asyncio asks for 256 KiB a read, allocated whole: above glibc's mmap threshold, so each read of a
    # small reply would map, fault in, shrink and unmap its buffer.
    url, context = big_server
    async with AsyncTelnyx(api_key="k", base_url=url, max_retries=0, ssl=context or True) as client:
        models = await client.ai.retrieve_models()
    assert [model.id for model in models.data] == [BIG_NAME]
    assert len(reads) >= 16  # the 1 MiB body came through the reads counted
    assert set(reads) == {READ_SIZE}


def test_asyncios_transports_still_have_the_read_size_the_sdk_caps() -> None:
    # The attribute `cap_read_size` sets: an asyncio that renamed it would leave reads at its own size.
    from asyncio import selector_events, sslproto

    assert selector_events._SelectorSocketTransport.max_size > READ_SIZE  # pyright: ignore[reportPrivateUsage]
    assert sslproto.SSLProtocol.max_size > READ_SIZE
