"""`AsyncTelnyx`: configuration, the connection pool's lifetime, and the root of the resource tree."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import aiohttp

from ._errors import TelnyxError
from ._logging import setup_logging
from ._raw_response import RawResponse, with_raw_response
from ._sse import DEFAULT_MAX_LINE_BYTES
from ._transport import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, ConnectionPool, Transport
from ._types import NOT_GIVEN, Headers, NotGiven, TimeoutTypes

if TYPE_CHECKING:
    from .resources.ai import AsyncAI
    from .resources.legacy import AsyncLegacy
    from .resources.text_to_speech import AsyncTextToSpeech

__all__ = ["DEFAULT_BASE_URL", "AsyncTelnyx"]

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"

P = ParamSpec("P")
T = TypeVar("T")


def _resolve_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
    if not key:
        raise TelnyxError(
            "No API key: pass api_key=... or set the TELNYX_API_KEY environment variable. "
            "To try the SDK without one, run against telnyx_ai.testing's local server."
        )
    return key


class AsyncTelnyx:
    """The asyncio client. Use one per event loop, ideally for the life of the program:

    async with AsyncTelnyx() as client:
        reply = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}])
    """

    _transport: Transport

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        default_headers: Headers | None = None,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        """Configure a client; nothing connects until the first request.

        ``timeout`` is seconds (float) or a `Timeout` with separate connect and read limits.
        ``session`` shares a caller's aiohttp session (the client then leaves it open on close);
        otherwise the client opens its own with up to ``max_connections`` connections.
        A response body over ``max_response_bytes``, or a stream line over ``max_event_bytes``,
        raises an error instead of filling memory.
        """
        setup_logging()
        self._transport = Transport(
            api_key=_resolve_api_key(api_key),
            base_url=base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            pool=ConnectionPool(session=session, max_connections=max_connections),
            max_line_bytes=max_event_bytes,
            max_response_bytes=max_response_bytes,
        )

    @classmethod
    def _from_transport(cls, transport: Transport) -> AsyncTelnyx:
        client = cls.__new__(cls)
        client._transport = transport
        return client

    def with_options(
        self, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, max_retries: int | NotGiven = NOT_GIVEN
    ) -> AsyncTelnyx:
        """A copy with other defaults, sharing this client's connection pool (close either to close both)."""
        return self._from_transport(self._transport.copy(timeout=timeout, max_retries=max_retries))

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def timeout(self) -> TimeoutTypes:
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    @property
    def is_closed(self) -> bool:
        return self._transport.pool.closed

    @cached_property
    def ai(self) -> AsyncAI:
        from .resources.ai import AsyncAI

        return AsyncAI(self._transport)

    @cached_property
    def legacy(self) -> AsyncLegacy:
        from .resources.legacy import AsyncLegacy

        return AsyncLegacy(self._transport)

    @cached_property
    def text_to_speech(self) -> AsyncTextToSpeech:
        from .resources.text_to_speech import AsyncTextToSpeech

        return AsyncTextToSpeech(self._transport)

    async def with_raw_response(
        self, operation: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> RawResponse[T]:
        """Call ``operation`` and return its parsed result with the HTTP status and headers:

        raw = await client.with_raw_response(client.ai.retrieve_models)
        print(raw.status_code, raw.headers.get("x-request-id"), raw.parsed.data)
        """
        return await with_raw_response(operation, *args, **kwargs)

    async def close(self) -> None:
        """Close the connection pool. Safe to call twice."""
        await self._transport.pool.close()

    async def __aenter__(self) -> AsyncTelnyx:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncTelnyx(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "An AsyncTelnyx client cannot be pickled: it owns sockets bound to one event loop. "
            "Pass the API key (or rely on TELNYX_API_KEY) and build a client in each process or worker."
        )

    def __getstate__(self) -> Any:
        self.__reduce__()
