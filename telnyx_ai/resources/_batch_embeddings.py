"""``embed_many`` and ``embed_many_iter``: the batch helpers of ``client.ai.openai.embeddings``.

Hand-written; the generated `AsyncOpenAIEmbeddings` inherits them. The batching engine is
`telnyx_ai._embed_many`; this class only binds it to the embeddings endpoint.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Sized
from contextlib import aclosing
from typing import Unpack

from .._checks import check_arguments
from .._embed_many import (
    BATCH_RETRIES,
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    EmbedJob,
    ProgressCallback,
    Texts,
    embed_all,
    embed_as_completed,
)
from .._resource import AsyncResource
from .._types import NOT_GIVEN, NotGiven, RequestOptions
from ..types.openai import OpenAIEmbeddingResponse

__all__ = ["AsyncBatchEmbeddings"]


def _check(method: str, model: str, dimensions: int | NotGiven, options: RequestOptions) -> None:
    """Wrong types and misspelled keywords (``batchsize=``) fail before any work starts."""
    others = tuple(inspect.signature(getattr(AsyncBatchEmbeddings, method)).parameters)[2:] if options else ()
    check_arguments(
        f"ai.openai.embeddings.{method}",
        strings={"model": model},
        numbers={"dimensions": dimensions},
        options=options,
        others=others,
    )


class AsyncBatchEmbeddings(AsyncResource):
    def _sender(
        self, model: str, dimensions: int | NotGiven, options: RequestOptions
    ) -> Callable[[list[str]], Awaitable[OpenAIEmbeddingResponse]]:
        # Batches retry in the engine (which also slows down on 429s), so requests themselves do not.
        transport = self._transport.with_config(max_retries=0)

        async def send(batch: list[str]) -> OpenAIEmbeddingResponse:
            body = {"input": batch, "model": model, "dimensions": dimensions}
            return await transport.request(
                "POST", "/ai/openai/embeddings", cast_to=OpenAIEmbeddingResponse, body=body, options=options
            )

        return send

    def _job(
        self, *, batch_size: int, concurrency: int, max_retries: int | None, on_progress: ProgressCallback | None
    ) -> EmbedJob:
        if max_retries is None:  # batches retry harder than single calls, or as hard as the client asks
            max_retries = max(BATCH_RETRIES, self._transport.config.max_retries)
        return EmbedJob(
            batch_size=batch_size, concurrency=concurrency, max_retries=max_retries, on_progress=on_progress
        )

    def _progress(
        self, texts: Texts, progress: bool | ProgressCallback
    ) -> tuple[ProgressCallback | None, Callable[[], None] | None]:
        if progress is True:
            from .._progress import progress_bar  # rich is imported only when a bar is asked for

            return progress_bar(len(texts) if isinstance(texts, Sized) else None)
        return (progress or None), None

    async def embed_many(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        progress: bool | ProgressCallback = False,
        **options: Unpack[RequestOptions],
    ) -> list[list[float]]:
        """Embed every text, ``batch_size`` per request with up to ``concurrency`` requests in flight.

        Returns one vector per input, in input order. ``texts`` may be a list, any iterable or an
        async iterable; it is read lazily. Failed batches are retried (``max_retries``: by default
        8, or the client's setting if higher) and a 429 halves the requests in flight. If inputs
        still fail, `EmbedManyError` carries the vectors that succeeded and the failed indices
        with their causes.
        ``progress=True`` shows a rich progress bar; a callable receives `EmbedProgress` updates.
        """
        _check("embed_many", model, dimensions, options)
        on_progress, close = self._progress(texts, progress)
        try:
            job = self._job(
                batch_size=batch_size, concurrency=concurrency, max_retries=max_retries, on_progress=on_progress
            )
            return await embed_all(self._sender(model, dimensions, options), texts, job)
        finally:
            if close is not None:
                close()

    async def embed_many_iter(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        progress: bool | ProgressCallback = False,
        **options: Unpack[RequestOptions],
    ) -> AsyncGenerator[tuple[int, list[float]], None]:
        """Like `embed_many`, but yield ``(index, vector)`` as batches finish and keep nothing.

        For corpora that do not fit in memory. Failures are raised as `EmbedManyError` once every
        other input has been yielded. Use it with ``async for``; to stop early, wrap it in
        ``contextlib.aclosing`` so in-flight requests are cancelled at once.
        """
        _check("embed_many_iter", model, dimensions, options)
        on_progress, close = self._progress(texts, progress)
        try:
            job = self._job(
                batch_size=batch_size, concurrency=concurrency, max_retries=max_retries, on_progress=on_progress
            )
            pairs = embed_as_completed(self._sender(model, dimensions, options), texts, job)
            async with aclosing(pairs):
                async for pair in pairs:
                    yield pair
        finally:
            if close is not None:
                close()
