"""Embedding a Ray Dataset with ``embed_many``: one client per Ray worker, never a pickled one.

Install with ``pip install 'telnyx-ai[ray]'``. Pass the class (not an instance) to
``Dataset.map_batches``; Ray builds one per worker process, and each builds its own client
from ``api_key`` / ``base_url`` or the ``TELNYX_*`` environment variables:

    import ray.data
    from telnyx_ai.ray_data import TelnyxEmbedder

    ds = ray.data.read_text("corpus.txt")  # one row per line, column "text"
    ds = ds.map_batches(
        TelnyxEmbedder,
        fn_constructor_kwargs={"model": "thenlper/gte-large"},
        batch_size=512,
        concurrency=4,  # Ray workers; each paces itself at its share of the rate limit
    )
    ds.write_parquet("embeddings/")

Rows keep their columns and gain ``embedding`` (``dimensions=`` asks for shorter vectors, where the
model allows it). A batch whose inputs still fail after retries
raises `EmbedManyError` in the worker, and Ray's own task retries apply.

Sharing one rate limit: the workers pace through one `RateController` held by a small Ray actor
(named after the base URL, key and model, so every worker of a job finds the same one). A worker
asks it for a few send permits at a time (about 25 ms of the shared rate), each with the moment it
may leave, and passes back what happened (round trips, 429s, ``x-ratelimit-*`` hints) with its
next request, a 429 at once. So the whole job makes one slow start, one probe, one cut per 429
epoch, whatever the number of workers. When a worker dies, its unused permits (a few) go unused
and the others take up the rate at their next requests; Ray runs its block again elsewhere, and
those inputs are sent again. The actor lives in the worker that created it: when that worker dies
or ends, the others create a new one, seeded with the rate they last heard, and go on; if no actor
can be reached, a worker paces on its own (cut by its own 429s) and tries again after a few seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from ._batch.rate_control import RateController, RateLimitHint
from ._sync_client import Telnyx
from ._types import NOT_GIVEN, NotGiven

__all__ = ["SharedRate", "TelnyxEmbedder"]


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
        self.rate: RateController = SharedRate(
            f"{self.client.base_url}|{api_key or os.environ.get('TELNYX_API_KEY', '')}|{model}"
        )
        """The pace every worker with this key and model shares, kept from block to block."""

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        texts = [str(text) for text in batch[self.text_column]]
        vectors = self.client.ai.openai.embeddings.embed_many(
            texts,
            model=self.model,
            batch_size=self.request_batch_size,
            concurrency=self.request_concurrency,
            max_retries=self.max_retries,
            dimensions=self.dimensions,
            rate=self.rate,
        )
        return {**batch, self.output_column: vectors}

    def __del__(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()


_PERMIT_SECONDS = 0.025
"""A worker asks for about this long of the shared rate at a time: few actor calls, no bursts."""
_MAX_PERMITS = 16
_STALE_PERMIT = 0.1
"""A permit not used within this long of its time is dropped (its worker was busy): no late bursts."""
_RECONNECT_AFTER = 5.0


class _RateKeeper:
    """The Ray actor's body: one `RateController` for every worker, booking sends and hearing what happened."""

    def __init__(self, seed: tuple[float, float | None] | None) -> None:
        self.rate = RateController()
        if seed is not None:  # a replacement: start where the last actor was, not in slow start
            self.rate.rate, self.rate.ceiling_rate = seed
            self.rate.slow_start = False

    def grant(
        self, count: int, round_trips: list[float], throttled: list[int], hint: RateLimitHint | None
    ) -> tuple[list[tuple[int, float]], float, float | None]:
        """Take in a worker's news, then book ``count`` sends: ``(epoch, seconds from now)`` each, and the rate."""
        self.report(round_trips, throttled, hint)
        return [self.rate.reserve() for _ in range(count)], self.rate.rate, self.rate.ceiling_rate

    def report(self, round_trips: list[float], throttled: list[int], hint: RateLimitHint | None) -> None:
        for round_trip in round_trips:
            self.rate.succeeded(round_trip)
        for epoch in throttled:
            self.rate.throttled(epoch)
        self.rate.advise(hint)


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
        super().throttled(epoch)
        self._throttled.append(epoch)
        if self._actor is not None:  # a 429 is news for every worker at once
            self._actor.report.remote(*self._news())

    def advise(self, hint: RateLimitHint | None) -> None:
        super().advise(hint)
        self._hint = hint or self._hint

    def _news(self) -> tuple[list[float], list[int], RateLimitHint | None]:
        news = (self._round_trips, self._throttled, self._hint)
        self._round_trips, self._throttled, self._hint = [], [], None
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
                permits, rate, ceiling = await actor.grant.remote(count, *self._news())
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
        actor: Any = remote(_RateKeeper).options(name=self.name, get_if_exists=True, num_cpus=0, max_concurrency=1)
        self._actor = actor.remote(seed)
        return self._actor
