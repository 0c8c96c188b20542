"""A client's settings: every default as a named constant (the timeouts' are beside `Timeout` in
`_types`, re-exported here), and one frozen `ClientConfig`.

Both clients take the same keywords (`ClientOptions`), turn them into one `ClientConfig`
here, and share it with every copy `with_options` makes; nothing else holds a setting.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import urllib.request
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, SupportsIndex, TypedDict, TypeVar, Unpack

from yarl import URL

from ._errors import TelnyxError
from ._hooks import EVENT_NAMES, EventHooks, Hooks
from ._logging import logger
from ._tls import SSLOption, SSLSetting, resolve_ssl
from ._types import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
    NotGiven,
    Timeout,
    TimeoutTypes,
    seconds_or_none,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "POOL_SETTINGS",
    "ClientChanges",
    "ClientConfig",
    "ClientOptions",
    "Secret",
    "check_keywords",
    "masked_url",
]

T = TypeVar("T")

_CREDENTIALS = re.compile(r"//[^/@\s]*@")

DEFAULT_BASE_URL: Final = "https://api.telnyx.com/v2"
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_MAX_CONNECTIONS: Final = 256
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
DEFAULT_MAX_EVENT_BYTES: Final = 16 * 1024 * 1024


DEFAULT_TIMEOUT: Final = Timeout()


class Secret(str):
    """A credential: the string itself where it is used, ``'<redacted>'`` wherever it is shown.

    Every ``repr`` (tracebacks printed with locals, ``pytest --showlocals``, a headers dict in a
    log) shows the placeholder; only aiohttp, writing the header, sees the value.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"

    def __getitem__(self, index: SupportsIndex | slice) -> Secret:
        # A slice (rich cuts long strings before showing them) is as secret as the whole.
        return Secret(str.__getitem__(self, index))


class _Settings(TypedDict, total=False):
    """The settings both a new client and a copy made by ``with_options`` take."""

    api_key: str | None
    """The API key; by default the ``TELNYX_API_KEY`` environment variable."""
    base_url: str | None
    """Where the API lives; by default ``TELNYX_BASE_URL``, else `DEFAULT_BASE_URL`."""
    timeout: TimeoutTypes
    """Seconds (for both the connect and the read limit), a `Timeout`, or None for no limit."""
    max_retries: int
    """How many times a failed request is tried again (0 turns retries off)."""
    default_headers: Mapping[str, str] | None
    """Headers sent with every request (they win over the SDK's own headers of the same name)."""
    default_query: Mapping[str, object] | None
    """Query parameters sent with every request (a call's own ``extra_query`` wins)."""
    proxy: str | None
    """An HTTP proxy for every request. Left out: ``HTTPS_PROXY``/``HTTP_PROXY`` (unless ``NO_PROXY``
    names the API's host), as curl and httpx do; None: no proxy at all."""
    ssl: SSLOption
    """The certificates trusted: an ``ssl.SSLContext``, a CA bundle path, or False (no verification,
    logged once). Left out: the system's, or ``$SSL_CERT_FILE``/``$SSL_CERT_DIR`` when set."""
    max_response_bytes: int
    """A response body over this size raises an error instead of filling memory (64 MiB)."""
    max_event_bytes: int
    """A stream line over this size raises an error instead of filling memory (16 MiB)."""
    event_hooks: EventHooks | None
    """Functions called with typed events as the client works (request, response, retry, call_end,
    stream_end), for logging and metrics. A copy made by ``with_options`` keeps them; given there, each
    event's list replaces the client's for that event."""


class ClientOptions(_Settings, total=False):
    """The keywords both clients take. Every one is optional."""

    max_connections: int
    """The most connections the pool opens at once (256); fixed for the client and its copies."""


class ClientChanges(_Settings, total=False):
    """What a copy made by ``with_options`` may change: every setting but the pool's own.

    ``default_headers`` and ``default_query`` are merged over the client's (a name given again wins);
    ``set_default_headers`` and ``set_default_query`` replace them whole.
    """

    set_default_headers: Mapping[str, str] | None
    """Headers sent with every request instead of the client's."""
    set_default_query: Mapping[str, object] | None
    """Query parameters sent with every request instead of the client's."""


POOL_SETTINGS: Final = {
    "max_connections": "it sizes the connection pool the copy shares",
    "session": "the copy shares this client's aiohttp session",
}
"""Settings fixed for a client and its copies, and why: ``with_options`` refuses them by name."""


def _is_loopback(host: str | None) -> bool:
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _warn_if_plain_http(base_url: str) -> None:
    url = URL(base_url)
    if url.scheme == "http" and not _is_loopback(url.host):
        logger.warning(
            "base_url %s uses plain http to a non-loopback host: the API key would travel unencrypted.", base_url
        )


def _secret_proxy(text: str | None) -> Secret | None:
    return Secret(_proxy_url(text)) if text else None


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


def masked_url(text: str) -> str:
    """``text`` fit for an error message: any ``user:password@`` replaced by ``***@``."""
    return _CREDENTIALS.sub("//***@", str.__str__(text))


def _shown(text: str) -> str:
    return repr(masked_url(text))


def _parse_url(name: str, text: object) -> URL:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError(f"{name} must not contain whitespace or control characters: {_shown(text.strip())}.")
    try:
        return URL(text)
    except ValueError:
        raise ValueError(f"{name} is not a valid URL: {_shown(text)}.") from None


def _check_base_url(text: str) -> None:
    """Reject what would silently mangle every request URL, or put a secret into reprs and errors."""
    url = _parse_url("base_url", text)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an http(s) URL such as https://api.telnyx.com/v2, got {_shown(text)}.")
    if url.user is not None or url.password is not None:
        raise ValueError(
            "base_url must not carry credentials (user:password@host): the API key is the credential. "
            "Pass it as api_key=..."
        )
    if url.query_string or url.fragment or "?" in text or "#" in text:
        raise ValueError(
            f"base_url must not have a query or fragment (base_url={url.with_query(None).with_fragment(None)} "
            "works); pass default_query=... for parameters sent with every request."
        )


def _proxy_url(text: str) -> str:
    """A proxy as aiohttp takes it: ``http://`` added when the scheme is left out, as curl and httpx do."""
    if "://" not in text:
        text = "http://" + text
    url = _parse_url("proxy", text)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"proxy must be an http(s) proxy URL such as http://proxy.example:3128, got {_shown(text)}.")
    if url.query_string or url.fragment:
        raise ValueError(f"proxy must be a plain URL without a query or fragment, got {_shown(text)}.")
    return text


def _did_you_mean(name: str, names: Sequence[str]) -> str:
    """`` Did you mean 'x'?`` for the name in ``names`` closest to a misspelled ``name``, or nothing."""
    import difflib  # only for this error message: not loaded with the client

    close = difflib.get_close_matches(name, names, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_keywords(given: Iterable[str], allowed: Collection[str], where: str, *, known: Iterable[str] = ()) -> None:
    """A misspelled keyword is a `TypeError` naming it and, when one is close, the likely intended one
    (among ``allowed`` and the caller's other ``known`` names), never silently ignored."""
    for name in given:
        if name not in allowed:
            raise TypeError(
                f"{where} got an unexpected keyword argument {name!r}.{_did_you_mean(name, [*known, *allowed])}"
            )


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
    ssl: SSLSetting = True
    """What requests verify TLS with (aiohttp's ``ssl=``), resolved from the ``ssl`` keyword by `resolve_ssl`."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    hooks: Hooks | None = None
    """The ``event_hooks``, checked (None: none)."""

    def __post_init__(self) -> None:
        _check_count("max_retries", self.max_retries, minimum=0)
        for name in ("max_connections", "max_response_bytes", "max_event_bytes"):
            _check_count(name, getattr(self, name), minimum=1)
        _check_base_url(self.base_url)
        if self.proxy is not None:
            _proxy_url(self.proxy)
        if not (self.timeout is None or isinstance(self.timeout, Timeout)):
            seconds_or_none("timeout", self.timeout)  # a number, or a clear error

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
            proxy=_secret_proxy(typed.get("proxy")),
            proxy_from_environment="proxy" not in typed,
            ssl=resolve_ssl(typed.get("ssl", True)),
            max_connections=typed.get("max_connections", DEFAULT_MAX_CONNECTIONS),
            max_response_bytes=typed.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES),
            max_event_bytes=typed.get("max_event_bytes", DEFAULT_MAX_EVENT_BYTES),
            hooks=_hooks(typed.get("event_hooks"), None),
        )
        _warn_if_plain_http(base_url)
        return config

    def effective_proxy(self) -> str | None:
        """The proxy requests go through: the one given, else the environment's for ``base_url``."""
        if not self.proxy_from_environment:
            return self.proxy
        url = URL(self.base_url)
        if _is_loopback(url.host) or urllib.request.proxy_bypass(url.host or ""):  # loopback, or NO_PROXY
            return None
        return _secret_proxy(urllib.request.getproxies_environment().get(url.scheme))

    def replace(self, **changes: Unpack[ClientChanges]) -> ClientConfig:
        """This configuration with some settings changed (checked like the originals)."""
        for name, why in POOL_SETTINGS.items():
            if name in changes:
                raise TypeError(
                    f"with_options() cannot change {name}: {why}. "
                    f"Create another client instead, such as AsyncTelnyx({name}=...), and close it when done."
                )
        check_keywords(changes, ClientChanges.__annotations__, "with_options()")
        # NOT_GIVEN (what wrappers forward for "unchanged") leaves a setting as it is.
        fields: dict[str, object] = {k: v for k, v in changes.items() if not isinstance(v, NotGiven)}
        if "api_key" in fields:
            fields["api_key"] = _resolve_key(changes.get("api_key"))
        if "base_url" in fields:
            fields["base_url"] = _resolve_base_url(changes.get("base_url"))
            _warn_if_plain_http(fields["base_url"])  # type: ignore[arg-type]
        if "proxy" in fields:
            fields["proxy"] = _secret_proxy(changes.get("proxy"))
            fields["proxy_from_environment"] = False
        if "ssl" in fields:
            fields["ssl"] = resolve_ssl(fields["ssl"])
        if "event_hooks" in fields:
            fields["hooks"] = _hooks(fields.pop("event_hooks"), self.hooks)  # type: ignore[arg-type]
        fields.update(_merged(fields, "default_headers", self.default_headers, _merge_headers))
        fields.update(_merged(fields, "default_query", self.default_query, lambda old, new: {**old, **new}))
        return dataclasses.replace(self, **fields)  # type: ignore[arg-type]


def _hooks(given: EventHooks | None, current: Hooks | None) -> Hooks | None:
    """``event_hooks`` checked, each event's list replacing ``current``'s for that event; None when none are left."""
    if given is None:
        return current
    if not isinstance(given, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(
            f"event_hooks must be a dict of lists of functions, such as {{'request': [log_request]}}, "
            f"got {type(given).__name__}."
        )
    for name in given:
        if name not in EVENT_NAMES:
            hint = _did_you_mean(str(name), EVENT_NAMES)
            raise TypeError(f"event_hooks has no event {name!r} (the events: {', '.join(EVENT_NAMES)}).{hint}")
    hooks = Hooks({**(current.as_dict() if current else {}), **given})
    return hooks if hooks.as_dict() else None


def _merge_headers(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    """``new`` over ``old``; header names compare without case, so ``x-team`` replaces ``X-Team``."""
    replaced = {name.lower() for name in new}
    return {**{k: v for k, v in old.items() if k.lower() not in replaced}, **new}


def _merged(
    fields: dict[str, object],
    name: str,
    current: Mapping[str, T],
    merge: Callable[[Mapping[str, T], Mapping[str, T]], dict[str, T]],
) -> dict[str, object]:
    """The new value of ``name`` (``default_headers`` or ``default_query``): ``set_<name>`` replaces, ``<name>`` merges."""
    given, replacement = name in fields, f"set_{name}" in fields
    if given and replacement:
        raise TypeError(f"with_options() takes {name} (merged) or set_{name} (replacing), not both.")
    if replacement:
        return {name: dict(fields.pop(f"set_{name}") or {})}  # type: ignore[call-overload]
    if given:
        return {name: merge(current, fields[name] or {})}  # type: ignore[arg-type]
    return {}
