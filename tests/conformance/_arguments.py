"""Valid arguments for every operation, derived from the spec's schemas (required fields only)."""

from __future__ import annotations

import csv
import inspect
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._prism import ENDPOINTS, SPEC

UUID = "123e4567-e89b-12d3-a456-426614174000"
# Python keywords the SDK spells with a trailing underscore.
KEYWORD_NAMES = {"from": "from_"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    sdk_call: str
    required: tuple[str, ...]
    paginated: bool

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC.read_text())
    return loaded


def operations() -> list[Operation]:
    with ENDPOINTS.open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        Operation(
            r["method"],
            r["path"],
            r["sdk_call"],
            tuple(p for p in r["required_params"].split(",") if p),
            r["paginated"] == "yes",
        )
        for r in rows
    ]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec()["components"]["schemas"][name]
    return schema


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and high is not None:
        value: float = (low + high) / 2
    elif low is not None:
        value = low + 1 if "exclusiveMinimum" in schema else low
    elif high is not None:
        value = high - 1 if "exclusiveMaximum" in schema else high
    else:
        value = 1
    return int(value) if integer else value


def _string(schema: dict[str, Any]) -> str:
    formats = {
        "uuid": UUID,
        "date-time": "2026-01-01T00:00:00Z",
        "date": "2026-01-01",
        "email": "user@example.com",
        "uri": "https://example.com/x",
        "url": "https://example.com/x",
    }
    text = formats.get(schema.get("format", ""), "example")
    return text.ljust(schema.get("minLength", 0), "x")


def value_for(raw_schema: dict[str, Any], depth: int = 0) -> Any:
    """The simplest value valid for ``raw_schema``: enums take their first member, objects only required fields."""
    schema = resolve(raw_schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [o for o in schema[key] if resolve(o).get("type") != "null"]
            return value_for(options[0], depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = value_for(part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
            else:
                return value
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return _number(schema, integer=True)
    if kind == "number":
        return _number(schema, integer=False)
    if kind == "boolean":
        return True
    if kind == "array":
        count = max(schema.get("minItems", 1), 1)
        return [value_for(schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: value_for(props.get(name, {}), depth + 1) for name in schema.get("required", [])}
    return "example"


def _operation_spec(op: Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    item = spec()["paths"][op.path]
    return item, item[op.method.lower()]


def wire_arguments(op: Operation) -> dict[str, Any]:
    """Required arguments by wire name: path parameters, required query parameters, required body fields."""
    item, operation = _operation_spec(op)
    values: dict[str, Any] = {}
    for param in [*item.get("parameters", []), *operation.get("parameters", [])]:
        if param["in"] == "path" or param.get("required"):
            values[param["name"]] = value_for(param.get("schema", {}))
    body = operation.get("requestBody")
    if body:
        content = body["content"]
        media = "application/json" if "application/json" in content else next(iter(content))
        schema = resolve(content[media].get("schema", {}))
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            values[name] = value_for(props.get(name, {}))
        if media == "multipart/form-data" and "file" in props:
            values["file"] = b"RIFF....WAVEfmt fake audio bytes"
    return values


def call_arguments(op: Operation, method: Any) -> tuple[list[Any], dict[str, Any]]:
    """Arguments for the SDK ``method``: positional-only parameters by position, the rest by keyword."""
    wire = wire_arguments(op)
    named = {KEYWORD_NAMES.get(k, k): v for k, v in wire.items()}
    signature = inspect.signature(method)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if name not in named:
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(named.pop(name))
        else:
            kwargs[name] = named.pop(name)
    assert not named, f"{op.sdk_call} has no parameter for {sorted(named)}"
    return args, kwargs


def resolve_call(client: Any, sdk_call: str) -> Any:
    target = client
    for part in sdk_call.split(".")[1:]:
        target = getattr(target, part)
    return target
