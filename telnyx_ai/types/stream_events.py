"""What the protocols share: `UnknownEvent`, an event of a type the SDK does not know yet, and
`UnknownItem`, an output item or content block of such a type inside a whole reply."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar, Literal, cast

import msgspec

from .._models import BaseModel

__all__ = ["UnknownEvent", "UnknownItem", "with_unknown_items"]


class UnknownEvent(BaseModel):
    """An event whose ``type`` this version of the SDK does not know (or that holds a block or delta of
    such a type): kept whole, never fatal, so a server adding events breaks no stream.

    ``data`` is the event's JSON, decoded; ``type`` is its ``"type"``.
    """

    type: str
    data: dict[str, Any]


class UnknownItem(BaseModel, tag_field="type", tag="unknown"):
    """An output item or content block of a ``type`` this version does not know, in a whole reply: ``kind``
    is its type and ``data`` its JSON, kept so that a server adding item types breaks no reply."""

    type: ClassVar[Literal["unknown"]] = "unknown"
    kind: str = ""
    data: dict[str, Any] = {}


def with_unknown_items(raw: bytes, field: str, known: Collection[str]) -> dict[str, Any]:
    """The reply ``raw`` decoded to a dict, each item of its list ``field`` whose ``type`` is not in
    ``known`` wrapped as an `UnknownItem` (the slow path, taken only when the typed decode failed)."""
    data = msgspec.json.decode(raw)
    if not isinstance(data, dict):
        raise msgspec.ValidationError("Expected `object`")
    reply = cast("dict[str, Any]", data)
    items = reply.get(field)
    if isinstance(items, list):
        reply[field] = [
            item
            if not isinstance(item, dict) or cast("dict[str, Any]", item).get("type") in known
            else {"type": "unknown", "kind": str(cast("dict[str, Any]", item).get("type")), "data": item}
            for item in cast("list[object]", items)
        ]
    return reply
