"""The inputs of scripts/generate_api.py, read from ``scripts/openapi/`` into typed records.

``telnyx-ai.json`` is the vendored spec, ``endpoints.tsv`` the operations and their call paths (a
contract), and three TOML files say what the spec cannot: the resource tree (``resources.toml``),
where types go and what they are called (``types.toml``), and each operation's docstring, alias and
response switch (``operations.toml``). Everything is checked against ``endpoints.tsv`` on the way in.
"""

from __future__ import annotations

import ast
import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "scripts" / "openapi"
PACKAGE = ROOT / "telnyx_ai"


@dataclass(frozen=True)
class Node:
    """One node of the ``client.`` tree: the class that holds its methods and sub-resources."""

    module: str  # under telnyx_ai/resources/, "/" separated, no ".py"
    cls: str
    doc: str
    base: tuple[str, str]  # (module under telnyx_ai, "/" separated; class)
    part_of: str | None = None  # a part: some of that node's methods, in a base class of its own module
    calls: tuple[str, ...] = ()  # a part's methods


@dataclass(frozen=True)
class BinarySwitch:
    """A JSON-or-binary response chosen by a body field (overloads on the field's value)."""

    field: str
    json_value: str  # the value that asks for JSON
    accept: str  # Accept header when binary is asked for
    default_accept: str  # Accept header when the field is left out


@dataclass(frozen=True)
class StreamSwitch:
    """A plain-or-streamed response chosen by a boolean body field (overloads on the flag)."""

    field: str
    chunk: str  # the type of each streamed event
    protocol: str  # the wire protocol: the module of telnyx_ai/_streams/ whose PROTOCOL reads the events
    response: str | None = None  # the type of the plain response (None: the spec's JSON response)


@dataclass(frozen=True)
class ValueSwitch:
    """A second response type chosen by one value of a body field (overloads on the field's value)."""

    field: str
    value: str  # the value that asks for the other response
    response: str  # the type of that response (the spec's own type answers every other value)
    unset: str | None = None  # a hand-written base-class method answering when the field is not given


@dataclass(frozen=True)
class Endpoint:
    """One row of endpoints.tsv joined with its entry in operations.toml."""

    method: str
    path: str
    sdk_call: str
    paginated: bool
    streaming: bool
    doc: str
    aliases: tuple[str, ...]  # other method names on the same node (endpoints.tsv's aliases, operations.toml's)
    response_name: str | None
    types_module: str | None
    param_types: dict[str, str]
    extra_fields: dict[str, str]  # body fields beyond the spec's (a body open to more): wire name -> annotation
    binary: BinarySwitch | None
    stream: StreamSwitch | None
    value: ValueSwitch | None


@dataclass(frozen=True)
class TypePlan:
    """Where generated types go and what they are called (types.toml)."""

    handwritten: dict[str, list[str]]  # hand-written types module -> the names of its ``__all__``
    handwritten_typeddicts: set[str]  # the TypedDicts among them (and aliases of unions of them)
    docs: dict[str, str]
    struct_modules: dict[str, str]  # component schema -> module of its response Struct
    typeddict_modules: dict[str, str]  # component schema -> module of its request TypedDict
    names: dict[str, str]
    field_types: dict[tuple[str, str], str]  # (Struct, field) -> annotation


@dataclass(frozen=True)
class Inputs:
    spec: dict[str, Any]
    nodes: dict[str, Node]
    types_modules: dict[str, str]  # resource module -> its types module
    endpoints: list[Endpoint]
    types: TypePlan


def _toml(name: str) -> dict[str, Any]:
    with (OPENAPI / name).open("rb") as f:
        return tomllib.load(f)


def _handwritten_tree(types_module: str) -> ast.Module:
    return ast.parse((PACKAGE / "types" / f"{types_module}.py").read_text(encoding="utf-8"))


def typeddict_names(types_module: str) -> set[str]:
    """The ``TypedDict`` classes of a hand-written types module, and its aliases of unions of them
    (such as ``ChatMessageParam``, one TypedDict per role), read without importing it."""
    body = _handwritten_tree(types_module).body
    names = {
        stmt.name
        for stmt in body
        if isinstance(stmt, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "TypedDict" for b in stmt.bases)
    }
    for stmt in body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            members = _union_members(stmt.value)
            if members and all(isinstance(m, ast.Name) and m.id in names for m in members):
                names.add(stmt.target.id)
    return names


def _union_members(node: ast.expr) -> list[ast.expr]:
    """``A | B | C`` as ``[A, B, C]``; anything else as no members."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*(_union_members(node.left) or [node.left]), *(_union_members(node.right) or [node.right])]
    return []


def exported_names(types_module: str) -> list[str]:
    """The ``__all__`` of a hand-written ``telnyx_ai.types`` module, read without importing it."""
    tree = _handwritten_tree(types_module)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets):
            return list(ast.literal_eval(stmt.value))
    raise SystemExit(f"telnyx_ai/types/{types_module}.py has no __all__")


def _nodes(data: dict[str, Any]) -> dict[str, Node]:
    default_base = ("_resource", "AsyncResource")
    nodes = {
        key: Node(node["module"], node["class"], node.get("doc", ""), tuple(node.get("base", default_base)))
        for key, node in data["nodes"].items()
    }
    for owner, part in data.get("parts", {}).items():
        # The part derives from the node's base, and the node from the part.
        base = nodes[owner].base
        key = f"{owner}#{part['module'].rsplit('/', 1)[-1]}"
        nodes[key] = Node(part["module"], part["class"], part["doc"], base, owner, tuple(part["calls"]))
        nodes[owner] = Node(
            nodes[owner].module, nodes[owner].cls, nodes[owner].doc, ("resources/" + part["module"], part["class"])
        )
    return nodes


def is_part(key: str) -> bool:
    """Whether a key of `Inputs.nodes` is a part (``ai.assistants#_settings``), not a node of the tree."""
    return "#" in key


def _types(data: dict[str, Any]) -> TypePlan:
    struct_modules: dict[str, str] = {}
    typeddict_modules: dict[str, str] = {}
    for placement in data["placements"]:
        for schema in placement["schemas"]:
            if "structs" in placement:
                struct_modules[schema] = placement["structs"]
            if "typeddicts" in placement:
                typeddict_modules[schema] = placement["typeddicts"]
    field_types = {(cls, prop): ann for cls, fields in data["field_types"].items() for prop, ann in fields.items()}
    return TypePlan(
        handwritten={module: exported_names(module) for module in data["handwritten"]},
        handwritten_typeddicts={name for module in data["handwritten"] for name in typeddict_names(module)},
        docs=data["docs"],
        struct_modules=struct_modules,
        typeddict_modules=typeddict_modules,
        names=data["names"],
        field_types=field_types,
    )


def _aliases(row: dict[str, str], entry: dict[str, Any]) -> tuple[str, ...]:
    """The other names of a row's method: endpoints.tsv's ``aliases`` (call paths), then operations.toml's."""
    node = row["sdk_call"].rsplit(".", 1)[0]
    names: list[str] = []
    for call in filter(None, (row.get("aliases") or "").split(",")):
        alias_node, name = call.strip().rsplit(".", 1)
        if alias_node != node:
            raise SystemExit(
                f"{row['sdk_call']}: alias {call} is on another node; only same-node aliases are supported"
            )
        names.append(name)
    extra = entry.get("alias", [])
    names += [extra] if isinstance(extra, str) else extra
    return tuple(dict.fromkeys(names))


def _endpoints(data: dict[str, Any]) -> list[Endpoint]:
    with (OPENAPI / "endpoints.tsv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    operations: dict[str, dict[str, str]] = data["operations"]
    calls = [row["sdk_call"] for row in rows]
    if list(operations) != calls:
        missing, extra = sorted(set(calls) - set(operations)), sorted(set(operations) - set(calls))
        raise SystemExit(f"operations.toml must list endpoints.tsv's rows in order; missing {missing}, extra {extra}")
    binary = {call: BinarySwitch(**entry) for call, entry in data.get("binary_switch", {}).items()}
    stream = {call: StreamSwitch(**entry) for call, entry in data.get("streaming", {}).items()}
    for call, switch in stream.items():
        if not (ROOT / "telnyx_ai" / "_streams" / f"{switch.protocol}.py").is_file():
            raise SystemExit(f"[streaming.{call!r}] names protocol {switch.protocol!r}: no telnyx_ai/_streams/ module")
    value = {call: ValueSwitch(**entry) for call, entry in data.get("value_switch", {}).items()}
    streamed = {row["sdk_call"] for row in rows if row["streaming"] == "yes"}
    if streamed != set(stream):
        raise SystemExit(f"[streaming] of operations.toml must match the streaming column: {sorted(streamed)}")
    return [
        Endpoint(
            method=row["method"],
            path=row["path"],
            sdk_call=row["sdk_call"],
            paginated=operations[row["sdk_call"]].get("paginated", row["paginated"] == "yes"),
            streaming=row["streaming"] == "yes",
            doc=operations[row["sdk_call"]]["doc"],
            aliases=_aliases(row, operations[row["sdk_call"]]),
            response_name=operations[row["sdk_call"]].get("response_name"),
            types_module=operations[row["sdk_call"]].get("types_module"),
            param_types=data.get("param_types", {}).get(row["sdk_call"], {}),
            extra_fields=data.get("extra_fields", {}).get(row["sdk_call"], {}),
            binary=binary.get(row["sdk_call"]),
            stream=stream.get(row["sdk_call"]),
            value=value.get(row["sdk_call"]),
        )
        for row in rows
    ]


def load() -> Inputs:
    resources = _toml("resources.toml")
    return Inputs(
        spec=msgspec.json.decode((OPENAPI / "telnyx-ai.json").read_bytes()),
        nodes=_nodes(resources),
        types_modules=resources["types_modules"],
        endpoints=_endpoints(_toml("operations.toml")),
        types=_types(_toml("types.toml")),
    )
