"""Batch embeddings under a hostile server: every input embedded exactly once, in order, nothing leaked."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import aclosing

import pytest

import telnyx_ai._http.retry as retry_module
from telnyx_ai import AsyncTelnyx, EmbedManyError, Timeout
from telnyx_ai.testing import Fault, MockServer, expected_embedding, mixed_faults, pool_connections

MODEL = "thenlper/gte-large"
PATH = "/ai/openai/embeddings"

# 20% of requests fail, in every way the emulator knows (plus stalls past the read timeout).
MIXED_FAULTS = {**mixed_faults(0.19), Fault.stall(1.0): 0.01}


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The policy's shape stays; only its scale shrinks so the soak runs in seconds.
    monkeypatch.setattr(retry_module, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(retry_module, "MAX_DELAY", 0.1)


def corpus(n: int) -> list[str]:
    return [f"input number {i}" for i in range(n)]


def assert_exact(vectors: list[list[float]], texts: list[str]) -> None:
    assert len(vectors) == len(texts)
    for i, (vector, text) in enumerate(zip(vectors, texts, strict=True)):
        assert vector == expected_embedding(text, MODEL), f"input {i} got the wrong vector"


def answered_at_least_once(server: MockServer, texts: list[str]) -> None:
    """The server answered every input, and was asked about no other text.

    At least once, not exactly once: a request the server answered but whose answer the client
    never read in time (read timeout under load) is sent again. Embedding is idempotent, and the
    client-side results are checked to be exactly once.
    """
    answered: Counter[str] = Counter()
    for record in server.requests_to(PATH):
        # A trickled body arrives whole, just slowly: it counts as an answer.
        if record.status == 200 and (record.fault is None or record.fault.kind == "trickle"):
            answered.update(record.json()["input"])
    assert set(answered) == set(texts)


async def test_ten_thousand_inputs_at_concurrency_256_with_20_percent_faults() -> None:
    texts = corpus(10_000)
    async with MockServer() as server:
        server.set_fault_rates(MIXED_FAULTS, seed=1234, path=PATH)
        async with AsyncTelnyx(
            api_key="test", base_url=server.url, timeout=Timeout(read=0.5, connect=2), max_connections=256
        ) as client:
            vectors = await client.ai.openai.embeddings.embed_many(
                texts, model=MODEL, batch_size=8, concurrency=256, max_retries=12
            )
            assert_exact(vectors, texts)
            assert server.peak_concurrency <= 256
            faults = server.fault_counts
            assert sum(faults.values()) >= 150, f"the faults really happened: {faults}"
            assert len(faults) >= 6
            # Nothing is left checked out of the pool.
            assert pool_connections(client).in_use == 0
        assert pool_connections(client).total == 0
    answered_at_least_once(server, texts)


async def test_inputs_that_keep_failing_are_reported_and_the_rest_kept() -> None:
    texts = corpus(200)
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        # Every request carrying input 50 is rejected for good (a 400 is not retried).
        from aiohttp import web

        from telnyx_ai.testing import Call, telnyx_error

        original = server.requests  # keep a handle to assert on later

        async def reject_one(call: Call) -> web.StreamResponse:
            body = call.record.json()
            if "input number 50" in body["input"]:
                return telnyx_error(400, "input 50 is not allowed")
            from telnyx_ai.testing._handlers import embeddings  # the emulator's own handler

            return await embeddings(call)

        server.add_route("POST", PATH, reject_one)
        with pytest.raises(EmbedManyError) as info:
            await client.ai.openai.embeddings.embed_many(texts, model=MODEL, batch_size=10, concurrency=8)
        err = info.value
        # The rejected batch is halved until input 50 is alone: its nine neighbours still get vectors.
        assert sorted(err.failed) == [50]
        assert err.results is not None
        for i, vector in enumerate(err.results):
            if i in err.failed:
                assert vector is None
            else:
                assert vector == expected_embedding(texts[i], MODEL)
        # 20 batches, then 10 -> 5 + 5 -> 2 + 3 -> 1 + 1: six more requests to isolate it.
        assert len(original) == 26


async def test_streaming_form_yields_each_index_once_under_faults() -> None:
    texts = corpus(2000)
    async with MockServer() as server:
        server.set_fault_rates(MIXED_FAULTS, seed=99, path=PATH)
        async with AsyncTelnyx(api_key="test", base_url=server.url, timeout=Timeout(read=0.5, connect=2)) as client:
            seen: dict[int, list[float]] = {}
            async for index, vector in client.ai.openai.embeddings.embed_many_iter(
                iter(texts), model=MODEL, batch_size=16, concurrency=64, max_retries=12
            ):
                assert index not in seen
                seen[index] = vector
    assert sorted(seen) == list(range(2000))
    assert all(seen[i] == expected_embedding(texts[i], MODEL) for i in range(2000))


async def test_cancelling_embed_many_closes_in_flight_connections_and_keeps_the_client_usable() -> None:
    async with MockServer() as server:
        server.set_fault_rates({Fault.stall(5.0): 1.0}, path=PATH)
        async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
            task = asyncio.create_task(
                client.ai.openai.embeddings.embed_many(corpus(500), model=MODEL, batch_size=10, concurrency=16)
            )
            for _ in range(100):
                await asyncio.sleep(0.02)
                if server.in_flight == 16:
                    break
            assert server.in_flight == 16
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert pool_connections(client).in_use == 0
            for _ in range(100):
                if server.disconnects >= 16:
                    break
                await asyncio.sleep(0.02)
            assert server.disconnects >= 16, "the server saw every in-flight request go away"
            server.clear_faults()
            vectors = await client.ai.openai.embeddings.embed_many(["still works"], model=MODEL)
            assert vectors == [expected_embedding("still works", MODEL)]


async def test_leaving_the_iterator_early_with_aclosing_cancels_the_rest() -> None:
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        got = 0
        async with aclosing(
            client.ai.openai.embeddings.embed_many_iter(corpus(5000), model=MODEL, batch_size=5, concurrency=4)
        ) as pairs:
            async for _ in pairs:
                got += 1
                if got == 20:
                    break
        await asyncio.sleep(0)
        engine_tasks = [t for t in asyncio.all_tasks() if "_outcomes" in t.get_coro().__qualname__]  # type: ignore[union-attr]
        assert engine_tasks == [], "every worker task was cancelled on leaving"
        await asyncio.sleep(0.1)  # requests already on the wire when we left may still land
        settled = len(server.requests_to(PATH))
        await asyncio.sleep(0.2)
        assert len(server.requests_to(PATH)) == settled, "no request is sent after leaving"
        # 4 batches were consumed; at most `concurrency` more were in flight. Not 1,000.
        assert settled <= 4 + 4 + 1
