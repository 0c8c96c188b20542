"""The same behaviour through `AsyncTelnyx` and `Telnyx`: one set of checks, parametrized over both.

`Driver` runs a call path on either client, so each test states a behaviour once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import telnyx_ai._http.retry as retry_module
from telnyx_ai import (
    APIConnectionError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AsyncPaginator,
    AsyncStream,
    AsyncTelnyx,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    Telnyx,
    Timeout,
)
from telnyx_ai.testing import (
    Fault,
    MockServer,
    StreamConfig,
    expected_embedding,
    expected_reply,
    mixed_faults,
    pool_connections,
)

MESSAGES: list[Any] = [{"role": "user", "content": "the same answer from both clients"}]
MODEL = "thenlper/gte-large"


class Driver:
    """Runs ``client.<path>(...)`` on the async client (in a private event loop) or on the sync one."""

    def __init__(self, kind: str, base_url: str, **options: Any) -> None:
        self.kind = kind
        if kind == "sync":
            self.sync: Telnyx | None = Telnyx(api_key="test", base_url=base_url, **options)
        else:
            self.sync = None
            self.loop = asyncio.new_event_loop()
            self.aclient = AsyncTelnyx(api_key="test", base_url=base_url, **options)

    def _target(self, path: str) -> Any:
        obj: Any = self.sync if self.sync is not None else self.aclient
        for part in path.split("."):
            obj = getattr(obj, part)
        return obj

    def call(self, path: str, *args: Any, **kwargs: Any) -> Any:
        result = self._target(path)(*args, **kwargs)
        if self.sync is None and not isinstance(result, AsyncPaginator):
            return self.loop.run_until_complete(result)
        return result

    def chunks(self, stream: Any, *, limit: int | None = None) -> list[Any]:
        """Read a stream (to the end, or ``limit`` chunks and then close it)."""
        if self.sync is not None:
            with stream:
                out = []
                for chunk in stream:
                    out.append(chunk)
                    if limit is not None and len(out) == limit:
                        break
                return out
        assert isinstance(stream, AsyncStream)

        async def read() -> list[Any]:
            out = []
            async with stream:
                async for chunk in stream:
                    out.append(chunk)
                    if limit is not None and len(out) == limit:
                        break
            return out

        return self.loop.run_until_complete(read())

    def items(self, paginator: Any) -> list[Any]:
        if self.sync is not None:
            return list(paginator)

        async def collect() -> list[Any]:
            return [item async for item in paginator]

        return self.loop.run_until_complete(collect())

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()
        else:
            self.loop.run_until_complete(self.aclient.close())
            self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer.in_thread(tests=45) as s:
        yield s


@pytest.fixture(params=["async", "sync"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def drive(kind: str, server: MockServer) -> Iterator[Driver]:
    server.reset()
    server.clear_faults()
    server.stream = StreamConfig()
    driver = Driver(kind, server.url, max_retries=0)
    yield driver
    driver.close()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(seconds: float) -> None:
        return None

    monkeypatch.setattr(retry_module, "_sleep", instant)


def test_plain_chat_completion(drive: Driver) -> None:
    reply = drive.call("ai.chat.create_completion", messages=MESSAGES)
    assert reply.choices[0].message.content == expected_reply(MESSAGES)


def test_streamed_chunks_join_to_the_reply(drive: Driver, server: MockServer) -> None:
    server.stream = StreamConfig(write_size=7, line_ending="\r\n", comments=True)
    chunks = drive.chunks(drive.call("ai.chat.create_completion", messages=MESSAGES, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected_reply(MESSAGES)


def test_leaving_a_stream_early_drops_its_connection(drive: Driver, server: MockServer) -> None:
    server.stream = StreamConfig(reply="word " * 300, delay=0.01)
    chunks = drive.chunks(drive.call("ai.chat.create_completion", messages=MESSAGES, stream=True), limit=3)
    assert len(chunks) == 3
    for _ in range(200):
        if server.disconnects:
            break
        threading.Event().wait(0.01)
    assert server.disconnects == 1


def test_a_cut_stream_raises_instead_of_ending_quietly(drive: Driver, server: MockServer) -> None:
    server.inject(Fault.truncated_stream(after_events=3))
    stream = drive.call("ai.chat.create_completion", messages=MESSAGES, stream=True)
    with pytest.raises(APIConnectionError):
        drive.chunks(stream)


def test_an_error_event_raises_stream_error(drive: Driver, server: MockServer) -> None:
    server.inject(Fault.error_event(after_events=2))
    stream = drive.call("ai.chat.create_completion", messages=MESSAGES, stream=True)
    with pytest.raises(APIStreamError):
        drive.chunks(stream)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AuthenticationError), (404, NotFoundError), (429, RateLimitError), (503, InternalServerError)],
)
def test_statuses_map_to_the_same_classes(
    drive: Driver, server: MockServer, status: int, cls: type[APIStatusError]
) -> None:
    server.inject(Fault.status(status), path="/ai/models")
    with pytest.raises(cls) as info:
        drive.call("ai.retrieve_models")
    assert info.value.status_code == status


def test_unknown_conversation_is_not_found(drive: Driver) -> None:
    with pytest.raises(NotFoundError):
        drive.call("ai.conversations.retrieve", "../../ai/models?x#y")


def test_timeouts_raise_timeout_error(kind: str, server: MockServer) -> None:
    server.reset()
    server.inject(Fault.stall(1.0), path="/ai/models")
    driver = Driver(kind, server.url, max_retries=0, timeout=Timeout(read=0.2, connect=1))
    try:
        with pytest.raises(APITimeoutError):
            driver.call("ai.retrieve_models")
    finally:
        driver.close()


def test_retries_count_the_same(kind: str, server: MockServer, no_backoff: None) -> None:
    server.reset()
    server.inject(Fault.status(503), times=2, path="/ai/models")
    driver = Driver(kind, server.url, max_retries=2)
    try:
        assert driver.call("ai.retrieve_models").data
        assert len(server.requests_to("/ai/models")) == 3
    finally:
        driver.close()


def test_pagination_walks_every_page(drive: Driver, server: MockServer) -> None:
    tests = drive.items(drive.call("ai.assistants.tests.list", page_size=10))
    assert len(tests) == 45
    assert len({t.test_id for t in tests}) == 45
    assert len(server.requests_to("/ai/assistants/tests")) == 5


def test_embed_many_keeps_order(drive: Driver) -> None:
    texts = [f"text {i}" for i in range(250)]
    vectors = drive.call("ai.openai.embeddings.embed_many", texts, model=MODEL, batch_size=16, concurrency=8)
    assert vectors == [expected_embedding(t, MODEL) for t in texts]


def test_sync_client_shared_by_8_threads_under_20_percent_faults(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry_module, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(retry_module, "MAX_DELAY", 0.1)
    server.reset()
    server.set_fault_rates(mixed_faults(0.2), seed=8, path="/ai/openai/embeddings")
    texts = [f"thread input {i}" for i in range(10_000)]
    shares = [texts[i::8] for i in range(8)]
    try:
        # 8 threads x 32 batches in flight: 256 concurrent requests through one pool, as in the async soak.
        with Telnyx(api_key="test", base_url=server.url, max_connections=256) as client:

            def work(share: list[str]) -> list[list[float]]:
                return client.ai.openai.embeddings.embed_many(share, model=MODEL, batch_size=8, concurrency=32)

            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(work, shares))
            assert server.peak_concurrency <= 256
            assert sum(server.fault_counts.values()) > 150
            assert pool_connections(client).in_use == 0
    finally:
        server.clear_faults()
    for share, vectors in zip(shares, results, strict=True):
        assert vectors == [expected_embedding(t, MODEL) for t in share]
