"""A deterministic JSON value for a JSON Schema: what the emulator answers to ``guided_json`` and tool calls.

Covers what `msgspec.json.schema` writes (objects, arrays, tuples, unions, enums, constants,
``$ref``/``$defs``, string formats, numeric and length bounds) and the hand-written schemas of
typical tool definitions. ``pattern`` is not honoured: the string given is the same either way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

__all__ = ["example_for_schema"]

_MAX_DEPTH = 32
_FORMATS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00Z",
    "duration": "P1D",
    "uuid": "00000000-0000-4000-8000-000000000001",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
}


def example_for_schema(schema: Mapping[str, Any]) -> Any:
    """A value valid for ``schema``: every property present, one item per array, the first enum member."""
    return _value(schema, schema, 0)


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return cast("Mapping[str, Any]", node)


def _value(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError("The schema nests (or refers to itself) too deeply for the emulator.")
    if "$ref" in schema:
        return _value(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = cast("list[Mapping[str, Any]]", schema.get(key) or [])
        if options:
            chosen = next((o for o in options if o.get("type") != "null"), options[0])
            return _value(chosen, root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in cast("list[Mapping[str, Any]]", schema["allOf"]):
            part = _resolve(part["$ref"], root) if "$ref" in part else part
            merged = {**merged, **part, "properties": {**merged.get("properties", {}), **part.get("properties", {})}}
        return _value(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = cast("list[str]", kind)
        kind = next((k for k in kinds if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        properties = cast("Mapping[str, Mapping[str, Any]]", schema.get("properties") or {})
        return {name: _value(sub, root, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        return _array(schema, root, depth)
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    return None


def _array(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> list[Any]:
    prefix = cast("list[Mapping[str, Any]]", schema.get("prefixItems") or [])
    if prefix:
        return [_value(item, root, depth + 1) for item in prefix]
    count = max(int(schema.get("minItems", 1)), 1)
    if "maxItems" in schema:
        count = min(count, int(schema["maxItems"]))
    items = cast("Mapping[str, Any]", schema.get("items") or {})
    return [_value(items, root, depth + 1) for _ in range(count)]


def _string(schema: Mapping[str, Any]) -> str:
    text = _FORMATS.get(str(schema.get("format")), "text")
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    text = text.ljust(low, "x")
    return text if high is None else text[: int(high)]


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    step = 1 if integer else 0.5
    low = schema.get("minimum", -math.inf)
    if "exclusiveMinimum" in schema:
        low = max(low, schema["exclusiveMinimum"] + step)
    high = schema.get("maximum", math.inf)
    if "exclusiveMaximum" in schema:
        high = min(high, schema["exclusiveMaximum"] - step)
    value: float = min(max(1, low), high)
    multiple = schema.get("multipleOf")
    if multiple:
        value = math.ceil(value / multiple) * multiple
    return math.ceil(value) if integer else float(value)
