"""The base of every response type, the cache of msgspec decoders built once per type, and
`to_jsonable`, the fallback that lets any JSON encoder write SDK objects."""

from __future__ import annotations

from collections.abc import KeysView
from typing import Any, TypeVar

import msgspec

from ._errors import request_id_of

__all__ = ["APIResponse", "BaseModel", "decoder_for", "dump_foreign", "load_foreign", "to_jsonable"]

T = TypeVar("T")


class BaseModel(msgspec.Struct, kw_only=True, gc=False):
    """A response object: attribute access, decoded straight from bytes.

    Unknown fields from the server are ignored, so a new field never breaks an old client.
    Fields the server did not send hold their default (usually ``None``).
    """

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts and lists, keyed by wire names: every field, those left at their default included
        (``"content": null``, ``"index": 0``), as an OpenAI-compatible reader expects them."""
        result: dict[str, Any] = msgspec.to_builtins(self, enc_hook=dump_foreign)
        return result

    def to_json(self) -> str:
        """This object as a JSON string, keyed by wire names (every field, as `to_dict`)."""
        return _json_encoder.encode(self).decode()

    def keys(self) -> KeysView[str]:
        """The wire names of `to_dict`: with `__getitem__`, ``dict(obj)`` is its JSON data, as for a pydantic
        model (FastAPI's ``jsonable_encoder`` relies on it for an object returned without a ``response_model``)."""
        return self.to_dict().keys()

    def __getitem__(self, wire_name: str) -> Any:
        """One field's JSON data, by its wire name (``obj["from"]`` for ``obj.from_``)."""
        for field in msgspec.structs.fields(self):
            if field.encode_name == wire_name:
                return msgspec.to_builtins(getattr(self, field.name), enc_hook=dump_foreign)
        raise KeyError(wire_name)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """How pydantic, and so FastAPI, checks, writes and documents this type (see `telnyx_ai._pydantic`).

        Called by pydantic only: a program that never uses pydantic never imports it.
        """
        from ._pydantic import core_schema_of

        return core_schema_of(cls, source, handler, enc_hook=dump_foreign, dec_hook=load_foreign)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> Any:
        """The JSON schema pydantic shows for this type (in OpenAPI documents): the msgspec fields."""
        from ._pydantic import json_schema_of

        return json_schema_of(schema, handler)


class APIResponse(BaseModel, gc=True, dict=True):
    """A whole response body, as an operation returns it: also the server's id for the request.

    The id comes from the response's ``x-request-id`` header, not the JSON, so it stays out of
    `to_dict` and `to_json`. (Only these top-level objects pay for the ``__dict__`` that holds it.)
    """

    @property
    def request_id(self) -> str | None:
        """The server's id for the request that returned this (for support tickets and logs)."""
        state = vars(self)
        value = state.get("_request_id")
        if value is None or isinstance(value, str):
            return value
        # The response's headers, kept as they came: the lookup (three misses when the server sends no
        # id) is made on first use instead of on every call.
        found = state["_request_id"] = request_id_of(value)
        return found


def dump_foreign(value: object) -> Any:
    """What msgspec cannot encode by itself: a pydantic model (a ``parsed`` result) becomes its JSON data."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def load_foreign(tp: type[Any], value: object) -> Any:
    """What msgspec cannot convert by itself: data for a pydantic model (a ``parsed`` field) becomes the model."""
    validate = getattr(tp, "model_validate", None)
    if callable(validate):
        return validate(value)
    # msgspec's dec_hook contract: NotImplementedError means "not a type I convert", and msgspec reports it
    # as a validation error naming the field, which is what a caller should see.
    raise NotImplementedError(f"{tp!r} is neither a msgspec type nor a pydantic model")


_json_encoder = msgspec.json.Encoder(enc_hook=dump_foreign)


def to_jsonable(value: object) -> Any:
    """``value`` as JSON data (dicts, lists, strings, numbers), for a JSON encoder's fallback hook:

    ```python
    json.dumps(completion, default=telnyx_ai.to_jsonable)
    ```

    An SDK object becomes the dict `BaseModel.to_dict` gives (wire names, defaults left out, never
    the request id); dates, UUIDs and the like become strings. Anything else raises `TypeError`, as a
    ``default`` hook must.
    """
    return msgspec.to_builtins(value, enc_hook=dump_foreign)


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder_for(tp: type[T]) -> msgspec.json.Decoder[T]:
    """The JSON decoder for ``tp``, built on first use and then reused."""
    try:
        return _decoders[tp]
    except KeyError:
        decoder = _decoders[tp] = msgspec.json.Decoder(tp)
        return decoder
