"""``embed_many`` and ``embed_many_iter``: the batch helpers of ``client.ai.openai.embeddings``.

Hand-written; the generated `AsyncOpenAIEmbeddings` inherits them. The batching engine is
`telnyx_ai._batch.engine`; this class only binds it to the embeddings endpoint. It also answers the
generated ``create_embeddings`` when ``encoding_format`` is not given (the ``unset`` hook of its
``[value_switch]``): base64 on the wire (`telnyx_ai._batch.wire_format`), floats to the caller (`telnyx_ai._batch.vectors`).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable, Collection, Sized
from contextlib import aclosing
from typing import TYPE_CHECKING, Literal, Unpack, overload

from aiohttp import ClientResponse

from .._batch.engine import (
    BATCH_RETRIES,
    DEFAULT_BATCH_SIZE,
    RATE_LIMIT_TIMEOUT,
    BatchReply,
    EmbedJob,
    ProgressCallback,
    RateController,
    SendBatch,
    Texts,
    embed_all,
    embed_all_float32,
    embed_as_completed,
    embed_as_completed_float32,
)
from .._batch.inputs import total_to_send
from .._batch.vectors import WireEmbeddingResponse, require_numpy
from .._batch.wire_format import PROBE_WAIT, needs_probe, request_embeddings, request_float_embeddings
from .._checks import check_arguments
from .._http.request import RETRY_COUNT_HEADER
from .._resource import AsyncResource
from .._types import NOT_GIVEN, Body, NotGiven, RequestOptions
from ..types.openai import OpenAIEmbeddingResponse

if TYPE_CHECKING:
    from .._types import Float32Array

__all__ = ["AsyncBatchEmbeddings"]


def _check(
    method: str,
    model: str,
    dimensions: int | NotGiven,
    rate_limit_timeout: float,
    as_numpy: bool,
    options: RequestOptions,
) -> None:
    """Wrong types and misspelled keywords (``batchsize=``) fail before any work starts; so does a missing numpy."""
    others = tuple(inspect.signature(getattr(AsyncBatchEmbeddings, method)).parameters)[2:] if options else ()
    check_arguments(
        f"ai.openai.embeddings.{method}",
        strings={"model": model},
        numbers={"dimensions": dimensions, "rate_limit_timeout": rate_limit_timeout},
        options=options,
        others=others,
    )
    if not isinstance(as_numpy, bool):  # pyright: ignore[reportUnnecessaryIsInstance]  # untyped callers
        raise TypeError(f"{method}() argument 'as_numpy' must be True or False, not {type(as_numpy).__name__}.")
    if as_numpy:
        require_numpy()


def _with_retry_count(options: RequestOptions, retry: int) -> RequestOptions:
    """The engine retries batches itself: each attempt still says which one it is (``X-Retry-Count``)."""
    headers = {**(options.get("extra_headers") or {}), RETRY_COUNT_HEADER: str(retry)}
    return {**options, "extra_headers": headers}


class AsyncBatchEmbeddings(AsyncResource):
    async def _create_embeddings_unset(self, body: Body, options: RequestOptions) -> OpenAIEmbeddingResponse:
        """``create_embeddings`` without ``encoding_format``: asked in base64 (unless refused or ignored), returned as floats."""
        return await request_float_embeddings(self._transport, body, options)

    def _sender(self, model: str, dimensions: int | NotGiven, options: RequestOptions) -> SendBatch:
        # Batches retry in the engine (which paces them and frees their slot while they wait), so requests do not.
        transport = self._transport.with_config(max_retries=0)

        async def send(batch: list[str], retry: int, key: str) -> BatchReply:
            seen: list[ClientResponse | None] = []
            body = {"input": batch, "model": model, "dimensions": dimensions}
            attempt_options = options if not retry else _with_retry_count(options, retry)
            reply: WireEmbeddingResponse = await request_embeddings(
                transport.observed(seen.append), body, attempt_options, wait_for_probe=False, idempotency_key=key
            )
            answered = seen[-1] if seen else None
            return BatchReply(reply.data, answered.headers if answered is not None else {})

        return send

    def _job(
        self,
        *,
        batch_size: int,
        concurrency: int | None,
        max_retries: int | None,
        rate_limit_timeout: float,
        on_progress: ProgressCallback | None,
        rate: RateController | None,
        model: str,
        options: RequestOptions,
        skip: Collection[int] = frozenset(),
    ) -> EmbedJob:
        if max_retries is None:  # batches retry harder than single calls, or as hard as the client asks
            max_retries = max(BATCH_RETRIES, self._transport.config.max_retries)
        if concurrency is None:  # a ceiling only: as many as the pool has connections
            concurrency = self._transport.config.max_connections
        return EmbedJob(
            batch_size=batch_size,
            concurrency=concurrency,
            max_retries=max_retries,
            rate_limit_timeout=rate_limit_timeout,
            on_progress=on_progress,
            rate=rate,
            skip=skip,
            # Until this client knows the model's wire format, the first request finds out alone.
            first_alone=PROBE_WAIT if needs_probe(self._transport, model, options) else 0.0,
        )

    def _progress(
        self, texts: Texts, progress: bool | ProgressCallback, skip: Collection[int] = frozenset()
    ) -> tuple[ProgressCallback | None, Callable[[], None] | None]:
        if progress is True:
            from .._batch.progress import progress_bar  # rich is imported only when a bar is asked for

            return progress_bar(total_to_send(texts, skip) if isinstance(texts, Sized) else None)
        return (progress or None), None

    @overload
    async def embed_many(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int | None = None,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        rate_limit_timeout: float = RATE_LIMIT_TIMEOUT,
        progress: bool | ProgressCallback = False,
        rate: RateController | None = None,
        as_numpy: Literal[False] = False,
        **options: Unpack[RequestOptions],
    ) -> list[list[float]]: ...
    @overload
    async def embed_many(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int | None = None,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        rate_limit_timeout: float = RATE_LIMIT_TIMEOUT,
        progress: bool | ProgressCallback = False,
        rate: RateController | None = None,
        as_numpy: Literal[True],
        **options: Unpack[RequestOptions],
    ) -> Float32Array: ...
    @overload
    async def embed_many(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int | None = None,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        rate_limit_timeout: float = RATE_LIMIT_TIMEOUT,
        progress: bool | ProgressCallback = False,
        rate: RateController | None = None,
        as_numpy: bool = False,
        **options: Unpack[RequestOptions],
    ) -> list[list[float]] | Float32Array: ...
    async def embed_many(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int | None = None,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        rate_limit_timeout: float = RATE_LIMIT_TIMEOUT,
        progress: bool | ProgressCallback = False,
        rate: RateController | None = None,
        as_numpy: bool = False,
        **options: Unpack[RequestOptions],
    ) -> list[list[float]] | Float32Array:
        """Embed every text, ``batch_size`` per request, as fast as the server's rate limit allows.

        Returns one vector per input, in input order. ``texts`` may be a list, any iterable or an
        async iterable; it is read lazily. ``concurrency`` is a ceiling on requests in flight (by
        default the client's ``max_connections``); the job finds the server's rate below it from
        429s and ``x-ratelimit-*`` headers. Failed batches are retried (``max_retries``: by default
        8, or the client's setting if higher) without holding a slot; a 429 is pacing and does not
        count, but when no batch succeeds for ``rate_limit_timeout`` seconds (default 600) while
        429s come back, the job gives up on every input not yet embedded. A batch rejected with
        400/413/422 is halved until the inputs at fault are alone. If inputs still fail,
        `EmbedManyError` carries the vectors that succeeded and the failed indices with their causes.
        ``progress=True`` shows a rich progress bar; a callable receives `EmbedProgress` updates.
        ``rate`` shares one `RateController` between jobs that hit the same limit.
        ``as_numpy=True`` returns one (N, D) float32 numpy array instead, filled as batches arrive
        (``pip install 'telnyx-ai[numpy]'``). Vectors travel as base64 unless the server refuses it.
        """
        _check("embed_many", model, dimensions, rate_limit_timeout, as_numpy, options)
        on_progress, close = self._progress(texts, progress)
        try:
            job = self._job(
                batch_size=batch_size,
                concurrency=concurrency,
                max_retries=max_retries,
                rate_limit_timeout=rate_limit_timeout,
                on_progress=on_progress,
                rate=rate,
                model=model,
                options=options,
            )
            send = self._sender(model, dimensions, options)
            if as_numpy:
                return await embed_all_float32(send, texts, job)
            return await embed_all(send, texts, job)
        finally:
            if close is not None:
                close()

    @overload
    def embed_many_iter(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int | None = None,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        rate_limit_timeout: float = RATE_LIMIT_TIMEOUT,
        progress: bool | ProgressCallback = False,
        rate: RateController | None = None,
        skip: Collection[int] = frozenset(),
        as_numpy: Literal[False] = False,
        **options: Unpack[RequestOptions],
    ) -> AsyncGenerator[tuple[int, list[float]], None]: ...
    @overload
    def embed_many_iter(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int | None = None,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        rate_limit_timeout: float = RATE_LIMIT_TIMEOUT,
        progress: bool | ProgressCallback = False,
        rate: RateController | None = None,
        skip: Collection[int] = frozenset(),
        as_numpy: Literal[True],
        **options: Unpack[RequestOptions],
    ) -> AsyncGenerator[tuple[int, Float32Array], None]: ...
    @overload
    def embed_many_iter(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int | None = None,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        rate_limit_timeout: float = RATE_LIMIT_TIMEOUT,
        progress: bool | ProgressCallback = False,
        rate: RateController | None = None,
        skip: Collection[int] = frozenset(),
        as_numpy: bool = False,
        **options: Unpack[RequestOptions],
    ) -> AsyncGenerator[tuple[int, list[float]] | tuple[int, Float32Array], None]: ...
    async def embed_many_iter(
        self,
        texts: Texts,
        *,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int | None = None,
        dimensions: int | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        rate_limit_timeout: float = RATE_LIMIT_TIMEOUT,
        progress: bool | ProgressCallback = False,
        rate: RateController | None = None,
        skip: Collection[int] = frozenset(),
        as_numpy: bool = False,
        **options: Unpack[RequestOptions],
    ) -> AsyncGenerator[tuple[int, list[float]] | tuple[int, Float32Array], None]:
        """Like `embed_many`, but yield ``(index, vector)`` as batches finish and keep nothing.

        For corpora that do not fit in memory. ``skip`` holds indices already embedded (a resumed
        job): they are read past and never sent. Failures are raised as `EmbedManyError` once every
        other input has been yielded. Use it with ``async for``; to stop early, wrap it in
        ``contextlib.aclosing`` so in-flight requests are cancelled at once. With ``as_numpy=True``
        each vector is a 1-D float32 numpy array.
        """
        _check("embed_many_iter", model, dimensions, rate_limit_timeout, as_numpy, options)
        on_progress, close = self._progress(texts, progress, skip)
        try:
            job = self._job(
                batch_size=batch_size,
                concurrency=concurrency,
                max_retries=max_retries,
                rate_limit_timeout=rate_limit_timeout,
                on_progress=on_progress,
                rate=rate,
                model=model,
                options=options,
                skip=skip,
            )
            send = self._sender(model, dimensions, options)
            pairs: AsyncGenerator[tuple[int, list[float]] | tuple[int, Float32Array], None] = (
                embed_as_completed_float32(send, texts, job) if as_numpy else embed_as_completed(send, texts, job)
            )
            async with aclosing(pairs):
                async for pair in pairs:
                    yield pair
        finally:
            if close is not None:
                close()
