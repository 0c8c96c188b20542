"""SDK response types inside pydantic models and FastAPI routes: validation, serialization, JSON schema.

Imported only when pydantic asks a `BaseModel` subclass for its core schema, so a program that
never uses pydantic never imports it. msgspec does the work: a value that already is the type
passes as it is, a dict is converted with `msgspec.convert`, and output is `to_builtins` (wire
names, defaults left out, never the request id). The JSON schema is built from the msgspec
fields, with each nested type as a named definition, so OpenAPI documents show the real fields.
"""

from __future__ import annotations

import datetime
import decimal
import threading
import uuid
from collections.abc import Callable
from typing import Any, get_args

import msgspec
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = ["core_schema_of", "json_schema_of"]

_building = threading.local()  # the refs whose schema is being built on this thread: a cycle ends at them


def _ref(origin: type[Any], args: tuple[Any, ...]) -> str:
    """The definition's name, in pydantic's own form, so a type met twice in one model is built once."""
    ref = f"{origin.__module__}.{origin.__qualname__}:{id(origin)}"
    if args:
        ref += "[" + ",".join(f"{getattr(a, '__qualname__', repr(a))}:{id(a)}" for a in args) + "]"
    return ref


EncHook = Callable[[Any], Any]
DecHook = Callable[[type[Any], Any], Any]
# Python mode (``model_dump()``) keeps these as they are, as pydantic does; JSON mode writes them as text.
_PYTHON_TYPES = (bytes, bytearray, datetime.datetime, datetime.date, datetime.time, decimal.Decimal, uuid.UUID)


def core_schema_of(
    cls: type[Any], source: Any, handler: GetCoreSchemaHandler, *, enc_hook: EncHook, dec_hook: DecHook
) -> core_schema.CoreSchema:
    """The core schema of ``source`` (``cls`` or a parametrized alias of it, such as ``AsyncPage[Model]``).

    ``enc_hook`` and ``dec_hook`` handle what msgspec cannot (a pydantic model in ``parsed``).
    """
    ref = _ref(cls, get_args(source))
    building: set[str] = _building.__dict__.setdefault("refs", set())
    if ref in building:  # a type that contains itself: point back at the definition being built
        return core_schema.definition_reference_schema(ref)
    building.add(ref)
    try:
        shape = _shape(cls, source, handler)
    finally:
        building.discard(ref)
    # The shape is the validator's JSON-schema input (where pydantic also finds the nested definitions),
    # and `json_schema_of` shows it in both modes. Not the serializer's ``return_schema``: pydantic would
    # then re-serialize the builtins the serializer returns, nested types again and again.
    return core_schema.no_info_plain_validator_function(
        _validator(cls, source, dec_hook),
        ref=ref,
        json_schema_input_schema=shape,
        serialization=core_schema.plain_serializer_function_ser_schema(
            _serializer(enc_hook), info_arg=True, when_used="always"
        ),
    )


def json_schema_of(schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
    """The JSON schema of a type `core_schema_of` described: its fields', in the mode asked for."""
    shape = schema.get("json_schema_input_schema")
    if shape is None:
        raise TypeError(f"not a schema telnyx_ai made: {schema.get('type')}")
    return handler(shape)


def _shape(cls: type[Any], source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    """The fields as a typed dict, for the JSON schema only: msgspec, not this, checks values."""
    fields: dict[str, core_schema.TypedDictField] = {}
    for field in msgspec.structs.fields(source):  # generic parameters already substituted
        schema = handler.generate_schema(field.type)
        if field.default is not msgspec.NODEFAULT:
            schema = core_schema.with_default_schema(schema, default=field.default)
        elif field.default_factory is not msgspec.NODEFAULT:
            schema = core_schema.with_default_schema(schema, default_factory=field.default_factory)
        fields[field.encode_name] = core_schema.typed_dict_field(schema, required=field.required)
    return core_schema.typed_dict_schema(fields, cls=cls, total=False)


def _validator(cls: type[Any], source: Any, dec_hook: DecHook) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        try:
            return msgspec.convert(value, source, dec_hook=dec_hook)
        except msgspec.ValidationError as exc:
            raise ValueError(f"not a valid {cls.__name__}: {exc}") from None

    return validate


def _serializer(enc_hook: EncHook) -> Callable[[Any, core_schema.SerializationInfo], Any]:
    def serialize(value: Any, info: core_schema.SerializationInfo) -> Any:
        if info.mode_is_json():
            return msgspec.to_builtins(value, enc_hook=enc_hook)
        return msgspec.to_builtins(value, enc_hook=enc_hook, builtin_types=_PYTHON_TYPES)

    return serialize
