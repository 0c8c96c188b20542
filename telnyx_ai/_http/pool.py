"""`ConnectionPool`: the aiohttp session a client and its copies share, bound to one event loop."""

from __future__ import annotations

import asyncio
import warnings
import weakref
from collections.abc import Hashable
from typing import Any

import aiohttp

from .._errors import TelnyxError
from .._logging import logger
from .aiohttp_compat import (
    HeadersRequest,
    SendRequest,
    close_connector_now,
    disable_silent_retry,
    request_function,
    use_lazy_read_timeout,
)

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """The aiohttp session shared by a client and the copies `with_options` makes of it.

    The session is created lazily inside the running event loop (aiohttp needs one) and is
    bound to that loop: using it from another loop raises a clear error instead of hanging.
    """

    __slots__ = ("__weakref__", "_abandoned", "_closed", "_loop", "_max_connections", "_owned", "_session", "learned")

    def __init__(self, *, session: aiohttp.ClientSession | None, max_connections: int) -> None:
        self._session = session
        self._owned = session is None
        self._max_connections = max_connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._abandoned: weakref.finalize[Any, Any] | None = None
        self.learned: dict[Hashable, Any] = {}
        """What requests found out about the servers (such as the wire format a model takes), kept for the
        client and its copies; keyed by whoever learned it."""

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def current(self) -> aiohttp.ClientSession | None:
        """The session if one exists and is open, without creating one (for diagnostics)."""
        session = self._session
        return None if session is None or session.closed else session

    def session(self) -> aiohttp.ClientSession:
        """The session for the running loop, created on first use."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._session is not None:
            return self._session
        if self._closed:
            raise TelnyxError("This client is closed; create a new one.")
        if self._loop is not None and self._loop is not loop:
            raise TelnyxError(
                "This client was first used in a different event loop. An async client belongs to one "
                "loop: create one client per event loop (or use the sync `Telnyx` client from threads)."
            )
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0, keepalive_timeout=30)
            use_lazy_read_timeout(connector)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
                raise_for_status=False,
                request_class=HeadersRequest,
            )
            disable_silent_retry(self._session)
            abandoned = weakref.finalize(self, _close_abandoned, self._session)
            # Not at interpreter exit: the sync client's loop thread closes its own pool then, and
            # a pool still alive at exit was not dropped.
            abandoned.atexit = False
            self._abandoned = abandoned
        self._loop = loop
        return self._session

    def sender(self) -> SendRequest:
        """The session's request function for the running loop (`request_function`): awaited, it sends.

        Looked up on each call, so a patch of aiohttp's (a test's mock, a tracer) made after the first
        request still applies.
        """
        return request_function(self.session())

    async def close(self) -> None:
        """Close the session if this pool created it; a session the caller passed in stays open."""
        self._closed = True
        if self._abandoned is not None:
            self._abandoned.detach()
        session, self._session = self._session, None
        if session is not None and self._owned and not session.closed:
            await session.close()


def _close_abandoned(session: aiohttp.ClientSession) -> None:
    """A client dropped without ``close()``: close its connections and say so once, in our words.

    Without this, aiohttp logs "Unclosed client session" with no hint of which object or what to do.
    """
    if session.closed:
        return
    warnings.warn(
        "An AsyncTelnyx client was garbage-collected without being closed; its connections were closed "
        "now. Use `async with AsyncTelnyx() as client:` or `await client.close()` when done.",
        ResourceWarning,
        stacklevel=1,
    )
    connector = session.connector
    if connector is not None:
        try:
            close_connector_now(connector)
        except Exception:  # the loop may be gone already; nothing more can be done
            logger.debug("Closing an abandoned client's connections failed", exc_info=True)
