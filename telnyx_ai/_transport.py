"""Sending requests: the one place an HTTP request happens.

`Transport` holds a client's settings and sends with them: it builds the request
(`_request`), sends it over the shared aiohttp session, maps failures to the exception
tree (`_errors`), retries (`_retry`) and decodes the body into its msgspec type
(`_models`) or hands it to an `AsyncStream`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar, overload

import aiohttp
import msgspec
from yarl import URL

from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    TelnyxError,
    status_error,
)
from ._logging import logger, redact_headers
from ._models import decoder_for
from ._request import check_header_value, encode_body, merge_headers, query_params
from ._retry import send_with_retries
from ._sse import DEFAULT_MAX_LINE_BYTES
from ._streaming import AsyncStream
from ._types import NOT_GIVEN, Body, Headers, NotGiven, Query, RequestOptions, Timeout, TimeoutTypes
from ._version import __version__

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "ConnectionPool",
    "Transport",
    "captured_responses",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = Timeout(read=60.0, connect=5.0)
DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_USER_AGENT = f"telnyx-ai-python/{__version__}"

captured_responses: ContextVar[list[aiohttp.ClientResponse | None] | None] = ContextVar(
    "telnyx_ai_captured_responses", default=None
)
"""While set (by `with_raw_response`), each attempt in this context appends its response (None if it got none)."""


def _note_attempt(response: aiohttp.ClientResponse | None) -> None:
    captured = captured_responses.get()
    if captured is not None:
        captured.append(response)


def _client_timeout(timeout: TimeoutTypes) -> aiohttp.ClientTimeout:
    if timeout is None:
        return aiohttp.ClientTimeout(total=None)
    if not isinstance(timeout, Timeout):
        timeout = Timeout(read=float(timeout), connect=float(timeout))
    # sock_read limits each wait for bytes, never the whole body: long streams live on.
    return aiohttp.ClientTimeout(total=None, connect=timeout.pool, sock_connect=timeout.connect, sock_read=timeout.read)


class ConnectionPool:
    """The aiohttp session shared by a client and the copies `with_options` makes of it.

    The session is created lazily inside the running event loop (aiohttp needs one) and is
    bound to that loop: using it from another loop raises a clear error instead of hanging.
    """

    __slots__ = ("_closed", "_loop", "_max_connections", "_owned", "_session")

    def __init__(self, *, session: aiohttp.ClientSession | None, max_connections: int) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}.")
        self._session = session
        self._owned = session is None
        self._max_connections = max_connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

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
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
                raise_for_status=False,
            )
            # aiohttp silently resends a GET/PUT/DELETE once when a pooled connection drops; turn that
            # off so `max_retries` is the one retry policy and every attempt is counted and logged.
            if hasattr(self._session, "_retry_connection"):
                setattr(self._session, "_retry_connection", False)  # noqa: B010 - private aiohttp switch
        self._loop = loop
        return self._session

    def open_connections(self) -> int:
        """How many connections the pool holds (in use or idle); 0 before first use."""
        session = self._session
        if session is None or session.closed:
            return 0
        connector = session.connector
        if connector is None:
            return 0
        acquired = len(getattr(connector, "_acquired", ()))
        idle = sum(len(v) for v in getattr(connector, "_conns", {}).values())
        return acquired + idle

    async def close(self) -> None:
        """Close the session if this pool created it; a session the caller passed in stays open."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owned and not session.closed:
            await session.close()


def _is_loopback(host: str | None) -> bool:
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Transport:
    """A client's settings and the code that sends requests with them."""

    __slots__ = (
        "_api_key",
        "_base_url",
        "_client_timeout",
        "_default_headers",
        "_headers",
        "_json_headers",
        "_max_line_bytes",
        "_max_response_bytes",
        "_timeout",
        "max_retries",
        "pool",
    )

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: TimeoutTypes,
        max_retries: int,
        default_headers: Headers | None,
        pool: ConnectionPool,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}.")
        url = URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an http(s) URL such as https://api.telnyx.com/v2, got {base_url!r}.")
        if url.scheme == "http" and not _is_loopback(url.host):
            logger.warning(
                "base_url %s uses plain http to a non-loopback host: the API key would travel unencrypted.", base_url
            )
        check_header_value("Authorization", api_key)
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._client_timeout = _client_timeout(timeout)
        self.max_retries = max_retries
        self.pool = pool
        self._max_line_bytes = max_line_bytes
        self._max_response_bytes = max_response_bytes
        headers = {
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
            "Authorization": f"Bearer {api_key}",
        }
        self._default_headers = dict(default_headers or {})  # the caller's, kept for copies
        for name, value in self._default_headers.items():
            headers[name] = check_header_value(name, value)
        self._headers = headers
        self._json_headers = {**headers, "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return f"Transport(base_url={self._base_url!r}, max_retries={self.max_retries})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def timeout(self) -> TimeoutTypes:
        return self._timeout

    @property
    def default_headers(self) -> dict[str, str]:
        """The headers sent with every request, with the Authorization value redacted."""
        return redact_headers(self._headers)

    def copy(
        self, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, max_retries: int | NotGiven = NOT_GIVEN
    ) -> Transport:
        """The same settings with some replaced, sharing this transport's connection pool."""
        return Transport(
            api_key=self._api_key,
            base_url=self._base_url,
            timeout=self._timeout if isinstance(timeout, NotGiven) else timeout,
            max_retries=self.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            default_headers=self._default_headers,
            pool=self.pool,
            max_line_bytes=self._max_line_bytes,
            max_response_bytes=self._max_response_bytes,
        )

    # -- the public entry points resources call -------------------------------------------

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T],
        body: Body | None = ...,
        query: Query | None = ...,
        options: RequestOptions,
        data: Callable[[], Any] | None = ...,
    ) -> T: ...
    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: None,
        body: Body | None = ...,
        query: Query | None = ...,
        options: RequestOptions,
        data: Callable[[], Any] | None = ...,
    ) -> None: ...
    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T] | None,
        body: Body | None = None,
        query: Query | None = None,
        options: RequestOptions,
        data: Callable[[], Any] | None = None,
    ) -> T | None:
        """Send a request (retrying as the policy allows) and decode its body into ``cast_to``.

        ``data`` replaces the JSON body with a non-JSON payload (multipart form, raw bytes): a
        function returning a fresh aiohttp payload, called once per attempt so retries can resend it.
        """
        url, params, headers, payload, timeout = self._build(method, path, body, query, options, data)
        # A body that can be produced only once (an upload read from a one-shot stream) gets one attempt.
        max_retries = self.max_retries if getattr(data, "resendable", True) else 0

        async def send() -> T | None:
            attempt_payload = payload() if data is not None else payload
            raw, status, _ = await self._send_once(method, url, params, headers, attempt_payload, timeout)
            return self._decode(raw, status, cast_to, method, url)

        return await send_with_retries(send, max_retries=max_retries)

    async def request_media(
        self,
        method: str,
        path: str,
        *,
        json_type: type[T],
        body: Body | None = None,
        options: RequestOptions,
    ) -> T | bytes:
        """Send a request whose answer may be media or JSON: the raw bytes, or ``json_type`` when the
        response says ``Content-Type: application/json`` (the server decides, the header tells)."""
        url, params, headers, payload, timeout = self._build(method, path, body, None, options, None)

        async def send() -> T | bytes:
            raw, status, content_type = await self._send_once(method, url, params, headers, payload, timeout)
            if content_type == "application/json" or content_type.endswith("+json"):
                return self._decode(raw, status, json_type, method, url)  # type: ignore[return-value]
            return raw

        return await send_with_retries(send, max_retries=self.max_retries)

    async def stream(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T],
        body: Body | None = None,
        query: Query | None = None,
        options: RequestOptions,
    ) -> AsyncStream[T]:
        """Open an SSE response and return it as a typed stream, after its first event arrived.

        Failures up to that first event are retried like any request; after it, never.
        """
        url, params, headers, payload, timeout = self._build(method, path, body, query, options, None)
        headers = {**headers, "Accept": "text/event-stream"}
        decoder = decoder_for(cast_to)

        async def open_stream() -> AsyncStream[T]:
            response = await self._open(method, url, params, headers, payload, timeout)
            await self._raise_for_status(response, method, url)
            content_type = response.headers.get("Content-Type", "")
            if not content_type.startswith("text/event-stream"):
                raw = await self._read_body(response, method, url)
                raise APIResponseValidationError(
                    f"Expected a text/event-stream response to a streaming request, got {content_type or 'no content type'!r}.",
                    status_code=response.status,
                    method=method,
                    url=url,
                    body=raw.decode("utf-8", "replace"),
                )
            stream = AsyncStream(response, decoder, method=method, url=url, max_line_bytes=self._max_line_bytes)
            try:
                await stream._prime()  # pyright: ignore[reportPrivateUsage]
            except BaseException:
                # Cancelled (or failed) before the caller ever held the stream: nobody else can close it.
                response.close()
                raise
            return stream

        return await send_with_retries(open_stream, max_retries=self.max_retries)

    # -- the steps --------------------------------------------------------------------

    def _build(
        self,
        method: str,
        path: str,
        body: Body | None,
        query: Query | None,
        options: RequestOptions,
        data: Callable[[], Any] | None,
    ) -> tuple[str, dict[str, Any] | None, dict[str, str], Any, aiohttp.ClientTimeout]:
        url = self._base_url + path
        params = query_params(query, options.get("extra_query"))
        payload: Any
        if data is not None:
            payload, base_headers = data, self._headers
        else:
            payload = encode_body(body, options.get("extra_body"))
            base_headers = self._headers if payload is None else self._json_headers
        headers = merge_headers(base_headers, options.get("extra_headers"))
        timeout = options.get("timeout", NOT_GIVEN)
        client_timeout = self._client_timeout if isinstance(timeout, NotGiven) else _client_timeout(timeout)
        return url, params, headers, payload, client_timeout

    async def _open(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        payload: Any,
        timeout: aiohttp.ClientTimeout,
    ) -> aiohttp.ClientResponse:
        session = self.pool.session()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("Request %s %s params=%s headers=%s", method, url, params, redact_headers(headers))
        try:
            response = await session.request(
                method,
                URL(url, encoded=True),
                params=params,
                headers=headers,
                data=payload,
                timeout=timeout,
                allow_redirects=False,
            )
        except TimeoutError as exc:
            _note_attempt(None)
            raise APITimeoutError(
                f"{method} {url} timed out before the server answered.", method=method, url=url
            ) from exc
        except aiohttp.ClientError as exc:
            _note_attempt(None)
            raise APIConnectionError(f"Could not reach {url}: {exc}", method=method, url=url) from exc
        _note_attempt(response)
        return response

    async def _read_body(self, response: aiohttp.ClientResponse, method: str, url: str) -> bytes:
        limit = self._max_response_bytes
        try:
            length = response.content_length
            if length is not None and length > limit:
                raise APIResponseValidationError(
                    f"The response body is {length} bytes, over the client's limit of {limit}.",
                    status_code=response.status,
                    method=method,
                    url=url,
                )
            if length is not None and not response.headers.get("Content-Encoding"):
                return await response.read()
            # Chunked or compressed: count what is actually decoded, not what the header says.
            parts: list[bytes] = []
            size = 0
            async for part in response.content.iter_any():
                size += len(part)
                if size > limit:
                    raise APIResponseValidationError(
                        f"The response body exceeded the client's limit of {limit} bytes.",
                        status_code=response.status,
                        method=method,
                        url=url,
                    )
                parts.append(part)
            return b"".join(parts)
        except TimeoutError as exc:
            raise APITimeoutError(
                f"{method} {url} timed out while reading the response.", method=method, url=url
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"The connection broke while reading the response from {url}: {exc}", method=method, url=url
            ) from exc
        finally:
            response.release()

    async def _raise_for_status(self, response: aiohttp.ClientResponse, method: str, url: str) -> None:
        if response.status < 300:
            return
        raw = await self._read_body(response, method, url)
        raise status_error(
            response.status,
            raw,
            reason=response.reason,
            headers=response.headers,
            response=response,
            method=method,
            url=url,
        )

    async def _send_once(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        payload: Any,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[bytes, int, str]:
        started = time.perf_counter() if logger.isEnabledFor(logging.DEBUG) else 0.0
        response = await self._open(method, url, params, headers, payload, timeout)
        if started:
            elapsed = (time.perf_counter() - started) * 1000
            logger.debug("Response %s %s -> %d after %.1f ms", method, url, response.status, elapsed)
        await self._raise_for_status(response, method, url)
        raw = await self._read_body(response, method, url)
        return raw, response.status, response.content_type

    def _decode(self, raw: bytes, status: int, cast_to: type[T] | None, method: str, url: str) -> T | None:
        if cast_to is None:
            return None
        if cast_to is bytes:
            return raw  # type: ignore[return-value]
        try:
            return decoder_for(cast_to).decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise APIResponseValidationError(
                f"The response to {method} {url} did not match the expected {getattr(cast_to, '__name__', cast_to)}: {exc}",
                status_code=status,
                method=method,
                url=url,
                body=raw[:2000].decode("utf-8", "replace"),
                # msgspec.ValidationError (a subclass) means valid JSON of the wrong shape.
                malformed=not isinstance(exc, msgspec.ValidationError),
            ) from exc
