"""Small value types shared by every layer: the not-given sentinel, timeouts, per-call options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypedDict, final

__all__ = [
    "NOT_GIVEN",
    "Body",
    "Headers",
    "NotGiven",
    "Query",
    "RequestOptions",
    "Timeout",
    "TimeoutTypes",
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


@final
class Timeout:
    """Connect, read and pool limits in seconds.

    ``read`` bounds the wait for each next piece of the response, not the whole response,
    so a stream that keeps sending bytes is never cut. ``connect`` bounds opening a connection.
    ``pool`` bounds everything before the request is sent: waiting for a free pooled connection,
    name resolution and connecting (off by default, since a busy pool is the caller's own queue).
    ``None`` disables a limit.
    """

    __slots__ = ("connect", "pool", "read")

    def __init__(self, read: float | None = 60.0, *, connect: float | None = 5.0, pool: float | None = None) -> None:
        for name, value in (("connect", connect), ("read", read), ("pool", pool)):
            if value is not None and not value > 0:
                raise ValueError(f"Timeout {name} must be a positive number of seconds or None, got {value!r}")
        self.connect = connect
        self.read = read
        self.pool = pool

    def __repr__(self) -> str:
        return f"Timeout(read={self.read!r}, connect={self.connect!r}, pool={self.pool!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and (self.connect, self.read, self.pool) == (
            other.connect,
            other.read,
            other.pool,
        )

    def __hash__(self) -> int:
        return hash((self.connect, self.read, self.pool))


TimeoutTypes = float | Timeout | None
"""A timeout as callers may give it: seconds for both limits, a `Timeout`, or None for none."""


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
