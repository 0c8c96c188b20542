"""``client.ai``: the AI endpoints, and the sub-resources under ``/ai``."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Unpack

from .._resource import AsyncResource
from .._types import RequestOptions
from ..types.models import ModelsResponse

if TYPE_CHECKING:
    from .assistants import AsyncAssistants
    from .chat import AsyncChat
    from .conversations import AsyncConversations
    from .openai import AsyncOpenAI

__all__ = ["AsyncAI"]


class AsyncAI(AsyncResource):
    # Sub-resources import their module on first use, keeping `import telnyx_ai` fast.

    @cached_property
    def assistants(self) -> AsyncAssistants:
        from .assistants import AsyncAssistants

        return AsyncAssistants(self._transport)

    @cached_property
    def chat(self) -> AsyncChat:
        from .chat import AsyncChat

        return AsyncChat(self._transport)

    @cached_property
    def conversations(self) -> AsyncConversations:
        from .conversations import AsyncConversations

        return AsyncConversations(self._transport)

    @cached_property
    def openai(self) -> AsyncOpenAI:
        from .openai import AsyncOpenAI

        return AsyncOpenAI(self._transport)

    async def retrieve_models(self, **options: Unpack[RequestOptions]) -> ModelsResponse:
        """The models available for chat completions."""
        return await self._transport.request("GET", "/ai/models", cast_to=ModelsResponse, options=options)
