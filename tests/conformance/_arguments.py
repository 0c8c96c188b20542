"""Valid arguments for every operation, derived from the spec's schemas: the required ones, or all of them."""

from __future__ import annotations

import csv
import inspect
import json
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._prism import ENDPOINTS, REPO, SPEC

sys.path.insert(0, str(REPO / "scripts"))
from _codegen_model import RESERVED
from _codegen_types import py_name

UUID = "123e4567-e89b-12d3-a456-426614174000"
# Objects deeper than this get their required fields only (the spec has recursive schemas).
FULL_DEPTH = 4


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    sdk_call: str
    required: tuple[str, ...]
    paginated: bool
    aliases: tuple[str, ...] = ()

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
            tuple(a for a in r.get("aliases", "").split(",") if a),
        )
        for r in rows
    ]


def keyword(wire: str) -> str:
    """The SDK's keyword for a wire name (``from`` -> ``from_``, ``timeout`` -> ``api_timeout``)."""
    if wire.lower() == "idempotency-key":
        return "idempotency_key"
    name = py_name(wire)
    return "api_" + name if name in RESERVED else name


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
    step = schema.get("multipleOf")
    if step:
        value = round(round(value / step) * step, 10)
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


def value_for(raw_schema: dict[str, Any], depth: int = 0, *, full: bool = False) -> Any:
    """A value valid for ``raw_schema``: enums take their first member, unions their first non-null
    variant; objects get their required fields, or with ``full`` every field (down to `FULL_DEPTH`)."""
    schema = resolve(raw_schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    if full:  # a scalar the spec suggests is valid for its constraints (multipleOf, pattern...)
        for key in ("default", "example"):
            if schema.get(key) is not None and not isinstance(schema[key], dict | list):
                return schema[key]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            options = [o for o in schema[key] if resolve(o).get("type") != "null"]
            return value_for(options[0], depth + 1, full=full)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = value_for(part, depth + 1, full=full)
            if isinstance(value, dict):
                merged.update(value)
            else:
                return value
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "string":
        return b"fake file bytes" if schema.get("format") == "binary" else _string(schema)
    if kind == "integer":
        return _number(schema, integer=True)
    if kind == "number":
        return _number(schema, integer=False)
    if kind == "boolean":
        return True
    if kind == "array":
        count = max(schema.get("minItems", 1), 1)
        return [value_for(schema.get("items", {}), depth + 1, full=full) for _ in range(count)]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        names = list(props) if full and depth < FULL_DEPTH else schema.get("required", [])
        return {name: value_for(props.get(name, {}), depth + 1, full=full) for name in names}
    return "example"


def _object_fields(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """An object schema's properties and required names, through ``allOf``."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for part in schema.get("allOf", []):
        sub_props, sub_required = _object_fields(resolve(part))
        props.update(sub_props)
        required += sub_required
    props.update(schema.get("properties", {}))
    return props, required + list(schema.get("required", []))


def _operation_spec(op: Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    item = spec()["paths"][op.path]
    return item, item[op.method.lower()]


def wire_arguments(op: Operation, *, full: bool = False) -> dict[str, Any]:
    """Arguments by wire name: path parameters, then query and header parameters and body fields, the
    required ones only or (``full``) every one of them."""
    item, operation = _operation_spec(op)
    values: dict[str, Any] = {}
    for param in [*item.get("parameters", []), *operation.get("parameters", [])]:
        name = param["name"]
        if name in ("page[number]", "page[size]") or (param.get("style") == "deepObject" and name == "page"):
            continue  # page_number / page_size
        if param["in"] == "path" or param.get("required") or full:
            values[name] = value_for(param.get("schema", {}), full=full)
    body = operation.get("requestBody")
    if body:
        content = body["content"]
        media = "application/json" if "application/json" in content else next(iter(content))
        schema = resolve(content[media].get("schema", {}))
        props, required = _object_fields(schema)
        if not props and schema.get("type") != "object":
            values["body"] = value_for(schema, full=full)  # a raw JSON value (memory ingest)
        for name in list(props) if full else required:
            if full and name == "stream":
                continue  # Prism sends a placeholder, not events: streams are tested against local servers
            values[name] = value_for(props.get(name, {}), 1, full=full)
    return values


def call_arguments(op: Operation, method: Any, *, full: bool = False) -> tuple[list[Any], dict[str, Any]]:
    """Arguments for the SDK ``method``: positional-only parameters by position, the rest by keyword."""
    wire = wire_arguments(op, full=full)
    named = {keyword(k): v for k, v in wire.items()}
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
    if full and "page_size" in signature.parameters:
        kwargs.update(page_number=1, page_size=10)
    return args, kwargs


def resolve_call(client: Any, sdk_call: str) -> Any:
    target = client
    for part in sdk_call.split(".")[1:]:
        target = getattr(target, part)
    return target
