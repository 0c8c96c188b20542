"""Embeddings asked for with ``encoding_format="base64"``: each vector is a base64 string.

Hand-written beside the generated ``openai`` module: ``create_embeddings`` returns these only when
the caller asks for base64, so every other call types ``embedding`` as ``list[float]``. Decode one
with ``numpy.frombuffer(base64.b64decode(item.embedding), dtype="<f4")``.
"""

from __future__ import annotations

from .._models import APIResponse, BaseModel
from .openai import OpenAIEmbeddingUsage

__all__ = ["OpenAIEmbeddingBase64Data", "OpenAIEmbeddingBase64Response"]


class OpenAIEmbeddingBase64Data(BaseModel):
    embedding: str
    index: int
    object: str


class OpenAIEmbeddingBase64Response(APIResponse):
    data: list[OpenAIEmbeddingBase64Data]
    model: str
    object: str
    usage: OpenAIEmbeddingUsage
