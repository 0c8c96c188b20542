"""What a test may ask of a client's connection pool: how many connections are in use and idle."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .._client import AsyncTelnyx
from .._http.aiohttp_compat import connection_counts

if TYPE_CHECKING:
    from .._sync_client import Telnyx

__all__ = ["Connections", "pool_connections"]


class Connections(NamedTuple):
    """A client pool's connections: checked out by a request or stream, and idle keep-alives."""

    in_use: int
    idle: int

    @property
    def total(self) -> int:
        return self.in_use + self.idle


def pool_connections(client: AsyncTelnyx | Telnyx) -> Connections:
    """The connections ``client`` holds now; zero before its first request and after ``close``.

    A leak check for tests: after a cancelled stream or a failed batch, ``in_use`` should be 0.
    """
    async_client = client if isinstance(client, AsyncTelnyx) else client._async  # pyright: ignore[reportPrivateUsage]
    session = async_client._transport.pool.current  # pyright: ignore[reportPrivateUsage]
    if session is None or session.connector is None:
        return Connections(0, 0)
    return Connections(*connection_counts(session.connector))
