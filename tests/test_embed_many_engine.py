"""The batch embedding engine with a fake sender: order, failures kept, adaptive concurrency, bounded memory."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

import telnyx_ai._http.retry as retry_module
from telnyx_ai import BadRequestError, EmbedManyError, RateLimitError
from telnyx_ai._batch.engine import AdaptiveLimit, EmbedJob, EmbedProgress, embed_all, embed_as_completed


@dataclass
class FakeItem:
    embedding: list[float]
    index: int


@dataclass
class FakeResponse:
    data: list[FakeItem]


def vector_for(text: str) -> list[float]:
    number = int(text.split("-")[1])
    return [float(number), number / 1024]


class FakeSender:
    """Embeds "item-N" as [N, N/1024]; fails batches as told; tracks concurrency and calls."""

    def __init__(
        self, *, fail_first: dict[str, BaseException] | None = None, always_fail: set[str] | None = None
    ) -> None:
        self.fail_first = dict(fail_first or {})
        self.always_fail = always_fail or set()
        self.calls = 0
        self.in_flight = 0
        self.peak = 0
        self.cancelled = 0
        self.sent: list[str] = []

    async def __call__(self, batch: list[str], retry: int = 0, key: str = "") -> FakeResponse:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(random.random() / 500)
            first = batch[0]
            if first in self.always_fail:
                raise BadRequestError("400 Bad Request: nope", status_code=400)
            if first in self.fail_first:
                raise self.fail_first.pop(first)
            self.sent.extend(batch)
            # Answer out of order: the engine must sort by index.
            items = [FakeItem(vector_for(t), i) for i, t in enumerate(batch)]
            random.shuffle(items)
            return FakeResponse(items)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1


def texts(n: int) -> list[str]:
    return [f"item-{i}" for i in range(n)]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(seconds: float) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(retry_module, "_sleep", instant)


async def test_vectors_come_back_in_input_order_for_every_input_kind() -> None:
    corpus = texts(1000)

    def generator() -> Iterator[str]:
        yield from corpus

    async def agen() -> AsyncIterator[str]:
        for text in corpus:
            yield text

    for source in (corpus, tuple(corpus), generator(), agen()):
        sender = FakeSender()
        vectors = await embed_all(sender, source, EmbedJob(batch_size=7, concurrency=16, max_retries=2))
        assert vectors == [vector_for(t) for t in corpus]
        assert sorted(sender.sent) == sorted(corpus)
        assert sender.peak <= 16


async def test_failures_are_kept_with_their_causes_and_successes_are_not_lost() -> None:
    sender = FakeSender(always_fail={"item-10", "item-40"})
    with pytest.raises(EmbedManyError) as info:
        await embed_all(sender, texts(100), EmbedJob(batch_size=10, concurrency=4, max_retries=2))
    err = info.value
    # A 400 rejects what a batch holds: the batch is halved until the input at fault is alone.
    assert sorted(err.failed) == [10, 40]
    assert all(isinstance(cause, BadRequestError) for cause in err.failed.values())
    assert err.results is not None
    for i, vector in enumerate(err.results):
        assert (vector is None) == (i in err.failed)
        if vector is not None:
            assert vector == vector_for(f"item-{i}")
    assert "2 of 100 inputs" in str(err)


async def test_retryable_failures_are_retried_per_batch() -> None:
    limited = RateLimitError("429 Too Many Requests", status_code=429)
    sender = FakeSender(fail_first={"item-0": limited, "item-50": RateLimitError("429", status_code=429)})
    vectors = await embed_all(sender, texts(100), EmbedJob(batch_size=10, concurrency=4, max_retries=2))
    assert vectors == [vector_for(t) for t in texts(100)]
    assert sender.calls == 12
    assert sorted(sender.sent) == sorted(texts(100)), "every input sent successfully exactly once"


def test_limit_halves_once_per_epoch_and_grows_back_slowly() -> None:
    limit = AdaptiveLimit(64)
    limit.throttled(0)
    limit.throttled(0)  # a second 429 from the same epoch does not halve again
    assert limit.limit == 32
    limit.throttled(1)
    assert limit.limit == 16
    for _ in range(16):
        limit.succeeded()
    assert 16.9 < limit.limit < 17.1
    for _ in range(10_000):
        limit.succeeded()
    assert limit.limit == 64
    for epoch in range(2, 20):
        limit.throttled(epoch)
    assert limit.limit == 1


async def test_sustained_429s_reduce_concurrency() -> None:
    class Throttling(FakeSender):
        async def __call__(self, batch: list[str], retry: int = 0, key: str = "") -> FakeResponse:
            if self.in_flight >= 4:
                self.calls += 1
                raise RateLimitError("429 slow down", status_code=429)
            return await super().__call__(batch)

    sender = Throttling()
    limit = AdaptiveLimit(64)
    vectors = await embed_all(sender, texts(2000), EmbedJob(batch_size=5, concurrency=64, max_retries=50), limit=limit)
    assert vectors == [vector_for(t) for t in texts(2000)]
    assert limit.limit < 64, "the limit came down under sustained 429s"


async def test_memory_is_bounded_by_batches_in_flight_not_corpus_size() -> None:
    pulled = 0
    sender = FakeSender()

    def corpus() -> Iterator[str]:
        nonlocal pulled
        for i in range(20_000):
            pulled += 1
            yield f"item-{i}"

    max_ahead = 0
    async for index, vector in embed_as_completed(
        sender, corpus(), EmbedJob(batch_size=10, concurrency=8, max_retries=0)
    ):
        assert vector == vector_for(f"item-{index}")
        max_ahead = max(max_ahead, pulled - index)
    # Read-ahead is a few queues of batches, never the 20,000 inputs.
    assert max_ahead <= 10 * (3 * 8 + 4)


async def test_as_completed_yields_every_index_once_then_raises_for_failures() -> None:
    sender = FakeSender(always_fail={"item-30"})
    seen: list[int] = []
    with pytest.raises(EmbedManyError) as info:
        async for index, _ in embed_as_completed(
            sender, texts(100), EmbedJob(batch_size=10, concurrency=4, max_retries=0)
        ):
            seen.append(index)
    assert sorted(seen) == [i for i in range(100) if i != 30]
    assert sorted(info.value.failed) == [30]
    assert info.value.results is None


async def test_progress_reports_counts() -> None:
    updates: list[EmbedProgress] = []
    await embed_all(
        FakeSender(), texts(95), EmbedJob(batch_size=10, concurrency=3, max_retries=0, on_progress=updates.append)
    )
    assert len(updates) == 10
    assert updates[-1] == EmbedProgress(done=95, failed=0, total=95)
    assert [u.done for u in updates] == sorted(u.done for u in updates)


async def test_cancelling_cancels_every_request_in_flight() -> None:
    class Slow(FakeSender):
        async def __call__(self, batch: list[str], retry: int = 0, key: str = "") -> FakeResponse:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                await asyncio.sleep(10)
                raise AssertionError("not reached")
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            finally:
                self.in_flight -= 1

    sender = Slow()
    task = asyncio.create_task(embed_all(sender, texts(1000), EmbedJob(batch_size=10, concurrency=8, max_retries=0)))
    await asyncio.sleep(0.05)
    assert sender.in_flight == 8
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sender.in_flight == 0
    assert sender.cancelled == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"concurrency": 0}, "concurrency"),
        ({"max_retries": -1}, "max_retries"),
    ],
)
async def test_bad_settings_fail_before_any_request(kwargs: dict[str, int], message: str) -> None:
    sender = FakeSender()
    settings = {"batch_size": 10, "concurrency": 2, "max_retries": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        await embed_all(sender, texts(5), EmbedJob(**settings))
    assert sender.calls == 0


async def test_non_string_input_fails_before_any_request() -> None:
    sender = FakeSender()
    with pytest.raises(TypeError, match="input 2 is a int"):
        await embed_all(sender, ["a", "b", 3], EmbedJob(batch_size=10, concurrency=2, max_retries=0))  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not one string"):
        await embed_all(sender, "abc", EmbedJob(batch_size=10, concurrency=2, max_retries=0))
    assert sender.calls == 0


async def test_a_failing_progress_callback_stops_every_worker() -> None:
    sender = FakeSender()

    def explode(progress: EmbedProgress) -> None:
        raise RuntimeError("progress UI crashed")

    with pytest.raises(RuntimeError, match="progress UI crashed"):
        await embed_all(sender, texts(1000), EmbedJob(batch_size=5, concurrency=8, max_retries=0, on_progress=explode))
    await asyncio.sleep(0)
    assert [t for t in asyncio.all_tasks() if "_outcomes" in t.get_coro().__qualname__] == []  # type: ignore[union-attr]
    calls = sender.calls
    await asyncio.sleep(0.05)
    assert sender.calls == calls, "no request after the error"
