"""``client.ai.openai``: the OpenAI-compatible endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Literal, Unpack

from .._resource import AsyncResource
from .._types import NOT_GIVEN, NotGiven, RequestOptions
from ..types.openai import OpenAIEmbeddingModelsResponse, OpenAIEmbeddingResponse

__all__ = ["AsyncOpenAI", "AsyncOpenAIEmbeddings"]


class AsyncOpenAIEmbeddings(AsyncResource):
    async def create_embeddings(
        self,
        *,
        input: str | Sequence[str],
        model: str,
        dimensions: int | NotGiven = NOT_GIVEN,
        encoding_format: Literal["float", "base64"] | NotGiven = NOT_GIVEN,
        user: str | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> OpenAIEmbeddingResponse:
        """Embed one text or a list of texts; ``data[i].embedding`` belongs to ``input[i]``."""
        body = {
            "input": input,
            "model": model,
            "dimensions": dimensions,
            "encoding_format": encoding_format,
            "user": user,
        }
        return await self._transport.request(
            "POST", "/ai/openai/embeddings", cast_to=OpenAIEmbeddingResponse, body=body, options=options
        )

    async def list_embedding_models(self, **options: Unpack[RequestOptions]) -> OpenAIEmbeddingModelsResponse:
        """The models ``create_embeddings`` accepts."""
        return await self._transport.request(
            "GET", "/ai/openai/embeddings/models", cast_to=OpenAIEmbeddingModelsResponse, options=options
        )


class AsyncOpenAI(AsyncResource):
    @cached_property
    def embeddings(self) -> AsyncOpenAIEmbeddings:
        return AsyncOpenAIEmbeddings(self._transport)
