"""`AsyncTelnyx`: configuration, the connection pool's lifetime, and the root of the resource tree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar, Unpack

import aiohttp
from aiohttp import ClientResponse

from ._config import ClientChanges, ClientConfig, ClientOptions
from ._http.pool import ConnectionPool
from ._http.transport import Transport
from ._logging import setup_logging
from ._raw_response import NO_REQUEST, RawResponse, raw_response, with_raw_response
from ._types import TimeoutTypes

if TYPE_CHECKING:
    from .resources.ai import AsyncAI
    from .resources.legacy import AsyncLegacy
    from .resources.text_to_speech import AsyncTextToSpeech

__all__ = ["AsyncTelnyx"]

P = ParamSpec("P")
T = TypeVar("T")


class AsyncTelnyx:
    """The asyncio client. Use one per event loop, ideally for the life of the program:

    ```python
    async with AsyncTelnyx() as client:
        reply = await client.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}])
    ```
    """

    _transport: Transport

    def __init__(self, *, session: aiohttp.ClientSession | None = None, **options: Unpack[ClientOptions]) -> None:
        """Configure a client (the keywords are `ClientOptions`); nothing connects until the first request.

        ``session`` shares a caller's aiohttp session (the client then leaves it open on close);
        otherwise the client opens its own with up to ``max_connections`` connections.
        """
        setup_logging()
        config = ClientConfig.from_options(options)
        self._transport = Transport(config, ConnectionPool(session=session, max_connections=config.max_connections))

    @classmethod
    def _from_transport(cls, transport: Transport) -> AsyncTelnyx:
        client = cls.__new__(cls)
        client._transport = transport
        return client

    def with_options(self, **changes: Unpack[ClientChanges]) -> AsyncTelnyx:
        """A copy with other defaults, sharing this client's connection pool (close either to close both)."""
        return self._from_transport(self._transport.with_config(**changes))

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    @property
    def timeout(self) -> TimeoutTypes:
        return self._transport.config.timeout

    @property
    def max_retries(self) -> int:
        return self._transport.config.max_retries

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

        ```python
        raw = await client.with_raw_response(client.ai.retrieve_models)
        print(raw.status_code, raw.headers.get("x-request-id"), raw.parsed.data)
        ```
        """
        return await with_raw_response(operation, *args, **kwargs)

    async def call_with_raw_response(self, call: Callable[[AsyncTelnyx], Awaitable[T]], /) -> RawResponse[T]:
        """`with_raw_response` for one call written out in full, on a copy of this client given to ``call``:

        ```python
        raw = await client.call_with_raw_response(lambda c: c.ai.chat.create_completion(messages=[...], stream=True))
        ```

        Typed exactly like the direct call by every checker (through `with_raw_response`'s ParamSpec,
        mypy cannot infer a literal ``messages`` list).
        """
        attempts: list[ClientResponse | None] = []
        parsed = await call(self._from_transport(self._transport.observed(attempts.append)))
        return raw_response(attempts, parsed, missing=NO_REQUEST)

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
