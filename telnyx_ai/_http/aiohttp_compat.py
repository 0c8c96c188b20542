"""Every use of aiohttp's private attributes, in one place.

aiohttp offers no public way to do these few things. Each access is guarded, so a release
that renames an attribute degrades to a documented fallback instead of an AttributeError;
`tests/test_aiohttp_compat.py` fails when the installed aiohttp no longer has them, so an
upgrade is noticed at once. Supported: aiohttp 3.11 to 3.x (the range in pyproject.toml).
"""

from __future__ import annotations

import aiohttp

__all__ = ["PRIVATE_ATTRIBUTES", "close_connector_now", "connection_counts", "disable_silent_retry"]

PRIVATE_ATTRIBUTES: dict[type, tuple[str, ...]] = {
    aiohttp.ClientSession: ("_retry_connection",),
    aiohttp.BaseConnector: ("_acquired", "_conns", "_close"),
}
"""The private attributes used here, by the class that has them (the test checks each)."""


def disable_silent_retry(session: aiohttp.ClientSession) -> None:
    """Stop aiohttp resending a GET/PUT/DELETE by itself when a pooled connection drops.

    The SDK's retry policy is then the only one, so every attempt is counted and logged.
    Without the switch (a future aiohttp) the only cost is that such a resend goes uncounted.
    """
    if hasattr(session, "_retry_connection"):
        setattr(session, "_retry_connection", False)  # noqa: B010 - a private switch, set by name


def connection_counts(connector: aiohttp.BaseConnector) -> tuple[int, int]:
    """How many of the connector's connections are in use and how many are idle in the pool."""
    in_use = len(getattr(connector, "_acquired", ()))
    idle = sum(len(entries) for entries in getattr(connector, "_conns", {}).values())
    return in_use, idle


def close_connector_now(connector: aiohttp.BaseConnector) -> None:
    """Close every connection of ``connector`` without awaiting (for a finalizer, outside any coroutine).

    ``BaseConnector._close`` is the synchronous part of ``close()``; without it (a future aiohttp)
    the connections are left to the garbage collector, which is what would have happened anyway.
    """
    close = getattr(connector, "_close", None)
    if close is not None:
        close()
