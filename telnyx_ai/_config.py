"""A client's settings: every default as a named constant, and one frozen `ClientConfig`.

Both clients take the same keywords (`ClientOptions`), turn them into one `ClientConfig`
here, and share it with every copy `with_options` makes; nothing else holds a setting.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
from collections.abc import Mapping
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
    "Timeout",
    "TimeoutTypes",
]

DEFAULT_BASE_URL: Final = "https://api.telnyx.com/v2"
DEFAULT_READ_TIMEOUT: Final = 60.0
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_MAX_CONNECTIONS: Final = 256
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
DEFAULT_MAX_EVENT_BYTES: Final = 16 * 1024 * 1024


@final
class Timeout:
    """Connect, read and pool limits in seconds.

    ``read`` bounds the wait for each next piece of the response, not the whole response,
    so a stream that keeps sending bytes is never cut. ``connect`` bounds opening a connection.
    ``pool`` bounds everything before the request is sent: waiting for a free pooled connection,
    name resolution and connecting (off by default, since a busy pool is the caller's own queue).
    ``None`` disables a limit.
    """

    __slots__ = ("connect", "pool", "read")

    def __init__(
        self,
        read: float | None = DEFAULT_READ_TIMEOUT,
        *,
        connect: float | None = DEFAULT_CONNECT_TIMEOUT,
        pool: float | None = None,
    ) -> None:
        for name, value in (("connect", connect), ("read", read), ("pool", pool)):
            if value is not None and not value > 0:
                raise ValueError(f"Timeout {name} must be a positive number of seconds or None, got {value!r}")
        self.connect = connect
        self.read = read
        self.pool = pool

    def __repr__(self) -> str:
        return f"Timeout(read={self.read!r}, connect={self.connect!r}, pool={self.pool!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and (self.connect, self.read, self.pool) == (
            other.connect,
            other.read,
            other.pool,
        )

    def __hash__(self) -> int:
        return hash((self.connect, self.read, self.pool))


TimeoutTypes = float | Timeout | None
"""A timeout as callers may give it: seconds for both limits, a `Timeout`, or None for none."""

DEFAULT_TIMEOUT: Final = Timeout()


class ClientChanges(TypedDict, total=False):
    """The settings a copy made by ``with_options`` may change."""

    timeout: TimeoutTypes
    """Seconds (for both the connect and the read limit), a `Timeout`, or None for no limit."""
    max_retries: int
    """How many times a failed request is tried again (0 turns retries off)."""


class ClientOptions(ClientChanges, total=False):
    """The keywords both clients take. Every one is optional."""

    api_key: str | None
    """The API key; by default the ``TELNYX_API_KEY`` environment variable."""
    base_url: str | None
    """Where the API lives; by default ``TELNYX_BASE_URL``, else `DEFAULT_BASE_URL`."""
    default_headers: Mapping[str, str] | None
    """Headers sent with every request (they win over the SDK's own, except ``Authorization``)."""
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


def _check_keywords(given: Mapping[str, object], allowed: Mapping[str, object], where: str) -> None:
    """A misspelled keyword is a `TypeError` naming it (and the likely intended one), never ignored."""
    for name in given:
        if name not in allowed:
            close = difflib.get_close_matches(name, list(allowed), n=1)
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
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}.")
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {self.max_connections}.")
        url = URL(self.base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"base_url must be an http(s) URL such as https://api.telnyx.com/v2, got {self.base_url!r}."
            )

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> ClientConfig:
        """The configuration for a new client: ``options`` (`ClientOptions`), then the environment, then defaults."""
        _check_keywords(options, ClientOptions.__annotations__, "The client")
        typed: ClientOptions = options  # type: ignore[assignment]  # checked just above
        api_key = typed.get("api_key")
        key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
        if not key:
            raise TelnyxError(
                "No API key: pass api_key=... or set the TELNYX_API_KEY environment variable. "
                "To try the SDK without one, run against telnyx_ai.testing's local server."
            )
        base_url = (typed.get("base_url") or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        config = cls(
            api_key=key,
            base_url=base_url,
            timeout=typed.get("timeout", DEFAULT_TIMEOUT),
            max_retries=typed.get("max_retries", DEFAULT_MAX_RETRIES),
            default_headers=dict(typed.get("default_headers") or {}),
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

    def replace(self, **changes: Unpack[ClientChanges]) -> ClientConfig:
        """This configuration with some settings changed (checked like the originals)."""
        _check_keywords(changes, ClientChanges.__annotations__, "with_options()")
        return dataclasses.replace(self, **changes)
