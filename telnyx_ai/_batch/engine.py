"""Embedding a large corpus: batches sent at the server's rate, every input once, in order.

Inputs are read lazily (`inputs`), so memory holds about ``2 * concurrency`` batches of
text, never the whole corpus. A `RateController` (`rate_control`) decides when each request may
leave and how many may be in flight; ``concurrency`` is only a ceiling. A batch that fails gives
its slot back at once, waits (the server's ``Retry-After``, spread, or backoff) holding nothing,
and goes back through the scheduler (`scheduler`); a 429 is pacing, not a failure, and only a job
that gets nothing but 429s for ``rate_limit_timeout`` gives up. A batch the server rejects as a
whole (400/413/422) is cut in halves until the inputs it rejects are alone. Inputs that still fail are collected, never
dropped, and reported together in `EmbedManyError`, with every vector already paid for.
Vectors arrive as floats or base64 (`vectors`) and are stored in one place, in the output's
form: Python lists (`embed_all`), one float32 array (`embed_all_float32`), or yielded as they come.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

from .._errors import EmbedManyError
from .inputs import Texts, check_texts, total_to_send
from .job import (
    BATCH_RETRIES,
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    MAX_RETRY_WAIT,
    RATE_LIMIT_TIMEOUT,
    STALLED_AFTER,
    BatchReply,
    EmbedJob,
    EmbedProgress,
    ProgressCallback,
    SendBatch,
)
from .rate_control import AdaptiveLimit, RateController
from .scheduler import Outcome, outcomes
from .vectors import Float32Rows, Vector, require_numpy, to_float32, to_list

if TYPE_CHECKING:
    from .._types import Float32Array

__all__ = [
    "BATCH_RETRIES",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "MAX_RETRY_WAIT",
    "RATE_LIMIT_TIMEOUT",
    "STALLED_AFTER",
    "AdaptiveLimit",
    "BatchReply",
    "EmbedJob",
    "EmbedProgress",
    "ProgressCallback",
    "RateController",
    "SendBatch",
    "Texts",
    "embed_all",
    "embed_all_float32",
    "embed_as_completed",
    "embed_as_completed_float32",
]

V = TypeVar("V")


@dataclass(slots=True)
class _Tally:
    """What a job has done so far: inputs embedded, inputs given up on (with causes), inputs seen."""

    total: int | None
    done: int = 0
    seen: int = 0
    failed: dict[int, BaseException] = field(default_factory=dict[int, BaseException])


async def _successes(
    send: SendBatch, texts: Texts, job: EmbedJob, tally: _Tally, window: AdaptiveLimit | None
) -> AsyncGenerator[Outcome, None]:
    """The batches that succeeded, as they finish; failures and progress are recorded in ``tally``."""
    finished = outcomes(send, texts, job, window)
    # aclosing: whatever stops the consumer (leaving early, a progress callback raising) stops the requests too.
    async with aclosing(finished):
        async for outcome in finished:
            tally.seen = max(tally.seen, max(outcome.indices) + 1)
            if outcome.vectors is None:
                assert outcome.error is not None
                tally.failed.update(dict.fromkeys(outcome.indices, outcome.error))
            else:
                tally.done += len(outcome.indices)
                yield outcome
            if job.on_progress is not None:
                job.on_progress(EmbedProgress(tally.done, len(tally.failed), tally.total))


def _store(results: list[list[float] | None], outcome: Outcome) -> None:
    """Put a finished batch's vectors at their inputs' places, as lists: the one place lists are stored."""
    end = max(outcome.indices) + 1
    if len(results) < end:
        results.extend([None] * (end - len(results)))
    for index, vector in zip(outcome.indices, outcome.vectors or [], strict=True):
        results[index] = to_list(vector)


async def _fill(
    send: SendBatch, texts: Texts, job: EmbedJob, limit: AdaptiveLimit | None, store: Callable[[Outcome], None]
) -> _Tally:
    """Run the job, handing each successful batch to ``store``; what failed is in the returned tally."""
    check_texts(texts)
    if job.skip:
        raise ValueError("embed_all returns every input's vector; use embed_as_completed to skip indices.")
    tally = _Tally(total_to_send(texts, job.skip))
    successes = _successes(send, texts, job, tally, limit)
    async with aclosing(successes):
        async for outcome in successes:
            store(outcome)
    return tally


async def embed_all(
    send: SendBatch, texts: Texts, job: EmbedJob, *, limit: AdaptiveLimit | None = None
) -> list[list[float]]:
    """One vector per input, in input order; raises `EmbedManyError` (keeping what succeeded) if any failed.

    ``limit``, when given, is an extra AIMD window the job also respects.
    """
    total = None if isinstance(texts, str) else total_to_send(texts, job.skip)
    results: list[list[float] | None] = [None] * total if total is not None else []
    tally = await _fill(send, texts, job, limit, lambda outcome: _store(results, outcome))
    if len(results) < tally.seen:
        results.extend([None] * (tally.seen - len(results)))
    if tally.failed:
        raise EmbedManyError(results=results, failed=tally.failed, total=len(results))
    complete: list[list[float]] = results  # type: ignore[assignment]  # no None left when nothing failed
    return complete


async def embed_all_float32(
    send: SendBatch, texts: Texts, job: EmbedJob, *, limit: AdaptiveLimit | None = None
) -> Float32Array:
    """Like `embed_all`, as one (N, D) float32 array filled in place; `EmbedManyError` holds it with failed rows NaN."""
    rows = Float32Rows(None if isinstance(texts, str) else total_to_send(texts, job.skip))
    tally = await _fill(
        send, texts, replace(job, one_width=True), limit, lambda o: rows.put(o.indices, o.vectors or [])
    )
    array = rows.finish(max(tally.seen, tally.total or 0))
    if tally.failed:
        raise EmbedManyError(results=array, failed=tally.failed, total=len(array))
    return array


async def _pairs(
    send: SendBatch, texts: Texts, job: EmbedJob, limit: AdaptiveLimit | None, convert: Callable[[Vector], V]
) -> AsyncGenerator[tuple[int, V], None]:
    check_texts(texts)
    tally = _Tally(total_to_send(texts, job.skip))
    successes = _successes(send, texts, job, tally, limit)
    async with aclosing(successes):
        async for outcome in successes:
            for index, vector in zip(outcome.indices, outcome.vectors or [], strict=True):
                yield index, convert(vector)
    if tally.failed:
        raise EmbedManyError(results=None, failed=tally.failed, total=max(tally.seen, tally.total or 0))


def embed_as_completed(
    send: SendBatch, texts: Texts, job: EmbedJob, *, limit: AdaptiveLimit | None = None
) -> AsyncGenerator[tuple[int, list[float]], None]:
    """``(index, vector)`` pairs as batches finish, keeping nothing; failures are raised at the end."""
    return _pairs(send, texts, job, limit, to_list)


def embed_as_completed_float32(
    send: SendBatch, texts: Texts, job: EmbedJob, *, limit: AdaptiveLimit | None = None
) -> AsyncGenerator[tuple[int, Float32Array], None]:
    """Like `embed_as_completed`, each vector a new 1-D float32 array (numpy is checked before any request)."""
    require_numpy()
    return _pairs(send, texts, job, limit, to_float32)
