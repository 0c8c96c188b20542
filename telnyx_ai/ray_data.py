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

Rows keep their columns and gain ``embedding``. A batch whose inputs still fail after retries
raises `EmbedManyError` in the worker, and Ray's own task retries apply.

Sharing one rate limit: each worker keeps one `RateController` for all its blocks (a block does
not start from slow start again), and the workers coordinate through the server alone, as TCP
flows sharing a link do. Whenever together they send faster than the limit, the 429s land on
whoever sends next, so the fastest workers are cut most often, and every worker probes upwards
while nothing is refused; the total settles just under the limit without any shared actor (and
without one to lose). When a worker dies, Ray runs its block again on another one: the inputs of
that block are sent again, and the share of the limit it used is taken up by the others' probing
within a few seconds. ``x-ratelimit-remaining: 0``, when the server sends it, holds every worker
that sees it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ._rate_control import RateController
from ._sync_client import Telnyx

__all__ = ["TelnyxEmbedder"]


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
    ) -> None:
        self.model = model
        self.text_column = text_column
        self.output_column = output_column
        self.request_batch_size = request_batch_size
        self.request_concurrency = request_concurrency
        self.max_retries = max_retries
        # Built here, inside the worker process: a client holds sockets and a loop thread.
        self.client = Telnyx(api_key=api_key, base_url=base_url or os.environ.get("TELNYX_BASE_URL"))
        self.rate = RateController()
        """This worker's pace, kept from block to block."""

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        texts = [str(text) for text in batch[self.text_column]]
        vectors = self.client.ai.openai.embeddings.embed_many(
            texts,
            model=self.model,
            batch_size=self.request_batch_size,
            concurrency=self.request_concurrency,
            max_retries=self.max_retries,
            rate=self.rate,
        )
        return {**batch, self.output_column: vectors}

    def __del__(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
