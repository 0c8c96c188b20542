"""The sync `Telnyx` client against the embedded emulator: calls, streams, pages, threads, lifetime."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any

import msgspec
import pytest
from aiohttp import web

from telnyx_ai import (
    APIStreamError,
    AsyncTelnyx,
    InternalServerError,
    NotFoundError,
    Stream,
    SyncPaginator,
    Telnyx,
    TelnyxError,
)
from telnyx_ai._bridge import Bridge
from telnyx_ai._streams.stream import AsyncStream
from telnyx_ai.testing import (
    Fault,
    MockServer,
    StreamConfig,
    expected_embedding,
    expected_reply,
    pool_connections,
    reply_pieces,
)
from telnyx_ai.testing._records import Call
from telnyx_ai.types.chat import ChatCompletion, ChatCompletionChunk, ChatMessageParam

MESSAGES: list[ChatMessageParam] = [{"role": "user", "content": "Tell me something about blocking clients please"}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer.in_thread(tests=23) as s:
        yield s


@pytest.fixture
def client(server: MockServer) -> Iterator[Telnyx]:
    server.reset()
    server.stream = StreamConfig()
    with Telnyx(api_key="test-key", base_url=server.url, max_retries=0) as c:
        yield c


def _open_connections(client: Telnyx) -> int:
    return pool_connections(client).total


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _loop_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "telnyx-ai-sync-loop")


# -- calls ---------------------------------------------------------------------------------


def test_plain_call(client: Telnyx) -> None:
    reply = client.ai.chat.create_completion(messages=MESSAGES)
    assert isinstance(reply, ChatCompletion)
    assert reply.choices[0].message.content == expected_reply(MESSAGES)


def test_embeddings_and_models(client: Telnyx) -> None:
    embedding = client.ai.openai.embeddings.create_embeddings(input=["a", "b"], model="thenlper/gte-large")
    assert len(embedding.data) == 2
    assert client.ai.retrieve_models().data


def test_with_options_shares_the_thread(client: Telnyx) -> None:
    threads = threading.active_count()
    copy = client.with_options(max_retries=3, timeout=9.0)
    assert copy.max_retries == 3 and client.max_retries == 0
    assert copy._bridge is client._bridge  # pyright: ignore[reportPrivateUsage]
    assert copy.ai.retrieve_models().data
    assert threading.active_count() == threads


def test_errors_are_the_async_classes(client: Telnyx, server: MockServer) -> None:
    with pytest.raises(NotFoundError) as info:
        client.ai.conversations.retrieve("no-such-conversation")
    assert info.value.status_code == 404
    server.inject(Fault.status(500))
    with pytest.raises(InternalServerError):
        client.ai.retrieve_models()
    server.inject(Fault.error_event(after_events=2))
    stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    with stream, pytest.raises(APIStreamError):
        list(stream)


# -- streams -------------------------------------------------------------------------------


def test_stream_yields_the_reply(client: Telnyx) -> None:
    stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    assert isinstance(stream, Stream)
    with stream:
        chunks = list(stream)
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == expected_reply(MESSAGES)
    assert stream.closed
    # Read to the end: the connection is back in the pool, or dropped if the chunked-encoding
    # terminator had not arrived yet when [DONE] was read (AsyncStream.close decides).
    assert _open_connections(client) <= 1


def _chunk(content: str) -> bytes:
    return msgspec.json.encode({"id": "c1", "choices": [{"index": 0, "delta": {"content": content}}]})


def test_stream_crosses_threads_once_per_read(monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = [f"w{i} " for i in range(100)]

    async def all_in_one_write(call: Call) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(call.request)
        await response.write(b"".join(b"data: " + _chunk(p) + b"\n\n" for p in pieces) + b"data: [DONE]\n\n")
        return response

    with MockServer.in_thread() as server, Telnyx(api_key="k", base_url=server.url) as client:
        server.add_route("POST", "/ai/chat/completions", all_in_one_write)
        stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
        calls: list[object] = []
        real_call = Bridge.call

        def counting_call(self: Bridge, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            calls.append(fn)
            return real_call(self, fn, *args, **kwargs)

        monkeypatch.setattr(Bridge, "call", counting_call)
        text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == "".join(pieces)
    assert len(calls) <= 5, f"{len(calls)} trips to the loop thread for {len(pieces)} chunks"


def test_early_close_drops_the_connection(client: Telnyx, server: MockServer) -> None:
    server.stream = StreamConfig(delay=0.02)
    with client.ai.chat.create_completion(messages=MESSAGES, stream=True) as stream:
        first = next(stream)
        assert first.choices
    assert stream.closed
    assert _open_connections(client) == 0
    assert _wait_for(lambda: server.disconnects == 1)
    assert list(stream) == []


def test_abandoned_stream_is_released(client: Telnyx, server: MockServer) -> None:
    server.stream = StreamConfig(delay=0.02)
    stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    next(stream)
    del stream
    gc.collect()
    assert _wait_for(lambda: _open_connections(client) == 0)
    assert _wait_for(lambda: server.disconnects == 1)


def test_stream_of_many_chunks(client: Telnyx, server: MockServer) -> None:
    server.stream = StreamConfig(chunks=len(reply_pieces(expected_reply(MESSAGES))))
    with client.ai.chat.create_completion(messages=MESSAGES, stream=True) as stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == expected_reply(MESSAGES)


# -- pagination ----------------------------------------------------------------------------


def test_pagination_walks_every_page(client: Telnyx, server: MockServer) -> None:
    paginator = client.ai.assistants.tests.list(page_size=5)
    assert isinstance(paginator, SyncPaginator)
    assert len(paginator.data) == 5
    assert paginator.meta is not None and paginator.meta.total_results == 23
    assert paginator.first_page() is paginator.first_page()  # fetched once
    items = list(paginator)
    assert len(items) == 23
    assert len({item.test_id for item in items}) == 23
    assert len(list(paginator.pages())) == 5
    assert len(server.requests_to("/ai/assistants/tests")) == 1 + 5 + 5


def test_abandoned_page_walk_does_not_leak(client: Telnyx) -> None:
    walk = iter(client.ai.assistants.tests.list(page_size=5))
    assert next(walk)
    del walk
    gc.collect()
    assert client.ai.retrieve_models().data


# -- async iterators (embed_many_iter) ------------------------------------------------------

EMBEDDING_MODEL = "thenlper/gte-large"


def test_embed_many(client: Telnyx, server: MockServer) -> None:
    texts = [f"text {i}" for i in range(10)]
    vectors = client.ai.openai.embeddings.embed_many(texts, model=EMBEDDING_MODEL, batch_size=3)
    assert len(vectors) == 10
    assert vectors[4] == expected_embedding("text 4", EMBEDDING_MODEL)
    assert len(server.requests_to("/ai/openai/embeddings")) == 4


def test_embed_many_iter_yields_every_pair(client: Telnyx) -> None:
    texts = [f"text {i}" for i in range(7)]
    pairs = dict(client.ai.openai.embeddings.embed_many_iter(texts, model=EMBEDDING_MODEL, batch_size=2))
    assert sorted(pairs) == list(range(7))
    assert pairs[6] == expected_embedding("text 6", EMBEDDING_MODEL)


def test_closing_an_async_iterator_cancels_its_work(client: Telnyx, server: MockServer) -> None:
    texts = [f"text {i}" for i in range(40)]
    with closing(client.ai.openai.embeddings.embed_many_iter(texts, model=EMBEDDING_MODEL)):
        pass  # closing one never started is immediate
    server.inject(Fault.stall(10.0), times=3, path="/ai/openai/embeddings")
    pairs = client.ai.openai.embeddings.embed_many_iter(texts, model=EMBEDDING_MODEL, batch_size=1, concurrency=4)
    index, vector = next(pairs)  # from the one request of the first four that was not stalled
    assert vector == expected_embedding(texts[index], EMBEDDING_MODEL)
    started = time.monotonic()
    pairs.close()  # cancels the three stalled requests on the loop instead of waiting for them
    assert time.monotonic() - started < 3
    assert _open_connections(client) <= 1  # the stalled requests' connections were dropped, not left busy
    assert list(pairs) == []


# -- threads and loops ---------------------------------------------------------------------


def test_many_threads_share_one_client(client: Telnyx, server: MockServer) -> None:
    threads_before = threading.active_count()

    def work(n: int) -> int:
        ok = 0
        for i in range(50):
            messages: list[ChatMessageParam] = [{"role": "user", "content": f"thread {n} call {i}"}]
            reply = client.ai.chat.create_completion(messages=messages)
            ok += reply.choices[0].message.content == expected_reply(messages)
        return ok

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(work, range(8))) == 400
    assert len(server.requests_to("/ai/chat/completions")) == 400
    assert threading.active_count() == threads_before
    assert _loop_threads() == 1


def test_call_from_inside_a_running_event_loop(client: Telnyx) -> None:
    async def handler() -> str | None:
        asyncio.get_running_loop()  # this thread runs a loop; the sync call just blocks it
        return client.ai.chat.create_completion(messages=MESSAGES).choices[0].message.content

    assert asyncio.run(handler()) == expected_reply(MESSAGES)


def test_call_from_the_loop_thread_raises(client: Telnyx) -> None:
    async def nested() -> object:
        return client.ai.retrieve_models()

    with pytest.raises(TelnyxError, match="own event loop thread"):
        client._bridge.call(nested)  # pyright: ignore[reportPrivateUsage]
    assert client.ai.retrieve_models().data  # still usable


@pytest.mark.skipif(sys.platform == "win32", reason="needs pthread_kill")
def test_ctrl_c_cancels_the_request(client: Telnyx, server: MockServer) -> None:
    server.inject(Fault.stall(10.0))
    main = threading.main_thread().ident
    assert threading.get_ident() == main
    assert main is not None
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.ai.retrieve_models()
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5
    assert _open_connections(client) == 0  # the request task was cancelled and its connection dropped
    assert client.ai.retrieve_models().data


# -- lifetime ------------------------------------------------------------------------------


def _new_loop_thread(existing: set[int | None]) -> threading.Thread:
    """The sync client's loop thread that started since ``existing`` was taken."""
    (thread,) = [t for t in threading.enumerate() if t.ident not in existing and t.name == "telnyx-ai-sync-loop"]
    return thread


def test_close_stops_the_thread(server: MockServer) -> None:
    before = {t.ident for t in threading.enumerate()}
    client = Telnyx(api_key="k", base_url=server.url)
    assert client.ai.retrieve_models().data
    thread = _new_loop_thread(before)
    assert thread.is_alive()
    client.close()
    client.close()
    assert not thread.is_alive()
    assert client.is_closed
    assert {t.ident for t in threading.enumerate()} == before
    with pytest.raises(TelnyxError, match="closed"):
        client.ai.retrieve_models()


def test_abandoned_client_stops_its_thread(server: MockServer) -> None:
    before = threading.active_count()
    existing = {t.ident for t in threading.enumerate()}
    client = Telnyx(api_key="k", base_url=server.url)
    assert client.ai.assistants.tests.list(page_size=5).data
    thread = _new_loop_thread(existing)
    del client
    gc.collect()
    assert not thread.is_alive()
    assert threading.active_count() == before


def test_configuration_errors_start_no_thread() -> None:
    before = threading.active_count()
    with pytest.raises(TelnyxError, match="API key"):
        Telnyx()
    assert threading.active_count() == before


def test_mirrors_the_async_client() -> None:
    sync_client = Telnyx(api_key="k", base_url="http://127.0.0.1:9")
    try:
        async_client = AsyncTelnyx(api_key="k", base_url="http://127.0.0.1:9")
        assert type(sync_client.ai.chat).__name__ == type(async_client.ai.chat).__name__.removeprefix("Async")
        assert sync_client.base_url == async_client.base_url
        assert repr(sync_client).startswith("Telnyx(")
        with pytest.raises(TypeError, match="pickled"):
            import pickle

            pickle.dumps(sync_client)
    finally:
        sync_client.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_must_make_a_new_client(client: Telnyx) -> None:
    assert client.ai.retrieve_models().data
    pid = os.fork()
    if pid == 0:  # child: report through the exit code only
        code = 1
        try:
            client.ai.retrieve_models()
        except TelnyxError as exc:
            code = 0 if "os.fork()" in str(exc) else 2
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client.ai.retrieve_models().data  # the parent's client is untouched


def test_stream_type_is_not_async(client: Telnyx) -> None:
    stream = client.ai.chat.create_completion(messages=MESSAGES, stream=True)
    with stream:
        assert not isinstance(stream, AsyncStream)
        assert repr(stream).startswith("<Stream POST")


def test_sync_with_raw_response_and_size_limits() -> None:
    from telnyx_ai import APIResponseValidationError
    from telnyx_ai.testing import Fault

    with MockServer.in_thread() as server:
        with Telnyx(api_key="test", base_url=server.url) as client:
            server.inject(Fault.status(503), path="/ai/models")
            raw = client.with_raw_response(client.ai.retrieve_models)
            assert raw.status_code == 200
            assert raw.retries_taken == 1
            assert raw.parsed.data
        with (
            Telnyx(api_key="test", base_url=server.url, max_response_bytes=10) as small,
            pytest.raises(APIResponseValidationError, match="limit of 10"),
        ):
            small.ai.retrieve_models()
