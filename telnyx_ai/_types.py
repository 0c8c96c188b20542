"""Small value types shared by every layer: the not-given sentinel and per-call options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypedDict, final

from ._config import TimeoutTypes

__all__ = [
    "NOT_GIVEN",
    "Body",
    "Headers",
    "NotGiven",
    "Query",
    "RequestOptions",
]


@final
class NotGiven:
    """Marks an optional argument the caller did not pass, so it is left out of the request.

    ``None`` cannot serve: for some fields ``null`` is a value the API accepts.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

Headers = Mapping[str, str]
Query = Mapping[str, object]
Body = Mapping[str, object]


class RequestOptions(TypedDict, total=False):
    """Per-call extras every operation accepts as keyword arguments."""

    extra_headers: Headers | None
    """Headers added to (or overriding) the client's for this call."""
    extra_query: Query | None
    """Query parameters added to this call."""
    extra_body: Body | None
    """JSON fields merged into the request body (they win over named arguments)."""
    timeout: TimeoutTypes | NotGiven
    """This call's timeout, overriding the client's."""
