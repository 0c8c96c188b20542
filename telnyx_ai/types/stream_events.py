"""What every typed stream shares: `UnknownEvent`, an event of a type the SDK does not know yet."""

from __future__ import annotations

from typing import Any

from .._models import BaseModel

__all__ = ["UnknownEvent"]


class UnknownEvent(BaseModel):
    """An event whose ``type`` this version of the SDK does not know (or that holds a block or delta of
    such a type): kept whole, never fatal, so a server adding events breaks no stream.

    ``data`` is the event's JSON, decoded; ``type`` is its ``"type"``.
    """

    type: str
    data: dict[str, Any]
