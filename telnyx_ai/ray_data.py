"""Embedding a Ray Dataset with ``embed_many``: one client per Ray worker, never a pickled one.

Install with ``pip install 'telnyx-ai[ray]'``. Pass the class (not an instance) to
``Dataset.map_batches``; Ray builds one per worker process, and each builds its own client
from ``api_key`` / ``base_url`` or the ``TELNYX_*`` environment variables:

    import ray.data
    from telnyx_ai.ray_data import TelnyxEmbedder

    ds = ray.data.read_text("corpus.txt")  # one row per line, column "text"
    ds = ds.map_batches(
        TelnyxEmbedder,
        fn_constructor_kwargs={"model": "thenlper/gte-large", "request_batch_size": 16},
        batch_size=2000,  # rows per call: about 100 requests or more
        # 4 workers sharing one rate limit, each embedding two blocks at a time (the embeddings guide says why)
        compute=ray.data.ActorPoolStrategy(
            size=4, max_concurrent_calls_per_actor=2, max_tasks_in_flight_per_actor=2, enable_true_multi_threading=True
        ),
        num_cpus=0.25,
    )
    ds.write_parquet("embeddings/")

Rows keep their columns and gain ``embedding`` (``dimensions=`` asks for shorter vectors, where the
model allows it). A batch whose inputs still fail after retries
raises `EmbedManyError` in the worker, and Ray's own task retries apply.

Sharing one rate limit: the workers pace through one `RateController` held by a small Ray actor
(named after the base URL, key and model, so every worker of a job finds the same one). A worker
asks it for a few send permits at a time (about 25 ms of the shared rate), each with the moment it
may leave, and passes back what happened (round trips, 429s, ``x-ratelimit-*`` hints) with its
next request, a 429 at once (and drops the permits it still holds: they were booked at the pace
just refused). So the whole job makes one slow start, one probe, one cut per 429 epoch, whatever
the number of workers. The actor is detached: it outlives the worker that created it (Ray would
otherwise end it with that worker, and the others would wait for a new one), and ends itself once
no worker has asked it for a minute (its lease). If it cannot be reached, the others create a new
one, seeded with the rate they last heard; failing that, a worker paces on its own (cut by its own
429s) and tries again after a few seconds.

A worker that dies loses only its requests in flight: each request-sized chunk a Ray task embedded
is held by the actor until that worker starts its next task (a task may call the embedder for
several batches, and Ray runs it whole again), so the attempt Ray makes at the task next (in a new
worker) is served those chunks without sending them again; it returns every row once. The actor
holds about one block's vectors per running task, and drops what a task that never finished kept
after ten minutes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from contextlib import aclosing
from typing import Any

from ._batch.rate_control import RateController, RateLimitHint
from ._sync_client import Telnyx
from ._types import NOT_GIVEN, NotGiven

__all__ = ["NAMESPACE", "SharedRate", "TelnyxEmbedder"]

NAMESPACE = "telnyx_ai"
"""The Ray namespace of the shared actors (``ray.get_actor(SharedRate(key).name, namespace=NAMESPACE)``)."""


class TelnyxEmbedder:
    """A callable class for ``map_batches``: embeds ``text_column`` into ``output_column``."""

    def __init__(
        self,
        *,
        model: str,
        text_column: str = "text",
        output_column: str = "embedding",
        api_key: str | None = None,
        base_url: str | None = None,
        request_batch_size: int = 64,
        request_concurrency: int | None = None,
        max_retries: int | None = None,
        dimensions: int | None = None,
    ) -> None:
        self.model = model
        self.dimensions: int | NotGiven = NOT_GIVEN if dimensions is None else dimensions
        self.text_column = text_column
        self.output_column = output_column
        self.request_batch_size = request_batch_size
        self.request_concurrency = request_concurrency
        self.max_retries = max_retries
        # Built here, inside the worker process: a client holds sockets and a loop thread.
        self.client = Telnyx(api_key=api_key, base_url=base_url or os.environ.get("TELNYX_BASE_URL"))
        self.rate = SharedRate(f"{self.client.base_url}|{api_key or os.environ.get('TELNYX_API_KEY', '')}|{model}")
        """The pace every worker with this key and model shares, kept from block to block."""
        self._tasks: dict[int, tuple[str | None, list[str]]] = {}
        """Per calling thread: its Ray task, and the chunks its batches kept at the actor so far."""

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        texts = [str(text) for text in batch[self.text_column]]
        bridge = self.client._bridge  # pyright: ignore[reportPrivateUsage]  # the client's own loop thread
        vectors = bridge.call(self._embed, texts, (threading.get_ident(), _current_task()))
        return {**batch, self.output_column: vectors}

    async def _embed(self, texts: list[str], caller: tuple[int, str | None]) -> list[list[float]]:
        """The batch's vectors, in order. Request-sized chunks another attempt at this Ray task already embedded
        (Ray runs a task again when its worker dies) are served by the shared actor, not sent again; each
        chunk embedded here is handed to it until the task is done (`_done_with`)."""
        size = self.request_batch_size
        chunks = self._chunks(texts)
        vectors: list[list[float] | None] = [None] * len(texts)
        skip: set[int] = set()
        for number, kept in (await self.rate.recall(chunks)).items():
            vectors[number * size : number * size + len(kept)] = kept
            skip.update(range(number * size, number * size + len(kept)))
        left = [min(size, len(texts) - start) for start in range(0, len(texts), size)]
        embeddings = self.client._async.ai.openai.embeddings  # pyright: ignore[reportPrivateUsage]
        pairs = embeddings.embed_many_iter(
            texts,
            model=self.model,
            batch_size=size,
            concurrency=self.request_concurrency,
            max_retries=self.max_retries,
            dimensions=self.dimensions,
            rate=self.rate,
            skip=skip,
        )
        try:
            async with aclosing(pairs):
                async for index, vector in pairs:
                    vectors[index] = vector
                    number = index // size
                    left[number] -= 1
                    if not left[number]:
                        self.rate.keep(chunks[number], vectors[number * size : number * size + size])  # type: ignore[arg-type]
        except BaseException:
            self.rate.flush()  # Ray will run the block again: what was embedded waits at the actor
            raise
        self._done_with(chunks, *caller)
        done: list[list[float]] = vectors  # type: ignore[assignment]  # embed_many_iter raised if any failed
        return done

    def _done_with(self, chunks: list[str], thread: int, task: str | None) -> None:
        """A batch is embedded. Its chunks are needed until its Ray task ends: a task may call us for several
        batches (a block of 2,080 rows is 2,000 and 80 with ``batch_size=2000``), and Ray runs it whole again.
        A thread's next task says the last one ended; outside a Ray task, a call is a task."""
        if task is None:
            self.rate.forget(chunks)
            return
        last_task, held = self._tasks.get(thread, (None, []))
        if last_task != task:
            self.rate.forget(held)
            held = []
        self._tasks[thread] = (task, held + chunks)
        self.rate.flush()  # the batch's last chunks go to the actor now: this worker may not ask again

    def _chunks(self, texts: list[str]) -> list[str]:
        """The names of the block's request-sized chunks at the shared actor."""
        size = self.request_batch_size
        return [_digest(self.dimensions, texts[start : start + size]) for start in range(0, len(texts), size)]

    def __del__(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()


def _current_task() -> str | None:
    """The Ray task this thread runs (the same for each batch of a block, and for a retry of it), if any."""
    import ray

    if not ray.is_initialized():
        return None
    context: Any = ray.get_runtime_context()  # Ray's stubs type the runtime context only loosely
    task: str | None = context.get_task_id()
    return task


def _digest(dimensions: int | NotGiven, texts: list[str]) -> str:
    """A chunk's name at the shared actor: its texts and the vector size asked for (the actor is per model)."""
    return hashlib.sha256(repr((dimensions, texts)).encode()).hexdigest()


_PERMIT_SECONDS = 0.025
"""A worker asks for about this long of the shared rate at a time: few actor calls, no bursts."""
_MAX_PERMITS = 16
_STALE_PERMIT = 0.1
"""A permit not used within this long of its time is dropped (its worker was busy): no late bursts."""
_RECONNECT_AFTER = 5.0
_LEASE_SECONDS = 60.0
"""The shared actor outlives any one worker (Ray would end it with the worker that created it, stalling the
others while a new one starts) and ends itself once no worker has asked it for this long."""


_KEEP_SECONDS = 600.0
"""A chunk held this long is dropped: its block never finished (Ray gave up on it)."""

_News = tuple[list[float], list[int], RateLimitHint | None, list[tuple[str, list[list[float]]]]]
"""What a worker passes to the actor: round trips, 429s (their epochs), the last hint, chunks embedded."""


class _RateKeeper:
    """The Ray actor's body: one `RateController` for every worker, booking sends and hearing what happened."""

    def __init__(self, seed: tuple[float, float | None] | None, lease: float = _LEASE_SECONDS) -> None:
        self.rate = RateController()
        if seed is not None:  # a replacement: start where the last actor was, not in slow start
            self.rate.rate, self.rate.ceiling_rate = seed
            self.rate.slow_start = False
        self.kept: dict[str, tuple[float, list[list[float]]]] = {}
        """Chunks of tasks in progress, embedded: a task Ray runs again after its worker died is not paid twice."""
        self.pruned = time.monotonic()
        self.lease = lease
        self.last_asked = time.monotonic()
        threading.Thread(target=self._watch_lease, daemon=True).start()

    def grant(self, count: int, news: _News) -> tuple[list[tuple[int, float]], float, float | None]:
        """Take in a worker's news, then book ``count`` sends: ``(epoch, seconds from now)`` each, and the rate."""
        self.last_asked = time.monotonic()
        self.report(news)
        return [self.rate.reserve() for _ in range(count)], self.rate.rate, self.rate.ceiling_rate

    def recall(self, chunks: list[str]) -> dict[int, list[list[float]]]:
        """The vectors of those ``chunks`` (by position) that an earlier attempt at the same block embedded."""
        self.last_asked = time.monotonic()
        return {number: self.kept[chunk][1] for number, chunk in enumerate(chunks) if chunk in self.kept}

    def forget(self, chunks: list[str]) -> None:
        """A task is done: its chunks are no longer needed."""
        for chunk in chunks:
            self.kept.pop(chunk, None)

    def expire(self) -> bool:
        """End this actor if its lease ran out (no worker asked for ``lease`` seconds); False if it goes on."""
        if time.monotonic() - self.last_asked < self.lease:
            return False
        import ray.actor

        ray.actor.exit_actor()  # type: ignore[no-untyped-call]  # raises: the caller sees the actor gone, as a worker asking later does
        return True

    def _watch_lease(self) -> None:
        """Ask this actor, through Ray (so the check runs between its calls), to `expire` once idle for the lease."""
        import ray
        import ray.exceptions

        context: Any = ray.get_runtime_context()  # Ray's stubs type the runtime context only loosely
        me: Any = context.current_actor
        while True:
            time.sleep(max(0.05, self.last_asked + self.lease - time.monotonic()))
            if time.monotonic() - self.last_asked >= self.lease:
                try:
                    ray.get(me.expire.remote())
                except ray.exceptions.RayError:
                    return  # ended

    def report(self, news: _News) -> None:
        round_trips, throttled, hint, kept = news
        for round_trip in round_trips:
            self.rate.succeeded(round_trip)
        for epoch in throttled:
            self.rate.throttled(epoch)
        self.rate.advise(hint)
        now = time.monotonic()
        self.kept.update((chunk, (now, vectors)) for chunk, vectors in kept)
        if now - self.pruned > _KEEP_SECONDS / 10:  # a block Ray gave up on: its chunks go in the end
            self.pruned = now
            self.kept = {chunk: held for chunk, held in self.kept.items() if now - held[0] < _KEEP_SECONDS}


class SharedRate(RateController):
    """A `RateController` whose decisions are made by one Ray actor shared by every worker with the same ``key``.

    Drop-in for a job's ``rate``: `turn` spends permits booked by the actor, the feedback methods
    queue news for it. Without a reachable actor it paces alone, as a plain controller.
    """

    def __init__(self, key: str) -> None:
        super().__init__()
        self.name = "telnyx_ai-rate-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        self._actor: Any = None
        self._local_until = 0.0
        self._permits: deque[tuple[int, float]] = deque()
        self._round_trips: list[float] = []
        self._throttled: list[int] = []
        self._hint: RateLimitHint | None = None
        self._kept: list[tuple[str, list[list[float]]]] = []

    async def turn(self) -> int:
        while True:
            if not self._permits and not await self._fetch():
                return await super().turn()  # no actor to ask: pace alone for a while
            epoch, due = self._permits.popleft()
            now = time.monotonic()
            if due >= now - _STALE_PERMIT:
                if due > now:
                    await asyncio.sleep(due - now)
                return epoch

    def succeeded(self, round_trip: float) -> None:
        super().succeeded(round_trip)
        self._round_trips.append(round_trip)

    def throttled(self, epoch: int) -> None:
        if epoch == self.epoch:
            self._permits.clear()  # booked at the pace that was just refused: ask again, at the cut one
        super().throttled(epoch)
        self._throttled.append(epoch)
        self.flush()  # a 429 is news for every worker at once

    def advise(self, hint: RateLimitHint | None) -> None:
        super().advise(hint)
        self._hint = hint or self._hint

    def keep(self, chunk: str, vectors: list[list[float]]) -> None:
        """A chunk of a block is embedded: the actor holds it (sent with the next request) until `forget`."""
        self._kept.append((chunk, vectors))

    def flush(self) -> None:
        """Pass the news (and the chunks kept) to the actor now, not with the next request."""
        if self._actor is not None:
            self._actor.report.remote(self._news())

    def forget(self, chunks: Sequence[str]) -> None:
        """The block is done: the actor drops its chunks."""
        gone = set(chunks)
        self._kept = [(chunk, vectors) for chunk, vectors in self._kept if chunk not in gone]
        if self._actor is not None:
            self._actor.forget.remote(list(chunks))

    async def recall(self, chunks: list[str]) -> dict[int, list[list[float]]]:
        """The chunks (by position) an earlier attempt at this block embedded; none without a reachable actor."""
        import ray.exceptions

        if self._actor is None and time.monotonic() < self._local_until:
            return {}
        try:
            actor = self._actor or self._connect()
            kept: dict[int, list[list[float]]] = await actor.recall.remote(chunks)
        except ray.exceptions.RayError:
            self._actor = None
            return {}
        return kept

    def _news(self) -> _News:
        news = (self._round_trips, self._throttled, self._hint, self._kept)
        self._round_trips, self._throttled, self._hint, self._kept = [], [], None, []
        return news

    async def _fetch(self) -> bool:
        """Ask the actor for permits; False if it cannot be reached (then pace alone until `_RECONNECT_AFTER`)."""
        import ray.exceptions

        if time.monotonic() < self._local_until:
            return False
        count = max(1, min(_MAX_PERMITS, round(self.rate * _PERMIT_SECONDS)))
        for _ in range(2):  # the actor may have died with its worker: one new one, seeded with what we knew
            try:
                actor = self._actor or self._connect()
                permits, rate, ceiling = await actor.grant.remote(count, self._news())
            except ray.exceptions.RayError:
                self._actor = None
                continue
            now = time.monotonic()
            self._permits.extend((epoch, now + delay) for epoch, delay in permits)
            self.rate, self.ceiling_rate, self.slow_start = rate, ceiling, False
            self.epoch = permits[-1][0]
            return True
        self._local_until = time.monotonic() + _RECONNECT_AFTER
        return False

    def _connect(self) -> Any:
        import ray

        seed = None if self.ceiling_rate is None else (self.rate, self.ceiling_rate)
        remote: Any = ray.remote  # Ray's stubs type actor classes only loosely
        actor: Any = remote(_RateKeeper).options(
            name=self.name,
            namespace=NAMESPACE,
            get_if_exists=True,
            lifetime="detached",
            num_cpus=0,
            max_concurrency=1,
        )
        self._actor = actor.remote(seed)
        return self._actor
