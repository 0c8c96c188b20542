"""Types of conversations (``/ai/conversations``)."""

from __future__ import annotations

from .._models import BaseModel

__all__ = ["Conversation", "ConversationRetrieveResponse"]


class Conversation(BaseModel):
    id: str
    created_at: str
    last_message_at: str
    metadata: dict[str, str]
    name: str | None = None


class ConversationRetrieveResponse(BaseModel):
    data: Conversation | None = None
