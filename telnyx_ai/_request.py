"""Building a request: the path with its parameters encoded, the query, headers and JSON body.

Nothing here touches the network; every mistake a caller can make is caught here, before
any connection is opened.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec

from ._errors import TelnyxError
from ._types import NOT_GIVEN, Body, Headers, NotGiven, Query

__all__ = ["build_path", "check_header_value", "encode_body", "merge_headers", "query_params"]


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
        f"Query parameter {name!r} must be a str, int, float, bool or a list of them, got {type(value).__name__}."
    )


def query_params(query: Query | None, extra: Query | None) -> dict[str, Any] | None:
    """Wire-named query parameters with unset ones dropped, or None when there are none."""
    if not query and not extra:
        return None
    params: dict[str, Any] = {}
    for source in (query, extra):
        if source:
            for name, value in source.items():
                if value is not NOT_GIVEN and value is not None:
                    params[name] = _query_value(name, value)
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


def encode_body(body: Body | None, extra: Body | None) -> bytes | None:
    """The JSON body: given arguments (unset ones dropped) with ``extra_body`` merged over them."""
    if body is None and not extra:
        return None
    fields: dict[str, object] = {k: v for k, v in body.items() if v is not NOT_GIVEN} if body else {}
    if extra:
        fields.update(extra)
    try:
        return _encoder.encode(fields)
    except TypeError as exc:
        raise TelnyxError(f"Could not encode the request body: {exc}") from exc
