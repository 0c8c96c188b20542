"""Every use of aiohttp's private attributes, in one place (and of asyncio's transports' read size).

aiohttp offers no public way to do these few things. Each access is guarded, so a release
that renames an attribute degrades to a documented fallback instead of an AttributeError;
`tests/test_aiohttp_compat.py` fails when the installed aiohttp no longer has them, so an
upgrade is noticed at once. Supported: aiohttp 3.11 to 3.x (the range in pyproject.toml).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol, cast

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.typedefs import LooseHeaders
from multidict import CIMultiDict
from yarl import URL

from .._tls import SSLSetting

__all__ = [
    "PRIVATE_ATTRIBUTES",
    "READ_SIZE",
    "LazyReadTimeout",
    "cap_read_size",
    "close_connector_now",
    "connection_counts",
    "disable_silent_retry",
    "request_function",
    "use_lazy_read_timeout",
]

PRIVATE_ATTRIBUTES: dict[type, tuple[str, ...]] = {
    aiohttp.ClientSession: ("_request", "_retry_connection"),
    aiohttp.BaseConnector: ("_acquired", "_conns", "_close", "_factory", "_loop"),
    ResponseHandler: (
        "_loop",
        "_read_timeout",
        "_read_timeout_handle",
        "_reschedule_timeout",
        "_drop_timeout",
        "_on_read_timeout",
        "transport",
    ),
}
"""The private attributes used here, by the class that has them (the test checks each)."""


class LazyReadTimeout(ResponseHandler):
    """aiohttp's connection protocol with a read timeout (``sock_read``) that costs no timer per read.

    aiohttp cancels its timer and schedules a new one on every read, and drops it after every response:
    a `TimerHandle` and a push onto the loop's heap each time, 4 to 8 % of a small call's CPU and a quarter
    of a paced stream chunk's (measured with callgrind). Here a read only moves the deadline, and a finished
    response only clears it; the one timer, when it fires, waits for a moved deadline, lapses if nothing is
    being read, or times the connection out as aiohttp would. So a busy connection sets about one timer per
    ``read`` seconds, and the timeout fires at the same moment: ``read`` seconds after the last bytes came.
    Being the protocol of every connection the SDK opens, it also caps each read's size (`cap_read_size`).
    """

    _read_deadline: float | None = None  # None: nothing is being read (between responses, or paused)
    _armed_for = 0.0  # when the timer in _read_timeout_handle fires

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        # asyncio's loop reads the clock through a Python method: call the clock itself, once per read.
        # Asked through the bound method, not `vars(loop)`: reading an object's __dict__ makes CPython 3.11 keep
        # its attributes in a real dict from then on, and every later `loop.x` slower (3 % of a call).
        plain = getattr(loop.time, "__func__", None) is asyncio.BaseEventLoop.time  # not patched
        self._clock = time.monotonic if plain else loop.time

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        cap_read_size(transport)

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if not timeout:
            self._read_deadline = None
            return
        deadline = self._read_deadline = self._clock() + timeout
        handle = self._read_timeout_handle
        if handle is None or self._armed_for > deadline:  # none yet, or set for a longer timeout than this one
            if handle is not None:
                handle.cancel()
            self._arm(deadline)

    def _drop_timeout(self) -> None:
        self._read_deadline = None
        if self.transport is None:  # closed: no read will come, so the timer (and this protocol) can go now
            self._stop_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def _stop_timer(self) -> None:
        handle = self._read_timeout_handle
        if handle is not None:
            handle.cancel()
            self._read_timeout_handle = None

    def _arm(self, deadline: float) -> None:
        self._armed_for = deadline
        self._read_timeout_handle = self._loop.call_at(deadline, self._deadline_reached)

    def _deadline_reached(self) -> None:
        deadline = self._read_deadline
        if deadline is None:  # nothing is being read: the timer lapses until the next read sets one
            self._read_timeout_handle = None
        elif self._loop.time() < deadline:  # bytes arrived since the timer was set: wait for the new deadline
            self._arm(deadline)
        else:
            self._read_timeout_handle = None
            self._on_read_timeout()


READ_SIZE = 64 * 1024
"""The most bytes one read of a connection asks for: under glibc's threshold for serving an allocation
with mmap (128 KiB), so a read's buffer comes from the heap."""


def cap_read_size(transport: asyncio.BaseTransport) -> None:
    """Make ``transport``'s reads ask for at most `READ_SIZE` bytes (asyncio's own transports only).

    asyncio allocates each read's buffer at its full size, 256 KiB, and shrinks it to what arrived. With
    glibc that size is above the mmap threshold, so every read of a small reply costs an ``mmap``, a page
    fault, an ``mremap`` and a ``munmap``: a fifth of a small call's CPU on a virtual machine. (A process
    escapes it only once glibc has raised its threshold after freeing some other large block.) Over TLS the
    socket is read into a buffer the connection keeps, and each read of decrypted bytes is what is capped.
    """
    inner = getattr(transport, "_ssl_protocol", None)  # asyncio's TLS transport: its protocol reads
    target = inner if inner is not None else transport
    size = getattr(target, "max_size", None)
    if isinstance(size, int) and size > READ_SIZE:
        with contextlib.suppress(AttributeError, TypeError):  # another loop's transport may not take it
            setattr(target, "max_size", READ_SIZE)  # noqa: B010 - asyncio's own attribute, set per connection


class HeadersRequest(aiohttp.ClientRequest):
    """aiohttp's request, taking its headers in one copy in C instead of a Python loop over them.

    The session hands every request its headers as a `CIMultiDict` already merged with the
    session's own; only a ``Host`` among them needs aiohttp's loop (it replaces the one derived
    from the URL), so that case, and any other shape of headers, goes the way aiohttp goes.
    """

    def update_headers(self, headers: LooseHeaders | None) -> None:
        if isinstance(headers, CIMultiDict) and "Host" not in headers:
            super().update_headers(None)  # the Host header alone, as aiohttp derives it
            self.headers.extend(headers)
        else:
            super().update_headers(headers)


def use_lazy_read_timeout(connector: aiohttp.BaseConnector) -> None:
    """Make ``connector`` open its connections with `LazyReadTimeout` (only for a connector the SDK made).

    Without the private attributes (a future aiohttp) the connector keeps aiohttp's own protocol:
    the same timeouts, at aiohttp's cost.
    """
    factory = getattr(connector, "_factory", None)
    loop = getattr(connector, "_loop", None)
    if isinstance(factory, functools.partial) and factory.func is ResponseHandler and loop is not None:
        setattr(connector, "_factory", functools.partial(LazyReadTimeout, loop=loop))  # noqa: B010


class SendRequest(Protocol):
    """``session.request`` with the arguments the transport passes, awaited for the response."""

    def __call__(
        self,
        method: str,
        url: URL,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        data: Any,
        timeout: aiohttp.ClientTimeout,
        proxy: str | None,
        ssl: SSLSetting,
        allow_redirects: bool,
    ) -> Awaitable[aiohttp.ClientResponse]: ...


def request_function(session: aiohttp.ClientSession) -> SendRequest:
    """The coroutine function behind ``session.request``, for requests that are awaited, never entered.

    ``session.request`` wraps each call's coroutine in ``_RequestContextManager``, a subscripted generic:
    making one goes through `typing`'s alias machinery, about 3 % of a small call (callgrind). Tools that
    instrument aiohttp patch ``ClientSession._request``, so they still see every request. Without it (a
    future aiohttp), or when ``request`` itself was replaced (a subclass, a test's patch or mock), this is
    ``session.request``, awaited the same way.
    """
    direct = getattr(session, "_request", None)
    # Through the bound method, not vars(session), for the reason given in `LazyReadTimeout.__init__`.
    replaced = getattr(session.request, "__func__", None) is not aiohttp.ClientSession.request
    return cast(SendRequest, session.request if replaced or not callable(direct) else direct)


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
