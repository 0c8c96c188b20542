"""One job's scheduler: batches read lazily, sent when the rate controller allows, retried holding no slot.

A batch that fails gives its slot back at once, waits (the server's ``Retry-After``, spread, or a
backoff) holding nothing, and goes back through the scheduler. A 429 is pacing, not a failure: it
does not count against a batch's retries, and without a ``Retry-After`` the batch goes again at
its next turn. Only when no batch has succeeded for ``rate_limit_timeout`` while 429s come back
does the job give up, failing every input not yet embedded; a second into such a storm, one
request at a time goes out. A batch the server rejects as a whole (400/413/422) is cut in halves
until the inputs it rejects are alone.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence, Sized
from dataclasses import dataclass

from .._errors import APIError, APIResponseValidationError, APIStatusError, RateLimitError
from .._http.retry import backoff_delay, retry_after_seconds, short_reason, should_retry, wait_before_retry
from .._logging import logger
from .inputs import BadInput, Batch, Texts, read_batches
from .job import FINISHING, SPLIT_STATUSES, STALLED_AFTER, BatchReply, EmbeddingResponse, EmbedJob, SendBatch
from .rate_control import AdaptiveLimit, RateController, rate_limit_hint, spread
from .vectors import Vector, read_vectors, width

__all__ = ["Outcome", "Scheduler", "outcomes"]


@dataclass(slots=True)
class Outcome:
    """What became of some inputs: their vectors, or the error that stopped them."""

    indices: Sequence[int]
    vectors: list[Vector] | None = None
    error: BaseException | None = None


def _span(indices: Sequence[int]) -> str:
    return f"inputs {indices[0]}-{indices[-1]}" if len(indices) > 1 else f"input {indices[0]}"


def _vectors(response: EmbeddingResponse, batch: Batch) -> list[Vector]:
    """The batch's vectors in input order, base64 decoded and checked (`read_vectors`)."""
    items, size = response.data, len(batch.texts)
    if len(items) != size or any(item.index != position for position, item in enumerate(items)):
        items = sorted(items, key=lambda item: item.index)  # servers answer in order: sorted only if not
        if [item.index for item in items] != list(range(size)):
            raise APIResponseValidationError(
                f"Asked for {size} embeddings, got indices {[item.index for item in items][:10]}.", status_code=200
            )
    return read_vectors([item.embedding for item in items], _span(batch.indices))


def _retryable(exc: BaseException) -> bool:
    # Embedding the same texts twice is harmless, so a body cut short in transit is worth another try.
    return should_retry(exc) or (isinstance(exc, APIResponseValidationError) and exc.malformed)


def _gave_up(refusal: RateLimitError, timeout: float) -> RateLimitError:
    """The cause given to every input a job gave up on: the last 429, and why the job stopped retrying."""
    return RateLimitError(
        f"Gave up: no batch succeeded for {timeout:g} s while the server answered 429 (the job's "
        f"rate_limit_timeout). The last refusal: {refusal.message}",
        status_code=refusal.status_code,
        body=refusal.body,
        response=refusal.response,
        request_id=refusal.request_id,
        method=refusal.method,
        url=refusal.url,
    )


def _headers(source: object) -> Mapping[str, str] | None:
    if isinstance(source, BatchReply):
        return source.headers
    if isinstance(source, APIStatusError) and source.response is not None:
        return source.response.headers
    return None


class Scheduler:
    """One job's batches: read lazily, sent when the controller allows, retried without holding a slot."""

    def __init__(
        self, send: SendBatch, texts: Texts, job: EmbedJob, rate: RateController, window: AdaptiveLimit | None
    ) -> None:
        self.send, self.job, self.rate, self.window = send, job, rate, window
        self.inputs: AsyncIterator[Batch | BadInput] = read_batches(texts, job.batch_size, job.skip)
        self.finished: asyncio.Queue[Outcome | BaseException | None] = asyncio.Queue()
        self.ready: deque[Batch] = deque()  # retries and halves, sent before new input
        self.in_flight = 0
        self.waiting = 0  # batches sleeping before a retry: they hold no slot
        self.unread_outcomes = 0
        self.exhausted = False
        self.tasks: set[asyncio.Task[None]] = set()
        self.width: int | None = None  # with ``job.one_width``: the first batch's
        self.alone = job.first_alone > 0  # until the first request is answered (or that long), one in flight
        self.sleeping: dict[int, tuple[asyncio.Task[None], Batch]] = {}  # batches waiting to retry, by id
        self.last_success = time.monotonic()  # or the job's start
        self.refusal: RateLimitError | None = None  # the last 429 since the last success
        self.gave_up: RateLimitError | None = None  # set when the job stops retrying (`_give_up`)
        self._deadline: asyncio.TimerHandle | None = None  # checks `rate_limit_timeout` while 429s come
        self.length = len(texts) if isinstance(texts, Sized) else None
        self.finishing = False  # told the controller this job is in its last stretch
        self._turning: asyncio.Task[object] | None = None  # the run loop, while it waits for its turn
        self._cut_short = False  # `_give_up` cancelled that wait
        self._changed = asyncio.Event()

    # -- the loop that starts requests ---------------------------------------------------------

    def _room(self) -> bool:
        if self.alone or self._stalled():
            return self.in_flight == 0
        limit = self.job.concurrency
        if self.window is not None:
            limit = min(limit, int(self.window.limit))
        return self.in_flight < limit

    def _held(self) -> int:
        return self.in_flight + self.waiting + len(self.ready) + self.unread_outcomes

    def _stalled(self) -> bool:
        """Only 429s for `STALLED_AFTER` seconds: one request at a time until one succeeds."""
        return self.refusal is not None and time.monotonic() - self.last_success >= STALLED_AFTER

    def _has_work(self) -> bool:
        return bool(self.ready) or (not self.exhausted and self._held() < 2 * self.job.concurrency)

    def _idle(self) -> bool:
        return self.exhausted and not self.ready and self.in_flight == 0 and self.waiting == 0

    async def run(self) -> None:
        """Start requests until every input has an outcome; then put the end marker."""
        if self.alone:  # the first request goes alone until it is answered, or until then
            asyncio.get_running_loop().call_later(self.job.first_alone, self._end_alone)
        try:
            while not self._idle():
                if self.gave_up is not None:
                    await self._fail_unsent(self.gave_up)
                if self.gave_up is not None or not (self._room() and self._has_work()):
                    if not self._idle():
                        self._changed.clear()
                        await self._changed.wait()
                    continue
                epoch, window_epoch = await self._turn(), self.window.epoch if self.window else 0
                if epoch is None or self.gave_up is not None:
                    continue  # given up while waiting for the turn: nothing more is sent
                batch = await self._next_batch()
                if batch is not None and self.gave_up is not None:
                    self._report(Outcome(batch.indices, error=self.gave_up))
                elif batch is not None:
                    self._start(batch, epoch, window_epoch)
                    self._note_finishing(batch)
        except Exception as exc:  # the input iterable failed: the job fails with its error
            await self.finished.put(exc)
            return
        await self.finished.put(None)

    async def _turn(self) -> int | None:
        """The controller's turn for the next request (its epoch); None if the job gave up meanwhile, which
        cuts the wait short (a pace or a hold the server asked for may be long)."""
        task = self._turning = asyncio.current_task()
        try:
            return await self.rate.turn()
        except asyncio.CancelledError:
            if not self._cut_short or task is None or task.uncancel() > 0:
                raise  # not (only) our doing: the job itself is cancelled
            return None
        finally:
            self._turning, self._cut_short = None, False

    async def _next_batch(self) -> Batch | None:
        if self.ready:
            return self.ready.popleft()
        while not self.exhausted:
            item = await anext(self.inputs, None)
            if item is None:
                self.exhausted = True
            elif isinstance(item, BadInput):
                self._report(Outcome([item.index], error=item.error))
            else:
                return item
        return None

    def _note_finishing(self, batch: Batch) -> None:
        """With about `FINISHING` seconds of new batches left after ``batch``, tell the controller (no probing now)."""
        left = None if self.length is None else self.length - batch.indices[-1] - 1
        if not self.finishing and left is not None and left <= FINISHING * self.rate.rate * self.job.batch_size:
            self.finishing = True
            self.rate.finishing(True)

    async def _fail_unsent(self, error: RateLimitError) -> None:
        """The job gave up: every input not yet sent fails with ``error`` (a bad one with its own error)."""
        while (batch := await self._next_batch()) is not None:
            self._report(Outcome(batch.indices, error=error))
            await asyncio.sleep(0)  # let the consumer take the outcomes as they come

    def _start(self, batch: Batch, epoch: int, window_epoch: int) -> None:
        self.in_flight += 1
        task = asyncio.create_task(self._attempt(batch, epoch, window_epoch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _report(self, outcome: Outcome) -> None:
        self.unread_outcomes += 1
        self.finished.put_nowait(outcome)

    def outcome_read(self) -> None:
        self.unread_outcomes -= 1
        self._changed.set()

    # -- one request ---------------------------------------------------------------------------

    async def _attempt(self, batch: Batch, epoch: int, window_epoch: int) -> None:
        started = time.monotonic()
        try:
            reply = await self.send(batch.texts, batch.retries, batch.key)
            vectors = _vectors(reply, batch)
        except APIError as exc:
            self._free_slot()
            self._failed(batch, exc, epoch, window_epoch)
            return
        except Exception as exc:  # not the API's doing (a bug in a custom sender): the job fails with it
            self.finished.put_nowait(exc)
            return
        self._free_slot()
        self.last_success, self.refusal = time.monotonic(), None
        self.rate.succeeded(self.last_success - started)
        self.rate.advise(rate_limit_hint(_headers(reply)))
        if self.window is not None:
            self.window.succeeded()
        self._report(self._checked_width(batch, vectors))

    def _checked_width(self, batch: Batch, vectors: list[Vector]) -> Outcome:
        """The batch's outcome; with ``one_width``, a failure if its width is not the job's."""
        if self.job.one_width and vectors:
            size = width(vectors[0])
            if self.width is None:
                self.width = size
            elif size != self.width:
                problem = f"has {size} values per vector; this job's array has {self.width}"
                error = APIResponseValidationError(
                    f"The embedding of {_span(batch.indices)} {problem}.", status_code=200
                )
                return Outcome(batch.indices, error=error)
        return Outcome(batch.indices, vectors=vectors)

    def _free_slot(self) -> None:
        self.in_flight -= 1
        self._end_alone()

    def _end_alone(self) -> None:
        self.alone = False
        self._changed.set()

    def _failed(self, batch: Batch, exc: APIError, epoch: int, window_epoch: int) -> None:
        self.rate.advise(rate_limit_hint(_headers(exc)))
        refused = isinstance(exc, RateLimitError)
        if refused:
            self.rate.throttled(epoch)
            if self.window is not None:
                self.window.throttled(window_epoch)
        if self.gave_up is not None:  # nothing more is sent
            self._report(Outcome(batch.indices, error=self.gave_up if refused else exc))
        elif isinstance(exc, RateLimitError):
            # Pacing, not a failure of these inputs: retried until the whole job stops making progress.
            self.refusal = exc
            if time.monotonic() - self.last_success >= self.job.rate_limit_timeout:
                self._give_up(exc)
                self._report(Outcome(batch.indices, error=self.gave_up))
            else:
                self._watch_deadline()
                self._retry(batch, exc, "(pacing: not counted against max_retries)", backoff=False)
        elif isinstance(exc, APIStatusError) and exc.status_code in SPLIT_STATUSES and len(batch.texts) > 1:
            self.ready.extendleft(reversed(batch.halves()))
        elif _retryable(exc) and batch.failures < self.job.max_retries:
            batch.failures += 1
            self._retry(batch, exc, f"(retry {batch.failures} of {self.job.max_retries})", backoff=True)
        else:
            self._report(Outcome(batch.indices, error=exc))

    def _retry(self, batch: Batch, exc: APIError, count: str, *, backoff: bool) -> None:
        """Send ``batch`` again after the wait the server asked for (spread), else after a backoff, or (a 429:
        the controller's pace is its backoff) at its next turn; it holds no slot meanwhile."""
        batch.retries += 1
        asked = retry_after_seconds(exc, cap=self.job.max_retry_wait)
        delay = spread(asked) if asked is not None else backoff_delay(batch.retries) if backoff else 0.0
        # The progress bar shows the third argument, the reason in a word.
        logger.info(
            "Retrying a batch of %d inputs in %.2fs after %s %s", len(batch.texts), delay, short_reason(exc), count
        )
        if not delay:
            self.ready.append(batch)
            self._changed.set()
            return
        self.waiting += 1
        task = asyncio.create_task(self._retry_later(batch, delay))
        self.tasks.add(task)
        self.sleeping[id(batch)] = task, batch
        task.add_done_callback(self.tasks.discard)

    async def _retry_later(self, batch: Batch, delay: float) -> None:
        await wait_before_retry(delay)
        del self.sleeping[id(batch)]
        self.waiting -= 1
        self.ready.append(batch)
        self._changed.set()

    # -- a storm of 429s -----------------------------------------------------------------------

    def _watch_deadline(self) -> None:
        """Check, when `rate_limit_timeout` has passed since the last success, whether the job should give up."""
        if self._deadline is None:
            left = self.last_success + self.job.rate_limit_timeout - time.monotonic()
            self._deadline = asyncio.get_running_loop().call_later(max(0.0, left), self._deadline_reached)

    def _deadline_reached(self) -> None:
        self._deadline = None
        if self.refusal is None or self.gave_up is not None:
            return  # a batch succeeded since (no 429 after it), or the job already gave up
        if time.monotonic() - self.last_success < self.job.rate_limit_timeout:
            self._watch_deadline()  # a batch succeeded, then 429s again: the deadline moved
            return
        self._give_up(self.refusal)

    def _give_up(self, refusal: RateLimitError) -> None:
        """No batch succeeded for `rate_limit_timeout`, only 429s: every input not yet embedded fails.

        Batches waiting to retry fail now; the run loop fails those never sent (`_fail_unsent`);
        requests in flight finish (a success is kept).
        """
        self.gave_up = error = _gave_up(refusal, self.job.rate_limit_timeout)
        logger.warning(
            "Giving up: no batch succeeded for %gs while the server answered 429 (rate_limit_timeout)",
            self.job.rate_limit_timeout,
        )
        for task, batch in self.sleeping.values():
            task.cancel()
            self.waiting -= 1
            self._report(Outcome(batch.indices, error=error))
        self.sleeping.clear()
        if self._turning is not None:
            self._cut_short = True
            self._turning.cancel()
        self._changed.set()

    def close(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        if self.finishing:
            self.rate.finishing(False)


async def outcomes(
    send: SendBatch, texts: Texts, job: EmbedJob, window: AdaptiveLimit | None
) -> AsyncGenerator[Outcome, None]:
    """Each batch's outcome as it finishes. Leaving early cancels every request still in flight."""
    scheduler = Scheduler(send, texts, job, job.rate or RateController(), window)
    runner = asyncio.create_task(scheduler.run())
    try:
        while (outcome := await scheduler.finished.get()) is not None:
            if isinstance(outcome, BaseException):
                raise outcome
            scheduler.outcome_read()
            yield outcome
    finally:
        scheduler.close()
        pending = [runner, *scheduler.tasks]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
