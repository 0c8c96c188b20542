"""Sending requests: the one place an HTTP request leaves the client.

`Transport` holds a client's `ClientConfig` and connection pool. `request` and `request_media`
build a `Request` (`request.py`), then `call` runs attempts as `retry.py` allows; one attempt is
`send` plus the reader that call needs (`response.py` for bodies). Streams are opened the same way,
from above (`telnyx_ai._streams.open`), with their own reader.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, Unpack, overload

import aiohttp
from yarl import URL

from .._config import ClientChanges, ClientConfig, masked_url
from .._errors import APIError, connection_error
from .._hooks import INSTALLED
from .._logging import logger, redact_headers
from .._types import NOT_GIVEN, Body, NotGiven, Query, RequestOptions
from .observed import observed_call
from .pool import ConnectionPool
from .request import PayloadFactory, RawJSON, Request, RequestBuilder
from .response import read_decoded, read_media
from .retry import retry_after, should_retry

__all__ = ["ResponseObserver", "Transport", "parsed_url"]

T = TypeVar("T")

_CERTIFICATE_HINT = (
    ". The server's certificate is not trusted: to trust its CA (a corporate proxy's, a test server's), "
    "pass ssl='path/to/ca.pem' or an ssl.SSLContext, or set SSL_CERT_FILE."
)

ResponseObserver = Callable[[aiohttp.ClientResponse | None], None]
"""Told of every attempt's response (None when an attempt got none); `with_raw_response` uses one."""

_URLS: dict[str, URL] = {}
_URLS_KEPT = 1024


def parsed_url(url: str) -> URL:
    """``url`` (already percent-encoded) as a yarl `URL`, parsed once: a `URL` is immutable, and parsing
    one cost 1 % of a small call's CPU. At most `_URLS_KEPT` are kept (ids in paths vary without end)."""
    parsed = _URLS.get(url)
    if parsed is None:
        if len(_URLS) >= _URLS_KEPT:
            _URLS.clear()
        parsed = _URLS[url] = URL(url, encoded=True)
    return parsed


class Transport:
    """A client's settings and pool, and the code that sends requests with them."""

    __slots__ = ("_builder", "_hooks", "config", "observer", "pool")

    def __init__(
        self,
        config: ClientConfig,
        pool: ConnectionPool,
        *,
        observer: ResponseObserver | None = None,
        builder: RequestBuilder | None = None,
    ) -> None:
        self.config = config
        self.pool = pool
        self.observer = observer
        self._builder = builder or RequestBuilder(config)
        self._hooks = INSTALLED.watch_list(config.hooks)  # empty: no hooks, nothing installed

    def __repr__(self) -> str:
        return f"Transport(base_url={self.config.base_url!r}, max_retries={self.config.max_retries})"

    @property
    def default_headers(self) -> dict[str, str]:
        """The headers sent with every request, with the Authorization value redacted."""
        return redact_headers(self._builder.headers)

    def with_config(self, **changes: Unpack[ClientChanges]) -> Transport:
        """The same transport with some settings changed, sharing this one's pool."""
        return Transport(self.config.replace(**changes), self.pool, observer=self.observer)

    def observed(self, observer: ResponseObserver) -> Transport:
        """The same transport, telling ``observer`` of every attempt's response."""
        return Transport(self.config, self.pool, observer=observer, builder=self._builder)

    # -- what resources call ----------------------------------------------------------

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T],
        body: Body | RawJSON | None = ...,
        query: Query | None = ...,
        options: RequestOptions,
        data: PayloadFactory | None = ...,
        idempotency_key: str | NotGiven = ...,
    ) -> T: ...
    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: None,
        body: Body | RawJSON | None = ...,
        query: Query | None = ...,
        options: RequestOptions,
        data: PayloadFactory | None = ...,
        idempotency_key: str | NotGiven = ...,
    ) -> None: ...
    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T] | None,
        body: Body | RawJSON | None = None,
        query: Query | None = None,
        options: RequestOptions,
        data: PayloadFactory | None = None,
        idempotency_key: str | NotGiven = NOT_GIVEN,
    ) -> T | None:
        """Send a request and decode its body into ``cast_to`` (None: no body expected).

        ``data`` replaces the JSON body with a non-JSON payload (multipart form, raw bytes): a
        function returning a fresh aiohttp payload, called once per attempt so retries can resend it.
        """
        request = self._builder.build(
            method, path, options=options, body=body, query=query, data=data, idempotency_key=idempotency_key
        )
        limit = self.config.max_response_bytes
        if self._hooks:
            return await self.call(request, lambda response: read_decoded(response, request, cast_to, limit))
        try:  # `call`'s first attempt, inlined: one coroutine and no reader function on the usual call
            return await read_decoded(await self.send(request), request, cast_to, limit)
        except APIError as exc:
            failure = exc
        return await self._retry(failure, request, lambda response: read_decoded(response, request, cast_to, limit))

    async def request_media(
        self, method: str, path: str, *, json_type: type[T], body: Body | RawJSON | None = None, options: RequestOptions
    ) -> T | bytes:
        """Send a request whose answer may be media or JSON: the raw bytes, or ``json_type`` when the
        response says ``Content-Type: application/json`` (the server decides, the header tells)."""
        request = self._builder.build(method, path, options=options, body=body)
        limit = self.config.max_response_bytes
        return await self.call(request, lambda response: read_media(response, request, json_type, limit))

    # -- attempts ----------------------------------------------------------------------

    def build(
        self,
        method: str,
        path: str,
        *,
        options: RequestOptions,
        body: Body | RawJSON | None = None,
        query: Query | None = None,
        stream: bool = False,
        idempotency_key: str | NotGiven = NOT_GIVEN,
    ) -> Request:
        """The `Request` for ``method path`` with this client's headers and settings (``stream``: SSE)."""
        return self._builder.build(
            method, path, options=options, body=body, query=query, stream=stream, idempotency_key=idempotency_key
        )

    async def call(self, request: Request, read: Callable[[aiohttp.ClientResponse], Awaitable[T]]) -> T:
        """Attempts of ``request``, each sent then handed to ``read``, as often as the retry policy allows."""
        if self._hooks:  # event hooks (or tracing) are on
            return await observed_call(self.config.hooks, request, read, self.send, self.config)
        try:  # the first attempt inline: a call that succeeds at once pays for no retry machinery
            return await read(await self.send(request))
        except APIError as exc:
            failure = exc
        return await self._retry(failure, request, read)

    async def _retry(
        self, failure: APIError, request: Request, read: Callable[[aiohttp.ClientResponse], Awaitable[T]]
    ) -> T:
        """After a first attempt failed with ``failure``: the next attempts, as the retry policy allows."""
        # A payload that can be produced only once gets one attempt, so its own error surfaces.
        retries = self.config.max_retries if request.resendable else 0
        if retries <= 0 or not should_retry(failure):
            raise failure
        retry = 0

        async def attempt() -> T:
            nonlocal retry
            retry += 1
            return await read(await self.send(request, retry=retry))

        return await retry_after(failure, attempt, max_retries=retries)

    async def send(self, request: Request, *, retry: int = 0) -> aiohttp.ClientResponse:
        """One attempt: the response once its headers arrived, or `APIConnectionError`/`APITimeoutError`."""
        send = self.pool.sender()
        method, url = request.method, request.url
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            logger.debug(
                "Request %s %s params=%s headers=%s", method, url, request.params, redact_headers(request.headers)
            )
        started = time.perf_counter() if debug else 0.0
        try:
            response = await send(
                method,
                parsed_url(url),
                params=request.params,
                headers=request.headers_for(retry) if retry else request.headers,
                data=payload() if callable(payload := request.payload) else payload,  # `Request.body`, inlined
                timeout=request.timeout,
                proxy=request.proxy,
                ssl=request.ssl,
                allow_redirects=False,
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Only the SDK's error is kept (with a key-free stand-in as its cause): aiohttp's exception
            # holds the request and its Authorization header.
            via = f" through the proxy {masked_url(request.proxy)}" if request.proxy else ""
            error = connection_error(
                exc,
                timed_out=f"{method} {url} timed out before the server answered{via}.",
                broke=f"Could not reach {url}{via}",
                method=method,
                url=url,
                hint=_CERTIFICATE_HINT if isinstance(exc, aiohttp.ClientConnectorCertificateError) else "",
            )
        else:
            if self.observer is not None:
                self.observer(response)
            if debug:
                elapsed = (time.perf_counter() - started) * 1000
                logger.debug("Response %s %s -> %d after %.1f ms", method, url, response.status, elapsed)
            return response
        if self.observer is not None:
            self.observer(None)
        raise error  # outside the except block, so aiohttp's exception is not its context either
