"""``client.ai.conversations``: conversations, their messages and insights."""

from __future__ import annotations

from typing import Unpack

from .._request import build_path
from .._resource import AsyncResource
from .._types import RequestOptions
from ..types.conversations import ConversationRetrieveResponse

__all__ = ["AsyncConversations"]


class AsyncConversations(AsyncResource):
    async def retrieve(
        self, conversation_id: str, /, **options: Unpack[RequestOptions]
    ) -> ConversationRetrieveResponse:
        """One conversation by id."""
        path = build_path("/ai/conversations/{conversation_id}", conversation_id=conversation_id)
        return await self._transport.request("GET", path, cast_to=ConversationRetrieveResponse, options=options)
