"""Small value types shared by every layer: the not-given sentinel, timeouts, per-call options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, TypedDict, final

if TYPE_CHECKING:  # numpy is an optional extra: only type checkers need it here
    import numpy
    from numpy.typing import NDArray

    Float32Array: TypeAlias = NDArray[numpy.float32]
    """What ``as_numpy=True`` returns: float32 vectors, one per row."""

__all__ = [
    "NOT_GIVEN",
    "OPTION_NAMES",
    "Body",
    "Headers",
    "NotGiven",
    "Query",
    "RequestOptions",
    "Timeout",
    "TimeoutTypes",
    "seconds_or_none",
    "stream_idle_of",
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

DEFAULT_READ_TIMEOUT: Final = 60.0
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_TOTAL_TIMEOUT: Final = 600.0
"""Ten minutes for a whole non-streaming attempt, as openai-python allows; streams have no total limit."""
DEFAULT_STREAM_IDLE_TIMEOUT: Final = 600.0
"""Ten minutes without a data event ends a stream: as long as the same call may take whole without
``stream=True``, so no stream that would have succeeded is cut, yet one kept open by pings alone ends."""

Headers = Mapping[str, str]
Query = Mapping[str, object]
Body = Mapping[str, object]


@final
class Timeout:
    """Connect, read, pool and total limits in seconds.

    ``read`` bounds the wait for each next piece of the response, not the whole response,
    so a stream that keeps sending bytes is never cut. ``connect`` bounds opening a connection.
    ``pool`` bounds everything before the request is sent: waiting for a free pooled connection,
    name resolution and connecting (off by default, since a busy pool is the caller's own queue).
    ``total`` bounds one whole attempt of a non-streaming request, so a server trickling bytes
    cannot hold a call forever; it never applies to streams. ``stream_idle`` bounds the time a stream
    waits for its next data event: keep-alive comments and pings reset ``read`` but not this, so a
    stream kept open by pings alone ends with `APITimeoutError`. ``None`` (or infinity) disables a limit.
    """

    __slots__ = ("connect", "pool", "read", "stream_idle", "total")

    def __init__(
        self,
        read: float | None = DEFAULT_READ_TIMEOUT,
        *,
        connect: float | None = DEFAULT_CONNECT_TIMEOUT,
        pool: float | None = None,
        total: float | None = DEFAULT_TOTAL_TIMEOUT,
        stream_idle: float | None = DEFAULT_STREAM_IDLE_TIMEOUT,
    ) -> None:
        self.connect = seconds_or_none("connect", connect)
        self.read = seconds_or_none("read", read)
        self.pool = seconds_or_none("pool", pool)
        self.total = seconds_or_none("total", total)
        self.stream_idle = seconds_or_none("stream_idle", stream_idle)

    def _key(self) -> tuple[float | None, ...]:
        return (self.read, self.connect, self.pool, self.total, self.stream_idle)

    def __repr__(self) -> str:
        return (
            f"Timeout(read={self.read!r}, connect={self.connect!r}, pool={self.pool!r}, total={self.total!r}, "
            f"stream_idle={self.stream_idle!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def stream_idle_of(timeout: TimeoutTypes) -> float | None:
    """The ``stream_idle`` limit of a timeout as callers give it (seconds alone keep the default; None: none)."""
    if timeout is None:
        return None
    return timeout.stream_idle if isinstance(timeout, Timeout) else DEFAULT_STREAM_IDLE_TIMEOUT


def seconds_or_none(name: str, value: float | None) -> float | None:
    """A limit as aiohttp can use it: positive seconds, or None for none (infinity means none)."""
    if value is None or value == float("inf"):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError(f"Timeout {name} must be a positive number of seconds or None, got {value!r}")
    return float(value)


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


OPTION_NAMES: Final = frozenset(RequestOptions.__annotations__)
"""The per-call keywords every operation takes besides its own arguments."""
