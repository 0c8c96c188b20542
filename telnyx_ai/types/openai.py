"""Types of the OpenAI-compatible endpoints (``/ai/openai/...``)."""

from __future__ import annotations

from .._models import BaseModel

__all__ = [
    "OpenAIEmbeddingData",
    "OpenAIEmbeddingModelMetadata",
    "OpenAIEmbeddingModelsResponse",
    "OpenAIEmbeddingResponse",
    "OpenAIEmbeddingUsage",
]


class OpenAIEmbeddingData(BaseModel):
    """One input's vector: a list of floats, or a base64 string with ``encoding_format="base64"``."""

    embedding: list[float] | str
    index: int
    object: str = "embedding"


class OpenAIEmbeddingUsage(BaseModel):
    prompt_tokens: int = 0
    total_tokens: int = 0


class OpenAIEmbeddingResponse(BaseModel):
    """``response.data[i].embedding`` is the vector of input ``i``."""

    data: list[OpenAIEmbeddingData]
    model: str
    usage: OpenAIEmbeddingUsage | None = None
    object: str = "list"


class OpenAIEmbeddingModelMetadata(BaseModel):
    id: str
    created: int | None = None
    owned_by: str | None = None
    object: str = "model"


class OpenAIEmbeddingModelsResponse(BaseModel):
    data: list[OpenAIEmbeddingModelMetadata]
    object: str = "list"
