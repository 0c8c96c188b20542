"""Building a request: one frozen `Request` from an operation's path, query, headers and body.

Nothing here touches the network; every mistake a caller can make is caught here, before
any connection is opened. `RequestBuilder` holds what a client adds to every request (base
URL, headers with the key, timeout), worked out once from its `ClientConfig`.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, cast
from urllib.parse import quote

import aiohttp
import msgspec

from .._config import ClientConfig, Secret
from .._errors import TelnyxError
from .._logging import redact_headers
from .._tls import SSLSetting
from .._types import (
    DEFAULT_TOTAL_TIMEOUT,
    NOT_GIVEN,
    Body,
    Headers,
    NotGiven,
    Query,
    RequestOptions,
    Timeout,
    TimeoutTypes,
    stream_idle_of,
)
from .._version import __version__

__all__ = [
    "IDEMPOTENCY_KEY_HEADER",
    "RETRY_COUNT_HEADER",
    "USER_AGENT",
    "RawJSON",
    "Request",
    "RequestBuilder",
    "build_path",
    "check_header_value",
    "client_timeout",
    "encode_body",
    "merge_headers",
    "new_idempotency_key",
    "query_params",
]

USER_AGENT = f"telnyx-ai-python/{__version__}"
RETRY_COUNT_HEADER = "X-Retry-Count"
"""Sent with every attempt (0 on the first), so the server side can tell a retry from a new request."""
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
"""One value per call, the same on each of its retries: a server that has already acted answers with the first result."""


_UUID_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
"""A random hex digit as the first digit of a UUID's variant field (RFC 4122: 10xx in binary)."""


def new_idempotency_key() -> str:
    """A fresh key for one call: a random (version 4) UUID, the format servers that validate keys accept.

    Formatted from ``os.urandom`` here: ``str(uuid.uuid4())`` costs 21,000 instructions, 2 % of a small
    call (callgrind), this 8,000. The same 122 random bits, the same text. One draw per key, none made
    ahead: keys kept in memory would be sent twice by processes forked without Python's fork hooks
    (a uWSGI worker) or restored from one snapshot.
    """
    digits = os.urandom(16).hex()
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{_UUID_VARIANT[digits[16]]}{digits[17:20]}-{digits[20:]}"


def _has_idempotency_key(headers: Headers | None) -> bool:
    return bool(headers) and any(name.lower() == "idempotency-key" for name in headers or ())


def _encode_segment(name: str, value: object) -> str:
    if isinstance(value, NotGiven) or value is None:
        raise TypeError(f"Missing required path parameter {name!r}: pass it as the first argument.")
    text = value if isinstance(value, str) else str(value)
    if not text:
        raise ValueError(f"Path parameter {name!r} must be a non-empty string, got {value!r}.")
    encoded = quote(text, safe="")
    # "." and ".." are path navigation, not names: encode them so they stay a literal segment.
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def build_path(template: str, **params: object) -> str:
    """``template`` with each ``{name}`` replaced by its percent-encoded value.

    Every character outside the unreserved set is encoded, including ``/``, ``?`` and ``#``,
    so an id can never reach another endpoint.
    """
    return template.format_map({name: _encode_segment(name, value) for name, value in params.items()})


def _query_value(name: str, value: object) -> str | list[str]:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.date):  # a datetime too: ISO 8601, as the spec's date-time format says
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        items: list[str] = []
        for item in value:  # pyright: ignore[reportUnknownVariableType]
            text = _query_value(name, item)  # pyright: ignore[reportUnknownArgumentType]
            if isinstance(text, list):
                raise TypeError(f"Query parameter {name!r} cannot hold nested lists.")
            items.append(text)
        return items
    raise TypeError(
        f"Query parameter {name!r} must be a str, int, float, bool, date, datetime, a list of them or a dict, "
        f"got {type(value).__name__}."
    )


def _add_query(params: dict[str, Any], name: str, value: object) -> None:
    if value is NOT_GIVEN or value is None:
        return
    if isinstance(value, Mapping):  # deepObject style, as the spec's filters are sent: filter[key]=value
        spread = cast("Mapping[object, object]", value)
        for key, item in spread.items():
            _add_query(params, f"{name}[{key}]", item)
        return
    params[name] = _query_value(name, value)


def query_params(query: Query | None, extra: Query | None) -> dict[str, Any] | None:
    """Wire-named query parameters with unset ones dropped, or None when there are none.

    A mapping is spread over bracketed names (``filter={"user_id": "u"}`` -> ``filter[user_id]=u``).
    """
    if not query and not extra:
        return None
    params: dict[str, Any] = {}
    for source in (query, extra):
        if source:
            for name, value in source.items():
                _add_query(params, name, value)
    return params or None


def check_header_value(name: str, value: str) -> str:
    """Reject header names and values that could split a header (CR, LF or NUL in them)."""
    if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"Header {name!r} must be a str, got {type(value).__name__}.")
    for text in (name, value):
        if "\r" in text or "\n" in text or "\0" in text:
            raise ValueError(f"Header {name!r} contains a CR, LF or NUL character; remove it.")
    return value


def merge_headers(base: dict[str, str], extra: Headers | None) -> dict[str, str]:
    """``base`` overridden by ``extra`` (checked); ``base`` itself is returned when there is nothing to add."""
    if not extra:
        return base
    merged = dict(base)
    for name, value in extra.items():
        merged[name] = check_header_value(name, value)
    return merged


def _enc_hook(obj: object) -> object:
    if isinstance(obj, NotGiven):
        raise TypeError("NOT_GIVEN can only be passed as a whole argument, not inside a value.")
    raise TypeError(f"Cannot send a {type(obj).__name__} as JSON; pass dicts, lists, strings and numbers.")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


class RawJSON(NamedTuple):
    """A request body that is one whole JSON value (an array, a string...), not an object of named fields."""

    value: object


def encode_body(body: Body | RawJSON | None, extra: Body | None) -> bytes | None:
    """The JSON body: given arguments (unset ones dropped) with ``extra_body`` merged over them."""
    if isinstance(body, RawJSON):
        if extra:
            raise TelnyxError("extra_body cannot be merged into this operation's body: it is a whole JSON value.")
        try:
            return _encoder.encode(body.value)
        except TypeError as exc:
            raise TelnyxError(f"Could not encode the request body: {exc}") from exc
    if body is None and not extra:
        return None
    if body and not extra:
        # The usual body: built by a generated method from the arguments given, so nothing to drop. A value
        # the encoder refuses (a NOT_GIVEN left in, a type it cannot send) goes the general way below.
        try:
            return _encoder.encode(body)
        except TypeError:
            pass
    fields: dict[str, object] = {k: v for k, v in body.items() if v is not NOT_GIVEN} if body else {}
    if extra:
        fields.update(extra)
    try:
        return _encoder.encode(fields)
    except TypeError as exc:
        raise TelnyxError(f"Could not encode the request body: {exc}") from exc


PayloadFactory = Callable[[], Any]
"""Makes a fresh non-JSON payload (multipart form, file stream) for each attempt."""


def client_timeout(timeout: TimeoutTypes, *, stream: bool = False) -> aiohttp.ClientTimeout:
    """aiohttp's form of a `Timeout`. The names differ, so the mapping is spelt out:

    - ``Timeout.read`` is ``sock_read``: each wait for bytes, never the whole body, so long streams live on;
    - ``Timeout.connect`` is ``sock_connect``: opening one TCP (and TLS) connection;
    - ``Timeout.pool`` is ``connect``: everything before sending, including the wait for a pooled connection;
    - ``Timeout.total`` is ``total``: one whole attempt, body included; never for a ``stream``.
    """
    if timeout is None:
        return aiohttp.ClientTimeout(total=None)
    if not isinstance(timeout, Timeout):
        # Seconds: the connect and read limits; a whole attempt may take at least as long as that.
        seconds = float(timeout)
        timeout = Timeout(read=seconds, connect=seconds, total=max(seconds, DEFAULT_TOTAL_TIMEOUT))
    return aiohttp.ClientTimeout(
        total=None if stream else timeout.total,
        connect=timeout.pool,
        sock_connect=timeout.connect,
        sock_read=timeout.read,
    )


class Request(msgspec.Struct, frozen=True, gc=False):
    """One HTTP request, ready to send as many times as the retry policy allows."""

    method: str
    url: str
    params: dict[str, Any] | None
    headers: dict[str, str]
    payload: bytes | PayloadFactory | None
    """The JSON body, or a function making a fresh payload for each attempt."""
    timeout: aiohttp.ClientTimeout
    resendable: bool = True
    """False when the payload can be produced only once (an upload read from a one-shot stream)."""
    proxy: str | None = None
    ssl: SSLSetting = True
    """aiohttp's ``ssl=``: True (verify with its default context), an ``SSLContext``, or False (no verification)."""
    stream_idle: float | None = None
    """For a stream: the longest wait for its next data event (`Timeout.stream_idle`), None for none."""

    def body(self) -> Any:
        """The payload for one attempt."""
        payload = self.payload
        return payload() if callable(payload) else payload

    def headers_for(self, retry: int) -> dict[str, str]:
        """The headers of attempt ``retry + 1``: the first attempt's, with the retry count updated."""
        return self.headers if not retry else {**self.headers, RETRY_COUNT_HEADER: str(retry)}

    def __repr__(self) -> str:
        return f"Request({self.method} {self.url}, headers={redact_headers(self.headers)})"  # never the proxy

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # rich's pretty printer (tracebacks with show_locals) would otherwise list every field.
        return [("method", self.method), ("url", self.url), ("headers", redact_headers(self.headers))]


class RequestBuilder:
    """Turns an operation's pieces into a `Request` carrying a client's base URL, headers and timeout."""

    __slots__ = (
        "_base_url",
        "_headers",
        "_json_headers",
        "_proxy",
        "_query",
        "_retries",
        "_ssl",
        "_stream_headers",
        "_stream_idle",
        "_stream_json_headers",
        "_stream_timeout",
        "_timeout",
    )

    def __init__(self, config: ClientConfig) -> None:
        check_header_value("Authorization", config.api_key)
        headers: dict[str, str] = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": Secret(f"Bearer {config.api_key}"),
            RETRY_COUNT_HEADER: "0",
        }
        for name, value in config.default_headers.items():
            headers[name] = check_header_value(name, value)
        self._base_url = config.base_url
        self._headers = headers
        self._json_headers = {**headers, "Content-Type": "application/json"}
        self._stream_headers = {**headers, "Accept": "text/event-stream"}
        self._stream_json_headers = {**self._json_headers, "Accept": "text/event-stream"}
        self._query = dict(config.default_query) or None
        self._proxy = config.effective_proxy()
        self._ssl = config.ssl
        self._timeout = client_timeout(config.timeout)
        self._stream_timeout = client_timeout(config.timeout, stream=True)
        self._retries = config.max_retries > 0
        self._stream_idle = stream_idle_of(config.timeout)

    @property
    def headers(self) -> dict[str, str]:
        """The headers sent with every request (the key included: redact before showing them)."""
        return self._headers

    def build(
        self,
        method: str,
        path: str,
        *,
        options: RequestOptions,
        body: Body | RawJSON | None = None,
        query: Query | None = None,
        data: PayloadFactory | None = None,
        stream: bool = False,
        idempotency_key: str | NotGiven = NOT_GIVEN,
    ) -> Request:
        """The request for ``method path``; ``data`` replaces the JSON body; a ``stream`` asks for events.

        ``options`` were checked by the operation (`_checks`): only `RequestOptions` keys reach here.
        A call other than a GET that may be retried gets one ``Idempotency-Key`` (the caller's, or a new
        one); every attempt sends this same `Request`, so retries repeat the key and a server acts once.
        """
        # A call without request options (the usual one) looks none of them up.
        extra_headers = options.get("extra_headers") if options else None
        payload: bytes | PayloadFactory | None
        if data is not None:
            payload = data
            base_headers = self._stream_headers if stream else self._headers
        else:
            payload = encode_body(body, options.get("extra_body") if options else None)
            if payload is None:
                base_headers = self._stream_headers if stream else self._headers
            else:
                base_headers = self._stream_json_headers if stream else self._json_headers
        resendable = data is None or getattr(data, "resendable", True)
        if method != "GET" and not (extra_headers and _has_idempotency_key(extra_headers)):  # extra_headers win
            if not isinstance(idempotency_key, NotGiven):
                key = check_header_value(IDEMPOTENCY_KEY_HEADER, idempotency_key)
                base_headers = {**base_headers, IDEMPOTENCY_KEY_HEADER: key}
            elif self._retries and resendable:
                base_headers = {**base_headers, IDEMPOTENCY_KEY_HEADER: new_idempotency_key()}
        headers = base_headers
        if extra_headers:
            headers = merge_headers(base_headers, extra_headers)
            if stream:  # a stream asks for events whatever the caller's headers say, in whatever case
                for name in [name for name in headers if name.lower() == "accept"]:
                    del headers[name]
                headers["Accept"] = "text/event-stream"
        timeout = options.get("timeout", NOT_GIVEN) if options else NOT_GIVEN
        if isinstance(timeout, NotGiven):
            limits = self._stream_timeout if stream else self._timeout
            idle = self._stream_idle
        else:
            limits = client_timeout(timeout, stream=stream)
            idle = stream_idle_of(timeout)
        extra_query = options.get("extra_query") if options else None
        if self._query:
            extra_query = {**self._query, **extra_query} if extra_query else self._query
        return Request(
            method,
            self._base_url + path,
            query_params(query, extra_query) if query or extra_query else None,
            headers,
            payload,
            limits,
            resendable,
            self._proxy,
            self._ssl,
            idle if stream else None,
        )
