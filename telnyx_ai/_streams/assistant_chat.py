"""The assistant chat protocol (``PROTOCOL``): ``delta`` events, then a ``done`` event with the whole reply;
an ``error`` event is raised. An event's kind is its SSE event name, or its JSON ``"type"`` without one."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ..types.assistant_chat import AssistantChatDelta, AssistantChatDone, AssistantChatError, AssistantChatEvent
from ..types.stream_events import UnknownEvent
from .pieces import Pieces
from .protocol import Accumulator, TaggedEvents

__all__ = ["PROTOCOL", "AssistantChatAccumulator", "AssistantChatProtocol"]

_KINDS: dict[str, Any] = {"delta": AssistantChatDelta, "done": AssistantChatDone, "error": AssistantChatError}


class AssistantChatAccumulator(Accumulator[AssistantChatEvent]):
    """Joins the deltas; `final` is the ``done`` event (with the joined deltas where it has no content)."""

    __slots__ = ("_done", "_pieces")

    def __init__(self) -> None:
        super().__init__()
        self._pieces = Pieces()
        self._done: AssistantChatDone | None = None

    def add(self, items: list[AssistantChatEvent]) -> int | None:
        for event in items:
            if isinstance(event, AssistantChatDelta):
                self._pieces.add(event.content)
            elif isinstance(event, AssistantChatDone):
                self._done = event
                self.ended = True
                return items.index(event) + 1
            elif isinstance(event, AssistantChatError):
                self.failed = True
                return items.index(event)
        return None

    def texts(self, items: list[AssistantChatEvent]) -> list[str]:
        return [e.content for e in items if isinstance(e, AssistantChatDelta) and e.content]

    def final(self) -> AssistantChatDone:
        done = self._done or AssistantChatDone()
        return done if done.content else msgspec.structs.replace(done, content=self._pieces.text())

    def final_text(self) -> str:
        return self.final().content


class AssistantChatProtocol(TaggedEvents[AssistantChatEvent]):
    """Assistant chat (``/ai/assistants/{assistant_id}/chat``)."""

    name = "assistant chat event"
    end = "done event"
    names_in_data = False

    def __init__(self) -> None:
        super().__init__(AssistantChatDelta | AssistantChatDone | AssistantChatError, frozenset(_KINDS), UnknownEvent)
        self._by_name = {name: msgspec.json.Decoder(kind).decode for name, kind in _KINDS.items()}

    def decode(self, data: bytes, event: str) -> AssistantChatEvent:
        by_name = self._by_name.get(event)
        if by_name is not None:
            decoded: AssistantChatEvent = by_name(data)
            return decoded
        if event != "message":
            return UnknownEvent(type=event, data=_object(data))
        return super().decode(data, event)

    def accumulator(self) -> AssistantChatAccumulator:
        return AssistantChatAccumulator()


def _object(data: bytes) -> dict[str, Any]:
    decoded: object = msgspec.json.decode(data)
    return decoded if isinstance(decoded, dict) else {"data": decoded}  # pyright: ignore[reportUnknownVariableType]


PROTOCOL: Final = AssistantChatProtocol()
