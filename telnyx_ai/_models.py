"""The base of every response type, and the cache of msgspec decoders built once per type."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

__all__ = ["APIResponse", "BaseModel", "decoder_for"]

T = TypeVar("T")


class BaseModel(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A response object: attribute access, decoded straight from bytes.

    Unknown fields from the server are ignored, so a new field never breaks an old client.
    Fields the server did not send hold their default (usually ``None``).
    """

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts and lists, keyed by wire names, leaving out fields that hold their default."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    def to_json(self) -> str:
        """This object as a JSON string, keyed by wire names."""
        return msgspec.json.encode(self).decode()


class APIResponse(BaseModel, gc=True, dict=True):
    """A whole response body, as an operation returns it: also the server's id for the request.

    The id comes from the response's ``x-request-id`` header, not the JSON, so it stays out of
    `to_dict` and `to_json`. (Only these top-level objects pay for the ``__dict__`` that holds it.)
    """

    @property
    def request_id(self) -> str | None:
        """The server's id for the request that returned this (for support tickets and logs)."""
        value = vars(self).get("_request_id")
        return value if isinstance(value, str) else None


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder_for(tp: type[T]) -> msgspec.json.Decoder[T]:
    """The JSON decoder for ``tp``, built on first use and then reused."""
    try:
        return _decoders[tp]
    except KeyError:
        decoder = _decoders[tp] = msgspec.json.Decoder(tp)
        return decoder
