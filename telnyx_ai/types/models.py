"""Types of the models listing (``GET /ai/models``)."""

from __future__ import annotations

from .._models import BaseModel

__all__ = ["ModelMetadata", "ModelsResponse"]


class ModelMetadata(BaseModel):
    id: str
    created: int
    owned_by: str
    object: str = "model"


class ModelsResponse(BaseModel):
    data: list[ModelMetadata]
    object: str = "list"
