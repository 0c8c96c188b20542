"""A client's settings: every default as a named constant, and one frozen `ClientConfig`.

Both clients take the same keywords (`ClientOptions`), turn them into one `ClientConfig`
here, and share it with every copy `with_options` makes; nothing else holds a setting.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import urllib.request
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypedDict, Unpack, final

from yarl import URL

from ._errors import TelnyxError
from ._logging import logger

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "ClientChanges",
    "ClientConfig",
    "ClientOptions",
    "Secret",
    "Timeout",
    "TimeoutTypes",
    "check_keywords",
]

DEFAULT_BASE_URL: Final = "https://api.telnyx.com/v2"
DEFAULT_READ_TIMEOUT: Final = 60.0
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_MAX_CONNECTIONS: Final = 256
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
DEFAULT_MAX_EVENT_BYTES: Final = 16 * 1024 * 1024
DEFAULT_TOTAL_TIMEOUT: Final = 600.0
"""Ten minutes for a whole non-streaming request, as openai-python allows; streams have no total limit."""


@final
class Timeout:
    """Connect, read, pool and total limits in seconds.

    ``read`` bounds the wait for each next piece of the response, not the whole response,
    so a stream that keeps sending bytes is never cut. ``connect`` bounds opening a connection.
    ``pool`` bounds everything before the request is sent: waiting for a free pooled connection,
    name resolution and connecting (off by default, since a busy pool is the caller's own queue).
    ``total`` bounds one whole attempt of a non-streaming request, so a server trickling bytes
    cannot hold a call forever; it never applies to streams. ``None`` (or infinity) disables a limit.
    """

    __slots__ = ("connect", "pool", "read", "total")

    def __init__(
        self,
        read: float | None = DEFAULT_READ_TIMEOUT,
        *,
        connect: float | None = DEFAULT_CONNECT_TIMEOUT,
        pool: float | None = None,
        total: float | None = DEFAULT_TOTAL_TIMEOUT,
    ) -> None:
        self.connect = _seconds("connect", connect)
        self.read = _seconds("read", read)
        self.pool = _seconds("pool", pool)
        self.total = _seconds("total", total)

    def _key(self) -> tuple[float | None, ...]:
        return (self.read, self.connect, self.pool, self.total)

    def __repr__(self) -> str:
        return f"Timeout(read={self.read!r}, connect={self.connect!r}, pool={self.pool!r}, total={self.total!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def _seconds(name: str, value: float | None) -> float | None:
    """A limit as aiohttp can use it: positive seconds, or None for none (infinity means none)."""
    if value is None or value == float("inf"):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError(f"Timeout {name} must be a positive number of seconds or None, got {value!r}")
    return float(value)


TimeoutTypes = float | Timeout | None
"""A timeout as callers may give it: seconds for both limits, a `Timeout`, or None for none."""

DEFAULT_TIMEOUT: Final = Timeout()


class Secret(str):
    """A credential: the string itself where it is used, ``'<redacted>'`` wherever it is shown.

    Every ``repr`` (tracebacks printed with locals, ``pytest --showlocals``, a headers dict in a
    log) shows the placeholder; only aiohttp, writing the header, sees the value.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


class ClientChanges(TypedDict, total=False):
    """The settings a copy made by ``with_options`` may change; the copy shares the connection pool."""

    api_key: str | None
    """The API key; by default the ``TELNYX_API_KEY`` environment variable."""
    base_url: str | None
    """Where the API lives; by default ``TELNYX_BASE_URL``, else `DEFAULT_BASE_URL`."""
    timeout: TimeoutTypes
    """Seconds (for both the connect and the read limit), a `Timeout`, or None for no limit."""
    max_retries: int
    """How many times a failed request is tried again (0 turns retries off)."""
    default_headers: Mapping[str, str] | None
    """Headers sent with every request (they win over the SDK's own, except ``Authorization``)."""
    default_query: Mapping[str, object] | None
    """Query parameters sent with every request (a call's own ``extra_query`` wins)."""


class ClientOptions(ClientChanges, total=False):
    """The keywords both clients take. Every one is optional."""

    proxy: str | None
    """An HTTP proxy for every request. Left out: ``HTTPS_PROXY``/``HTTP_PROXY`` (unless ``NO_PROXY``
    names the API's host), as curl and httpx do; None: no proxy at all."""
    max_connections: int
    """The most connections the pool opens at once (256)."""
    max_response_bytes: int
    """A response body over this size raises an error instead of filling memory (64 MiB)."""
    max_event_bytes: int
    """A stream line over this size raises an error instead of filling memory (16 MiB)."""


def _is_loopback(host: str | None) -> bool:
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _resolve_key(api_key: str | None) -> Secret:
    key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
    if not key:
        raise TelnyxError(
            "No API key: pass api_key=... or set the TELNYX_API_KEY environment variable. "
            "To try the SDK without one, run against telnyx_ai.testing's local server."
        )
    return Secret(key)


def _resolve_base_url(base_url: str | None) -> str:
    return (base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def _check_count(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        bound = "0 or more" if minimum == 0 else f"at least {minimum}"
        raise ValueError(f"{name} must be {bound} (a whole number), got {value!r}.")


def _check_url(name: str, text: str, *, allow_credentials: bool = False) -> None:
    """Reject what would silently mangle every request URL, or leak a secret into reprs and errors."""
    if not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]  # untyped callers
        raise TypeError(f"{name} must be a str, got {type(text).__name__}.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError(f"{name} must not contain whitespace or control characters: {text.strip()!r}.")
    try:
        url = URL(text)
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{name} must be an http(s) URL such as https://api.telnyx.com/v2, got {text!r}.")
    if (url.user is not None or url.password is not None) and not allow_credentials:
        raise ValueError(
            f"{name} must not carry credentials (user:password@host): the API key is the credential. "
            "Pass it as api_key=..."
        )
    if url.query_string or url.fragment or "?" in text or "#" in text:
        raise ValueError(
            f"{name} must not have a query or fragment ({name}={url.with_query(None).with_fragment(None)} "
            "works); pass default_query=... for parameters sent with every request."
        )


def check_keywords(given: Iterable[str], allowed: Collection[str], where: str, *, known: Iterable[str] = ()) -> None:
    """A misspelled keyword is a `TypeError` naming it and, when one is close, the likely intended one
    (among ``allowed`` and the caller's other ``known`` names), never silently ignored."""
    for name in given:
        if name not in allowed:
            close = difflib.get_close_matches(name, [*known, *allowed], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"{where} got an unexpected keyword argument {name!r}.{hint}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """Everything a client was configured with, checked once. The API key stays out of ``repr``."""

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout: TimeoutTypes = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    default_headers: Mapping[str, str] = field(default_factory=dict[str, str])
    default_query: Mapping[str, object] = field(default_factory=dict[str, object])
    proxy: str | None = field(default=None, repr=False)  # may carry the proxy's credentials
    proxy_from_environment: bool = True
    """No ``proxy`` given: ``HTTPS_PROXY``/``HTTP_PROXY`` for the base URL's scheme, unless ``NO_PROXY`` names its host."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES

    def __post_init__(self) -> None:
        _check_count("max_retries", self.max_retries, minimum=0)
        for name in ("max_connections", "max_response_bytes", "max_event_bytes"):
            _check_count(name, getattr(self, name), minimum=1)
        _check_url("base_url", self.base_url)
        if self.proxy is not None:
            _check_url("proxy", self.proxy, allow_credentials=True)

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> ClientConfig:
        """The configuration for a new client: ``options`` (`ClientOptions`), then the environment, then defaults."""
        check_keywords(options, ClientOptions.__annotations__, "The client")
        typed: ClientOptions = options  # type: ignore[assignment]  # checked just above
        base_url = _resolve_base_url(typed.get("base_url"))
        config = cls(
            api_key=_resolve_key(typed.get("api_key")),
            base_url=base_url,
            timeout=typed.get("timeout", DEFAULT_TIMEOUT),
            max_retries=typed.get("max_retries", DEFAULT_MAX_RETRIES),
            default_headers=dict(typed.get("default_headers") or {}),
            default_query=dict(typed.get("default_query") or {}),
            proxy=typed.get("proxy") or None,
            proxy_from_environment="proxy" not in typed,
            max_connections=typed.get("max_connections", DEFAULT_MAX_CONNECTIONS),
            max_response_bytes=typed.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES),
            max_event_bytes=typed.get("max_event_bytes", DEFAULT_MAX_EVENT_BYTES),
        )
        url = URL(base_url)
        if url.scheme == "http" and not _is_loopback(url.host):
            logger.warning(
                "base_url %s uses plain http to a non-loopback host: the API key would travel unencrypted.", base_url
            )
        return config

    def effective_proxy(self) -> str | None:
        """The proxy requests go through: the one given, else the environment's for ``base_url``."""
        if not self.proxy_from_environment:
            return self.proxy
        url = URL(self.base_url)
        if url.host is None or urllib.request.proxy_bypass(url.host):  # NO_PROXY
            return None
        return urllib.request.getproxies_environment().get(url.scheme) or None

    def replace(self, **changes: Unpack[ClientChanges]) -> ClientConfig:
        """This configuration with some settings changed (checked like the originals)."""
        check_keywords(changes, ClientChanges.__annotations__, "with_options()")
        fields: dict[str, object] = dict(changes)
        if "api_key" in changes:
            fields["api_key"] = _resolve_key(changes["api_key"])
        if "base_url" in changes:
            fields["base_url"] = _resolve_base_url(changes["base_url"])
        for name in ("default_headers", "default_query"):
            if name in fields:
                fields[name] = dict(fields[name] or {})  # type: ignore[call-overload]
        return dataclasses.replace(self, **fields)  # type: ignore[arg-type]
