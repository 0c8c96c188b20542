"""Spec schemas to Python types: msgspec Structs for responses, TypedDicts for parameters.

`TypeBuilder` turns a schema into an annotation, defining the named types it needs on the way
(`TypeDef`); where each goes and what it is called comes from ``types.toml`` (`TypePlan`).
Every `TypeDef` records the names its code uses, so the module that holds it can import them.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from _codegen_data import TypePlan

# -- naming --------------------------------------------------------------------------------

_SHADOWING = {"str", "int", "float", "bool", "list", "dict", "Any", "None", "to_dict", "to_json", "keys"}


def py_name(wire: str) -> str:
    """A Python identifier for a wire name: ``from`` -> ``from_``, ``filter[name]`` -> ``filter_name``."""
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", wire).strip("_")
    name = re.sub(r"_+", "_", name)
    if keyword.iskeyword(name) or name in _SHADOWING:
        name += "_"
    return name


def pascal(text: str) -> str:
    parts = re.split(r"[^0-9a-zA-Z]+|_", text)
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def annotation_names(ann: str) -> set[str]:
    """The names an annotation refers to (``list[Foo] | None`` -> list, Foo); strings inside do not count."""
    return {node.id for node in ast.walk(ast.parse(ann, mode="eval")) if isinstance(node, ast.Name)}


def _or_none(ann: str) -> str:
    return ann if ann.endswith("| None") or ann == "Any" else ann + " | None"


def literal(values: list[Any]) -> str:
    items = [repr(v) for v in values if v is not None]
    text = f"Literal[{', '.join(items)}]"
    return f"{text} | None" if None in values else text


# -- the builder ------------------------------------------------------------------------------


@dataclass
class TypeDef:
    name: str
    module: str
    kind: str  # "struct" | "typeddict"
    lines: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # every name its code uses (for the imports)

    def uses(self, ann: str) -> str:
        """Note the names of ``ann``, which goes into this type's code; returns ``ann``."""
        self.names |= annotation_names(ann)
        return ann


class TypeBuilder:
    """Schemas to annotations, generating the named Structs and TypedDicts they need on the way."""

    def __init__(self, spec: dict[str, Any], plan: TypePlan) -> None:
        self.plan = plan
        self.schemas: dict[str, Any] = spec["components"]["schemas"]
        self.defs: dict[str, TypeDef] = {}
        self.order: list[str] = []
        self._by_schema: dict[tuple[str, str], str] = {}  # (schema name, kind) -> type name
        # a named oneOf/anyOf schema, by its variants: an inline copy of the union reuses its name
        self._unions: dict[tuple[str, ...], str] = {}
        for name, schema in self.schemas.items():
            variants = schema.get("oneOf") or schema.get("anyOf") or []
            refs = tuple(v.get("$ref", "") for v in variants)
            if refs and all(refs):
                self._unions.setdefault(refs, name)

    def schema_name(self, ref_name: str) -> str:
        return self.plan.names.get(ref_name) or pascal(ref_name)

    def define(self, tdef: TypeDef) -> None:
        """Reserve ``tdef``'s name; it joins `order` once its code is written (after the types it uses)."""
        if tdef.module in self.plan.handwritten:
            raise SystemExit(f"{tdef.name} would go to the hand-written telnyx_ai/types/{tdef.module}.py")
        self.defs[tdef.name] = tdef

    def deps(self, name: str) -> set[str]:
        """The generated types that the code of type ``name`` uses."""
        return {n for n in self.defs[name].names if n in self.defs and n != name}

    # schema plumbing
    def deref(self, schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        name = None
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.schemas[name]
        if "allOf" in schema and len(schema["allOf"]) == 1 and "properties" not in schema:
            inner, inner_name = self.deref(schema["allOf"][0])
            return inner, inner_name or name
        return schema, name

    def object_props(self, schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        schema, _ = self.deref(schema)
        props: dict[str, Any] = {}
        required: list[str] = []
        for part in schema.get("allOf", []):
            sub_props, sub_required = self.object_props(part)
            props.update(sub_props)
            required += [r for r in sub_required if r not in required]
        props.update(schema.get("properties", {}))
        required += [r for r in schema.get("required", []) if r not in required]
        return props, required

    @staticmethod
    def is_struct_like(schema: dict[str, Any]) -> bool:
        return "properties" in schema or ("allOf" in schema and len(schema["allOf"]) > 1)

    @staticmethod
    def nullable(schema: dict[str, Any]) -> bool:
        t = schema.get("type")
        return isinstance(t, list) and "null" in t

    @staticmethod
    def base_type(schema: dict[str, Any]) -> str | None:
        t = schema.get("type")
        if isinstance(t, list):
            t = next((x for x in t if x != "null"), None)
        return t

    # responses: msgspec Structs
    def resp(self, schema: dict[str, Any], ctx: str, module: str) -> str:
        """The response annotation of ``schema``; ``ctx`` names an inline object, ``module`` hosts it."""
        target, ref = self.deref(schema)
        if ref is not None:
            ctx = self.schema_name(ref)
            module = self.plan.struct_modules.get(ref, module)
        ann = self._resp(target, ctx, module, ref)
        if self.nullable(target) and not ann.endswith("| None"):
            ann += " | None"
        return ann

    @staticmethod
    def without_null(variants: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
        """The variants of a union other than ``{"type": "null"}``, and whether there was one."""
        rest = [v for v in variants if v.get("type") != "null"]
        return rest, len(rest) != len(variants)

    def _resp(self, s: dict[str, Any], ctx: str, module: str, ref: str | None) -> str:
        variants, null = self.without_null(s.get("oneOf") or s.get("anyOf") or [])
        if null:
            if len(variants) == 1 and "properties" not in s:
                return _or_none(self.resp(variants[0], ctx, module))
            return _or_none(self._resp({**s, "anyOf": variants, "oneOf": None}, ctx, module, ref))
        if variants:
            resolved = [self.deref(v)[0] for v in variants]
            if any(self.is_struct_like(v) for v in resolved):
                # Untagged union of objects: one struct with the fields of every variant.
                named = self._unions.get(tuple(v.get("$ref", "") for v in variants))
                if named is not None and ref is None:
                    ref, ctx = named, self.schema_name(named)
                    module = self.plan.struct_modules.get(named, module)
                return self.struct(ctx, module, variants, ref=ref)
            return " | ".join(dict.fromkeys(self.resp(v, ctx, module) for v in variants))
        if self.is_struct_like(s):
            return self.struct(ctx, module, [s], ref=ref)
        t = self.base_type(s)
        if t == "array":
            item_ctx = self.plan.names.get(ctx + "Item", ctx + "Item")
            return f"list[{self.resp(s.get('items', {}), item_ctx, module)}]"
        if t == "object" or (t is None and "additionalProperties" in s):
            extra = s.get("additionalProperties", True)
            if isinstance(extra, dict) and extra:
                return f"dict[str, {self.resp(extra, ctx + 'Value', module)}]"
            return "dict[str, Any]"
        return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(t or "", "Any")

    def struct(self, name: str, module: str, variants: list[dict[str, Any]], *, ref: str | None) -> str:
        name = self.plan.names.get(name, name)
        key = (ref or name, "struct")
        if key in self._by_schema:
            return self._by_schema[key]
        self._by_schema[key] = name
        if name in self.defs:
            raise SystemExit(f"two different types would be called {name}")
        tdef = TypeDef(name, module, "struct", names={"BaseModel"})
        self.define(tdef)
        # merge the variants' fields: required only when every variant requires it
        merged: dict[str, list[dict[str, Any]]] = {}
        required_all: set[str] | None = None
        for variant in variants:
            props, required = self.object_props(variant)
            for prop, sub in props.items():
                merged.setdefault(prop, []).append(sub)
            required_all = set(required) if required_all is None else required_all & set(required)
        required_all = required_all or set()
        fields_req: list[str] = []
        fields_opt: list[str] = []
        for prop, subs in merged.items():
            prop_ctx = name + pascal(prop)
            anns = list(dict.fromkeys(self.resp(sub, prop_ctx, module) for sub in subs))
            ann = anns[0] if len(anns) == 1 else "Any"
            ann = self.plan.field_types.get((name, prop), ann)
            attr = py_name(prop)
            tdef.uses(ann)
            if attr != prop:
                tdef.names.add("msgspec")
            if prop in required_all:
                value = f' = msgspec.field(name="{prop}")' if attr != prop else ""
                fields_req.append(f"    {attr}: {ann}{value}")
            elif ann.startswith(("list[", "dict[")) and not ann.endswith("| None"):
                # A collection the server may leave out: empty, not None, so typed code needs no None check.
                empty = "[]" if ann.startswith("list[") else "{}"
                kind = "list" if empty == "[]" else "dict"
                value = f'msgspec.field(default_factory={kind}, name="{prop}")' if attr != prop else empty
                fields_opt.append(f"    {attr}: {ann} = {value}")
            else:
                if not ann.endswith("| None") and ann != "Any":
                    ann += " | None"
                value = f'msgspec.field(default=None, name="{prop}")' if attr != prop else "None"
                fields_opt.append(f"    {attr}: {ann} = {value}")
        tdef.lines = [f"class {name}(BaseModel):", *(fields_req + fields_opt or ["    pass"])]
        self.order.append(name)
        return name

    def mark_response(self, ann: str | None) -> None:
        """A struct an operation returns whole derives from `APIResponse`, which carries the request id."""
        tdef = self.defs.get(ann or "")
        if tdef is not None and tdef.kind == "struct" and tdef.lines[0].endswith("(BaseModel):"):
            tdef.lines[0] = tdef.lines[0].replace("(BaseModel):", "(APIResponse):")
            tdef.names = (tdef.names - {"BaseModel"}) | {"APIResponse"}

    # parameters: TypedDicts
    def param(self, schema: dict[str, Any], ctx: str, module: str) -> str:
        """The request annotation of ``schema`` (an argument or a TypedDict key)."""
        target, ref = self.deref(schema)
        if ref is not None:
            ctx = self.schema_name(ref)
            module = self.plan.typeddict_modules.get(ref, module)
        ann = self._param(target, ctx, module, ref)
        if self.nullable(target) and not ann.endswith("| None"):
            ann += " | None"
        return ann

    def _param(self, s: dict[str, Any], ctx: str, module: str, ref: str | None) -> str:
        variants, null = self.without_null(s.get("oneOf") or s.get("anyOf") or [])
        if null:
            if len(variants) == 1 and "properties" not in s:
                return _or_none(self.param(variants[0], ctx, module))
            return _or_none(self._param({**s, "anyOf": variants, "oneOf": None}, ctx, module, ref))
        if variants:
            anns: list[str] = []
            for i, variant in enumerate(variants):
                resolved, vref = self.deref(variant)
                sub_ctx = ctx
                if vref is None and self.is_struct_like(resolved):
                    tag = resolved.get("properties", {}).get("type", {}).get("enum", [str(i)])
                    sub_ctx = ctx + pascal(str(tag[0]))
                anns.append(self.param(variant, sub_ctx, module))
            union = " | ".join(dict.fromkeys(anns))
            if len(anns) > 2 and all(a in self.defs for a in anns):
                return self.alias(self.plan.names.get(ctx, ctx) + "Param", module, union, anns)
            return union
        if "enum" in s:
            return literal(s["enum"])
        if self.is_struct_like(s):
            return self.typeddict(ctx, module, s, ref=ref)
        t = self.base_type(s)
        if t == "array":
            item_ctx = self.plan.names.get(ctx + "Item", ctx + "Item")
            return f"Sequence[{self.param(s.get('items', {}), item_ctx, module)}]"
        if t == "object" or (t is None and "additionalProperties" in s):
            extra = s.get("additionalProperties", True)
            if isinstance(extra, dict) and extra:
                return f"Mapping[str, {self.param(extra, ctx + 'Value', module)}]"
            return "dict[str, Any]"
        return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(t or "", "Any")

    def alias(self, name: str, module: str, union: str, members: list[str]) -> str:
        """A named union of TypedDicts (a long union reads better under one name)."""
        if name not in self.defs:
            tdef = TypeDef(name, module, "alias", [f"{name}: TypeAlias = {union}"], {"TypeAlias"})
            self.define(tdef)
            tdef.uses(union)
            self.order.append(name)
        return name

    def typeddict(self, ctx: str, module: str, schema: dict[str, Any], *, ref: str | None) -> str:
        base = self.plan.names.get(ctx, ctx)
        # "AwsProviderParams" -> "AwsProviderConfigParam", not "AwsProviderParamsParam"
        if base.endswith("Params"):
            name = base.removesuffix("Params") + "ConfigParam"
        else:  # schemas written from the official SDK's types already end in "Param"
            name = base if base.endswith("Param") else base + "Param"
        key = (ref or name, "typeddict")
        if key in self._by_schema:
            return self._by_schema[key]
        self._by_schema[key] = name
        if name in self.defs:
            # a second inline schema with the same derived name (rubric of create and update): same shape?
            return name
        tdef = TypeDef(name, module, "typeddict", names={"TypedDict"})
        self.define(tdef)
        props, required = self.object_props(schema)
        entries: list[tuple[str, str]] = []
        for prop, sub in props.items():
            ann = self.param(sub, base.removesuffix("Param") + pascal(prop), module)
            entries.append((prop, tdef.uses(f"Required[{ann}]" if prop in required else ann)))
        if all(p.isidentifier() and not keyword.iskeyword(p) for p, _ in entries):
            tdef.lines = [f"class {name}(TypedDict, total=False):", *(f"    {p}: {a}" for p, a in entries)]
            if not entries:
                tdef.lines.append("    pass")
        else:
            body = ", ".join(f'"{p}": {a}' for p, a in entries)
            tdef.lines = [f"{name} = TypedDict({name!r}, {{{body}}}, total=False)"]
        self.order.append(name)
        return name
