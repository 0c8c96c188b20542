"""The events of a streamed assistant chat (``assistants.chat(..., stream=True)``): ``delta`` events carry
pieces of the reply as it is generated, a final ``done`` event the whole reply and any
``whatsapp_template``, and an ``error`` event a failure after the stream started (it is raised).

An event's kind is its SSE event name, or its JSON ``"type"`` when it has no name; its data is the
JSON object with the fields below.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeAlias

from .._models import BaseModel
from .stream_events import UnknownEvent

__all__ = ["AssistantChatDelta", "AssistantChatDone", "AssistantChatError", "AssistantChatEvent", "UnknownEvent"]


class AssistantChatDelta(BaseModel, tag_field="type", tag="delta"):
    """A piece of the reply: ``event.content``."""

    type: ClassVar[Literal["delta"]] = "delta"
    content: str = ""


class AssistantChatDone(BaseModel, tag_field="type", tag="done"):
    """The last event: the whole reply, and the WhatsApp template the assistant chose, if any."""

    type: ClassVar[Literal["done"]] = "done"
    content: str = ""
    whatsapp_template: dict[str, Any] | None = None


class AssistantChatError(BaseModel, tag_field="type", tag="error"):
    """A failure after the stream started (the stream raises `APIStreamError`)."""

    type: ClassVar[Literal["error"]] = "error"
    message: str = ""
    error: Any = None


AssistantChatEvent: TypeAlias = AssistantChatDelta | AssistantChatDone | AssistantChatError | UnknownEvent
"""One event of an assistant chat stream."""
