"""Embedding a large corpus: batches sent at bounded, adaptive concurrency; every input once, in order.

Inputs are read lazily (a list, any iterable, or an async iterable), so memory holds at most
about ``2 * concurrency`` batches of text, never the whole corpus. Each batch is retried with
the client's policy (`_retry`); a 429 also halves the number of batches in flight, and each
success grows it back slowly (additive increase, multiplicative decrease, as in TCP). Inputs
that still fail are collected, never dropped, and reported together in `EmbedManyError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence, Sized
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Protocol

from ._errors import APIError, APIResponseValidationError, EmbedManyError, RateLimitError
from ._retry import send_with_retries, should_retry

__all__ = [
    "BATCH_RETRIES",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "AdaptiveLimit",
    "EmbedJob",
    "EmbedProgress",
    "ProgressCallback",
    "Texts",
    "embed_all",
    "embed_as_completed",
]

Texts = Iterable[str] | AsyncIterable[str]


@dataclass(frozen=True, slots=True)
class EmbedProgress:
    """How far a job is: inputs embedded, inputs given up on, and the total when it is known."""

    done: int
    failed: int
    total: int | None


ProgressCallback = Callable[[EmbedProgress], None]

DEFAULT_BATCH_SIZE = 64
DEFAULT_CONCURRENCY = 16
BATCH_RETRIES = 8
"""A long job should ride out a bad minute: by default its batches retry harder than single calls."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbedJob:
    """How a batch job runs: inputs per request, requests in flight, retries per batch, who hears of progress."""

    batch_size: int = DEFAULT_BATCH_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    max_retries: int = BATCH_RETRIES
    on_progress: ProgressCallback | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}.")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}.")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}.")


class _Embedding(Protocol):
    @property
    def embedding(self) -> list[float]: ...
    @property
    def index(self) -> int: ...


class _EmbeddingResponse(Protocol):
    @property
    def data(self) -> Sequence[_Embedding]: ...


SendBatch = Callable[[list[str]], Awaitable[_EmbeddingResponse]]


class AdaptiveLimit:
    """How many batches may be in flight: halved on a 429, grown by about one per window of successes."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.in_flight = 0
        self.peak = 0
        self._epoch = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> int:
        """Wait for a free slot; returns the epoch the batch starts in."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < int(self.limit))
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return self._epoch

    async def release(self) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def throttled(self, epoch: int) -> None:
        # Only the first 429 of an epoch halves the limit: the others were sent before we slowed down.
        if epoch == self._epoch:
            self.limit = max(1.0, self.limit / 2)
            self._epoch += 1

    def succeeded(self) -> None:
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)


@dataclass(slots=True)
class _Outcome:
    start: int
    size: int
    vectors: list[list[float]] | None = None
    error: BaseException | None = None


async def _batches(texts: Texts, batch_size: int) -> AsyncIterator[list[str]]:
    batch: list[str] = []
    index = 0

    def checked(text: object) -> str:
        if not isinstance(text, str):
            raise TypeError(f"embed_many takes strings; input {index} is a {type(text).__name__}.")
        return text

    if isinstance(texts, AsyncIterable):
        async for text in texts:
            batch.append(checked(text))
            index += 1
            if len(batch) == batch_size:
                yield batch
                batch = []
    else:
        for text in texts:
            batch.append(checked(text))
            index += 1
            if len(batch) == batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def _vectors(response: _EmbeddingResponse, size: int) -> list[list[float]]:
    items = sorted(response.data, key=lambda item: item.index)
    if [item.index for item in items] != list(range(size)):
        raise APIResponseValidationError(
            f"Asked for {size} embeddings, got indices {[item.index for item in items][:10]}.", status_code=200
        )
    return [item.embedding for item in items]


def _retryable(exc: BaseException) -> bool:
    # Embedding the same texts twice is harmless, so a body cut short in transit is worth another try.
    return should_retry(exc) or (isinstance(exc, APIResponseValidationError) and exc.malformed)


def _check_texts(texts: Texts) -> None:
    if isinstance(texts, str):
        raise TypeError("embed_many takes a collection of strings, not one string; wrap it in a list.")
    if isinstance(texts, list | tuple):
        for index, text in enumerate(texts):
            if not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]  # untyped callers
                raise TypeError(f"embed_many takes strings; input {index} is a {type(text).__name__}.")


async def _outcomes(
    send: SendBatch, texts: Texts, job: EmbedJob, limit: AdaptiveLimit
) -> AsyncGenerator[_Outcome, None]:
    """Each batch's outcome as it finishes. Leaving early cancels every request still in flight."""
    concurrency = job.concurrency
    work: asyncio.Queue[tuple[int, list[str]] | None] = asyncio.Queue(maxsize=concurrency)
    finished: asyncio.Queue[_Outcome | BaseException | None] = asyncio.Queue(maxsize=concurrency)

    # The end-of-work markers are not sent from ``finally``: once cancelled, nobody reads them.
    async def read_inputs() -> None:
        start = 0
        try:
            async for batch in _batches(texts, job.batch_size):
                await work.put((start, batch))
                start += len(batch)
        except Exception as exc:
            await finished.put(exc)
            return
        for _ in range(concurrency):
            await work.put(None)

    async def run(start: int, batch: list[str]) -> _Outcome:
        epoch = await limit.acquire()

        def on_retry(failure: BaseException) -> None:
            if isinstance(failure, RateLimitError):
                limit.throttled(epoch)

        try:
            response = await send_with_retries(
                lambda: send(batch), max_retries=job.max_retries, on_retry=on_retry, retry_if=_retryable
            )
            vectors = _vectors(response, len(batch))
        except APIError as exc:
            return _Outcome(start, len(batch), error=exc)
        finally:
            await limit.release()
        limit.succeeded()
        return _Outcome(start, len(batch), vectors=vectors)

    async def worker() -> None:
        try:
            while (item := await work.get()) is not None:
                await finished.put(await run(*item))
        except Exception as exc:
            await finished.put(exc)
            return
        await finished.put(None)

    tasks = [asyncio.create_task(read_inputs()), *(asyncio.create_task(worker()) for _ in range(concurrency))]
    try:
        running = concurrency
        while running:
            outcome = await finished.get()
            if outcome is None:
                running -= 1
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                yield outcome
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass(slots=True)
class _Tally:
    """What a job has done so far: inputs embedded, inputs given up on (with causes), inputs seen."""

    total: int | None
    done: int = 0
    seen: int = 0
    failed: dict[int, BaseException] = field(default_factory=dict[int, BaseException])


async def _successes(
    send: SendBatch, texts: Texts, job: EmbedJob, tally: _Tally, limit: AdaptiveLimit | None
) -> AsyncGenerator[_Outcome, None]:
    """The batches that succeeded, as they finish; failures and progress are recorded in ``tally``."""
    _check_texts(texts)
    outcomes = _outcomes(send, texts, job, limit or AdaptiveLimit(job.concurrency))
    # aclosing: whatever stops the consumer (leaving early, a progress callback raising) stops the workers too.
    async with aclosing(outcomes):
        async for outcome in outcomes:
            end = outcome.start + outcome.size
            tally.seen = max(tally.seen, end)
            if outcome.vectors is None:
                assert outcome.error is not None
                tally.failed.update(dict.fromkeys(range(outcome.start, end), outcome.error))
            else:
                tally.done += outcome.size
                yield outcome
            if job.on_progress is not None:
                job.on_progress(EmbedProgress(tally.done, len(tally.failed), tally.total))


async def embed_all(
    send: SendBatch, texts: Texts, job: EmbedJob, *, limit: AdaptiveLimit | None = None
) -> list[list[float]]:
    """One vector per input, in input order; raises `EmbedManyError` (keeping what succeeded) if any failed."""
    tally = _Tally(len(texts) if isinstance(texts, Sized) else None)
    results: list[list[float] | None] = [None] * tally.total if tally.total is not None else []
    successes = _successes(send, texts, job, tally, limit)
    async with aclosing(successes):
        async for outcome in successes:
            end = outcome.start + outcome.size
            if len(results) < end:
                results.extend([None] * (end - len(results)))
            results[outcome.start : end] = outcome.vectors or []
    if len(results) < tally.seen:
        results.extend([None] * (tally.seen - len(results)))
    if tally.failed:
        raise EmbedManyError(results=results, failed=tally.failed, total=len(results))
    complete: list[list[float]] = results  # type: ignore[assignment]  # no None left when nothing failed
    return complete


async def embed_as_completed(
    send: SendBatch, texts: Texts, job: EmbedJob, *, limit: AdaptiveLimit | None = None
) -> AsyncGenerator[tuple[int, list[float]], None]:
    """``(index, vector)`` pairs as batches finish, keeping nothing; failures are raised at the end."""
    tally = _Tally(len(texts) if isinstance(texts, Sized) else None)
    successes = _successes(send, texts, job, tally, limit)
    async with aclosing(successes):
        async for outcome in successes:
            for offset, vector in enumerate(outcome.vectors or []):
                yield outcome.start + offset, vector
    if tally.failed:
        raise EmbedManyError(results=None, failed=tally.failed, total=tally.seen)
