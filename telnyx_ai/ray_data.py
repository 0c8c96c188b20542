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
        concurrency=4,  # Ray workers; each sends up to `request_concurrency` requests at once
    )
    ds.write_parquet("embeddings/")

Rows keep their columns and gain ``embedding``. A batch whose inputs still fail after retries
raises `EmbedManyError` in the worker, and Ray's own task retries apply.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

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
        request_concurrency: int = 16,
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

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        texts = [str(text) for text in batch[self.text_column]]
        vectors = self.client.ai.openai.embeddings.embed_many(
            texts,
            model=self.model,
            batch_size=self.request_batch_size,
            concurrency=self.request_concurrency,
            max_retries=self.max_retries,
        )
        return {**batch, self.output_column: vectors}

    def __del__(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
