"""Spec to operation model: what each row of endpoints.tsv takes, sends and returns.

The first of scripts/generate_api.py's two steps (the second, model to code, is
``_codegen_render.py``). Building an `Operation` also defines, in the `TypeBuilder`, every type its
arguments and response need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from _codegen_checks import CHECKED_WHERE, check_kind
from _codegen_data import BinarySwitch, Endpoint, Inputs, StreamSwitch, ValueSwitch
from _codegen_types import TypeBuilder, pascal, py_name

# Names the generated methods use themselves: no argument may take them.
RESERVED = {"self", "options", "extra_headers", "extra_query", "extra_body", "timeout", "page_number", "page_size"}
# The one header parameter the spec declares: sent by the transport (`telnyx_ai._http.request`), not as a field.
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Arg:
    wire: str
    name: str
    ann: str
    required: bool
    where: str  # "path" | "query" | "header" | "body" | "raw" | "form" | "file"
    choices: tuple[str, ...] = ()  # the values of an enum
    check: str | None = None  # its group of telnyx_ai._checks.check_arguments (None: not checked)


@dataclass
class Operation:
    method: str
    path: str
    call: str  # sdk_call without "client."
    doc: str
    paginated: bool
    aliases: tuple[str, ...] = ()  # other names of the method on its node
    args: list[Arg] = field(default_factory=list[Arg])
    returns: str = "None"
    cast_to: str = "None"
    item: str | None = None  # paginated: the item type
    bare_array: bool = False
    explicit_page: bool = False  # page[number]/page[size] are declared as two parameters
    body: str | None = None  # "json" | "multipart" | "raw" (a whole JSON value) | None
    binary: BinarySwitch | None = None
    stream: StreamSwitch | None = None
    value: ValueSwitch | None = None
    json_type: str | None = None  # with a switch: the type of the JSON (not binary, not streamed) response
    accept: str | None = None  # a reply that is not JSON: its media type (text comes back as str, the rest as bytes)

    @property
    def node(self) -> str:
        return self.call.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        return self.call.rsplit(".", 1)[1]

    @property
    def idempotent(self) -> bool:
        """Whether the caller may pass ``idempotency_key=`` (the spec declares the header)."""
        return any(a.where == "header" for a in self.args)

    def arg(self, name: str) -> Arg:
        return next(a for a in self.args if a.name == name)

    def ordered_args(self) -> tuple[list[Arg], list[Arg]]:
        """(positional, keyword-only): the last path parameter is positional, like the official SDK."""
        path_args = [a for a in self.args if a.where == "path"]
        rest = sorted((a for a in self.args if a.where != "path"), key=lambda a: (not a.required, a.name))
        return path_args[-1:], path_args[:-1] + rest


def _choices(types: TypeBuilder, schema: dict[str, Any]) -> tuple[str, ...]:
    target, _ = types.deref(schema)
    return tuple(v for v in target.get("enum", []) if isinstance(v, str))


def _check(inputs: Inputs, types: TypeBuilder, where: str, ann: str, schema: dict[str, Any]) -> str | None:
    if where not in CHECKED_WHERE:
        return None
    mappings = {name for name, tdef in types.defs.items() if tdef.kind in ("typeddict", "alias")}
    return check_kind(ann, types.deref(schema)[0], mappings | inputs.types.handwritten_typeddicts)


def build_operation(inputs: Inputs, endpoint: Endpoint, types: TypeBuilder) -> Operation:
    item = inputs.spec["paths"][endpoint.path]
    raw = item[endpoint.method.lower()]
    call = endpoint.sdk_call.removeprefix("client.")
    op = Operation(endpoint.method, endpoint.path, call, endpoint.doc, endpoint.paginated, endpoint.aliases)
    node = inputs.nodes[op.node]
    tmod = endpoint.types_module or inputs.types_modules[node.module]
    ctx = pascal(node.cls.removeprefix("Async")) + pascal(op.name)

    for prm in [*item.get("parameters", []), *raw.get("parameters", [])]:
        where, wire = prm["in"], prm["name"]
        if where == "query" and prm.get("style") == "deepObject" and wire == "page":
            continue  # page_number / page_size, handled by paginate()
        if where == "query" and wire in ("page[number]", "page[size]"):
            op.explicit_page = True
            continue
        if where == "header":
            if wire.lower() != IDEMPOTENCY_HEADER.lower():
                raise SystemExit(f"{endpoint.sdk_call}: no way to send header parameter {wire!r}; teach _codegen_model")
            op.args.append(Arg(wire, "idempotency_key", "str", False, "header", check="strings"))
            continue
        ann = types.param(prm.get("schema", {}), ctx + pascal(wire), tmod)
        check = _check(inputs, types, where, ann, prm.get("schema", {}))
        op.args.append(Arg(wire, py_name(wire), ann, where == "path" or bool(prm.get("required")), where, check=check))

    body = raw.get("requestBody")
    if body:
        (ctype, media), *_ = body["content"].items()
        props, required = types.object_props(media["schema"])
        op.body = "multipart" if ctype == "multipart/form-data" else "json"
        if not props and types.deref(media["schema"])[0].get("type") != "object":
            # A whole JSON value, not named fields: one ``body`` argument, as in the official SDK.
            op.body = "raw"
            ann = types.param(media["schema"], ctx + "Body", tmod)
            op.args.append(Arg("body", "body", ann, bool(body.get("required")), "raw"))
        for prop, sub in props.items():
            target, _ = types.deref(sub)
            is_file = op.body == "multipart" and target.get("format") == "binary"
            if prop in endpoint.param_types:
                ann = endpoint.param_types[prop]
            else:
                ann = "FileInput" if is_file else types.param(sub, ctx + pascal(prop), tmod)
            where = "file" if is_file else ("form" if op.body == "multipart" else "body")
            check = _check(inputs, types, where, ann, sub)
            name = py_name(prop)
            if name in RESERVED:  # a body field named like a per-call option: ``timeout`` -> ``api_timeout``
                name = "api_" + name
            op.args.append(Arg(prop, name, ann, prop in required, where, _choices(types, sub), check))
        for prop, ann in endpoint.extra_fields.items():
            if prop in props or types.deref(media["schema"])[0].get("additionalProperties", True) is False:
                raise SystemExit(f"{endpoint.sdk_call}: extra field {prop!r} is in the spec, or its body takes no more")
            op.args.append(Arg(prop, py_name(prop), ann, False, "body", check=_check(inputs, types, "body", ann, {})))

    _response(op, endpoint, raw, types, ctx, tmod)
    for returned in (op.json_type, op.cast_to):
        types.mark_response(returned)
    names = [a.name for a in op.args]
    if len(set(names)) != len(names) or RESERVED & set(names):
        raise SystemExit(f"{endpoint.sdk_call}: argument names collide: {names}")
    return op


def _response(op: Operation, endpoint: Endpoint, raw: dict[str, Any], types: TypeBuilder, ctx: str, tmod: str) -> None:
    ok = next(code for code in raw["responses"] if code.startswith("2"))
    content = raw["responses"][ok].get("content") or {}
    if endpoint.stream is not None:
        op.stream = endpoint.stream
        op.json_type = endpoint.stream.response or types.resp(
            content["application/json"]["schema"], ctx + "Response", tmod
        )
        op.returns = f"{op.json_type} | AsyncStream[{endpoint.stream.chunk}]"
    elif endpoint.binary is not None:
        op.binary = endpoint.binary
        op.json_type = types.resp(content["application/json"]["schema"], ctx + "Response", tmod)
        op.returns = f"{op.json_type} | bytes"
    elif endpoint.value is not None:
        op.value = endpoint.value
        op.json_type = types.resp(content["application/json"]["schema"], ctx + "Response", tmod)
        op.returns = f"{op.json_type} | {endpoint.value.response}"
    elif "application/json" in content:
        schema = content["application/json"]["schema"]
        if not schema:
            op.returns = op.cast_to = "object"  # the spec allows any JSON value
        else:
            op.returns = types.resp(schema, endpoint.response_name or ctx + "Response", tmod)
            op.cast_to = op.returns
    elif content:  # one media type that is not JSON: plain text, or binary (an image, audio)
        op.accept = next(iter(content))
        op.returns = "str" if op.accept.startswith("text/") else "bytes"
        op.cast_to = "bytes"
    if op.paginated:
        page_schema, _ = types.deref(content["application/json"]["schema"])
        if types.base_type(page_schema) == "array":
            op.bare_array = True
            op.item = types.resp(page_schema["items"], ctx + "Item", tmod)
        else:
            props, _ = types.object_props(page_schema)
            op.item = types.resp(props["data"]["items"], ctx + "Item", tmod)
        op.returns = f"AsyncPaginator[{op.item}]"


def build_operations(inputs: Inputs, types: TypeBuilder) -> list[Operation]:
    return [build_operation(inputs, endpoint, types) for endpoint in inputs.endpoints]
