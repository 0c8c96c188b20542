"""`Telnyx`: the blocking client, a thin shell around an `AsyncTelnyx` run on a private loop thread."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, NoReturn, ParamSpec, TypeVar, Unpack

from aiohttp import ClientResponse

from ._bridge import Bridge, SyncResource
from ._client import AsyncTelnyx
from ._config import ClientChanges, ClientOptions
from ._raw_response import NO_REQUEST, RawResponse, bound_operation, observed_resource, raw_response
from ._sync._root import TelnyxResources
from ._types import TimeoutTypes

__all__ = ["Telnyx"]

P = ParamSpec("P")
T = TypeVar("T")


class Telnyx(TelnyxResources):
    """The blocking client: the same call paths and return types as `AsyncTelnyx`:

    ```python
    with Telnyx() as client:
        reply = client.ai.chat.create_completion(messages=[{"role": "user", "content": "Hi"}])
    ```

    One client serves any number of threads through one connection pool; its requests run on
    an event loop in a background thread, so it also works from code that already runs a loop
    (that thread just blocks). Streams are `Stream` and lists are `SyncPaginator`. Errors are
    the async client's. Ctrl-C during a call cancels the request.

    `close` (or leaving ``with``) closes the pool and stops the thread; a client that is just
    dropped does the same when collected. After ``os.fork()`` the child must make a new client:
    using the parent's raises `TelnyxError`.
    """

    def __init__(self, **options: Unpack[ClientOptions]) -> None:
        """Configure a client; the loop thread starts now, connections open on first use.

        The keywords are `AsyncTelnyx`'s (`ClientOptions`), less ``session``: an aiohttp session
        belongs to the caller's event loop and cannot be used from the client's own.
        """
        if "session" in options:
            raise TypeError(
                "Telnyx() got an unexpected keyword argument 'session': an aiohttp session belongs to the "
                "caller's event loop. Share one with AsyncTelnyx(session=...) inside that loop instead."
            )
        client = AsyncTelnyx(**options)
        super().__init__(Bridge(client.close), client)

    def with_options(self, **changes: Unpack[ClientChanges]) -> Telnyx:
        """A copy with other defaults, sharing this client's pool and thread (close either to close both)."""
        copy = Telnyx.__new__(Telnyx)
        TelnyxResources.__init__(copy, self._bridge, self._async.with_options(**changes))
        return copy

    def with_raw_response(self, operation: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        """Call ``operation`` and return its parsed result with the HTTP status and headers:

        ```python
        raw = client.with_raw_response(client.ai.retrieve_models)
        print(raw.status_code, raw.headers.get("x-request-id"), raw.parsed.data)
        ```
        """
        resource: SyncResource[Any]
        resource, function = bound_operation(operation, SyncResource)
        attempts: list[ClientResponse | None] = []
        twin = observed_resource(resource._async, attempts.append)  # pyright: ignore[reportPrivateUsage]
        observed = type(resource)(resource._bridge, twin)  # pyright: ignore[reportPrivateUsage]
        parsed: T = function(observed, *args, **kwargs)
        return raw_response(attempts, parsed)

    def call_with_raw_response(self, call: Callable[[Telnyx], T], /) -> RawResponse[T]:
        """`with_raw_response` for one call written out in full, on a copy of this client given to ``call``:

        ```python
        raw = client.call_with_raw_response(lambda c: c.ai.chat.create_completion(messages=[...], stream=True))
        ```

        Typed exactly like the direct call by every checker (through `with_raw_response`'s ParamSpec,
        mypy cannot infer a literal ``messages`` list).
        """
        attempts: list[ClientResponse | None] = []
        twin = self._async._from_transport(self._async._transport.observed(attempts.append))  # pyright: ignore[reportPrivateUsage]
        copy = Telnyx.__new__(Telnyx)
        TelnyxResources.__init__(copy, self._bridge, twin)
        return raw_response(attempts, call(copy), missing=NO_REQUEST)

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def timeout(self) -> TimeoutTypes:
        return self._async.timeout

    @property
    def max_retries(self) -> int:
        return self._async.max_retries

    @property
    def is_closed(self) -> bool:
        return self._bridge.closed or self._async.is_closed

    def close(self) -> None:
        """Close the connection pool and stop the loop thread. Safe to call twice."""
        self._bridge.close()

    def __enter__(self) -> Telnyx:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Telnyx(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "A Telnyx client cannot be pickled: it owns a thread and sockets. "
            "Pass the API key (or rely on TELNYX_API_KEY) and build a client in each process or worker."
        )

    def __getstate__(self) -> Any:
        self.__reduce__()
