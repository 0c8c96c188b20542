"""What changed between two versions of the contract (spec + endpoints.tsv), as lines to print.

Used by ``scripts/vendor_spec.py`` before it replaces the vendored copy. Operations are matched by
method and path. For each operation present in both, it reports the call path, the flags
(deprecated, streaming, paginated), and each parameter and top-level body field added, removed, made
required or optional, or changed (its schema, with every ``$ref`` followed and prose ignored), and
whether the success reply's schema changed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Contract", "diff_lines"]

_PROSE = frozenset({"description", "summary", "title", "example", "examples", "externalDocs"})


@dataclass(frozen=True)
class Contract:
    spec: dict[str, Any]
    rows: dict[tuple[str, str], dict[str, str]]  # (method, path) -> its endpoints.tsv row

    @classmethod
    def read(cls, spec_path: Path, endpoints_path: Path) -> Contract:
        with endpoints_path.open(newline="", encoding="utf-8") as f:
            rows = {(r["method"], r["path"]): r for r in csv.DictReader(f, delimiter="\t")}
        return cls(json.loads(spec_path.read_text(encoding="utf-8")), rows)

    def expand(self, schema: Any, seen: frozenset[str] = frozenset()) -> Any:
        """``schema`` with its references followed (a cycle stops at the name) and its prose dropped."""
        if isinstance(schema, list):
            return [self.expand(item, seen) for item in schema]
        if not isinstance(schema, dict):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            return (
                {"$cycle": name}
                if name in seen
                else self.expand(self.spec["components"]["schemas"][name], seen | {name})
            )
        return {k: self.expand(v, seen) for k, v in schema.items() if k not in _PROSE and not k.startswith("x-")}

    def operation(self, key: tuple[str, str]) -> dict[str, Any]:
        method, path = key
        item = self.spec["paths"][path]
        return {
            **item[method.lower()],
            "parameters": [*item.get("parameters", []), *item[method.lower()].get("parameters", [])],
        }

    def inputs(self, key: tuple[str, str]) -> dict[str, tuple[bool, str]]:
        """Each parameter and top-level body field: ``"query page[size]"`` -> (required, schema as JSON)."""
        op = self.operation(key)
        found: dict[str, tuple[bool, str]] = {}
        for param in op["parameters"]:
            schema = json.dumps(self.expand(param.get("schema", {})), sort_keys=True)
            found[f"{param['in']} {param['name']}"] = (param["in"] == "path" or bool(param.get("required")), schema)
        for media in (op.get("requestBody") or {}).get("content", {}).values():
            body = self.expand(media.get("schema", {}))
            props, required = _fields(body)
            for name, sub in props.items():
                found[f"body {name}"] = (name in required, json.dumps(sub, sort_keys=True))
            break
        return found

    def reply(self, key: tuple[str, str]) -> str:
        responses = self.operation(key).get("responses", {})
        ok = next((code for code in responses if code.startswith("2")), None)
        content = responses.get(ok, {}).get("content", {}) if ok else {}
        return json.dumps({ctype: self.expand(m.get("schema", {})) for ctype, m in content.items()}, sort_keys=True)


def _fields(schema: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    props: dict[str, Any] = {}
    required: set[str] = set()
    for part in schema.get("allOf", []):
        sub_props, sub_required = _fields(part)
        props.update(sub_props)
        required |= sub_required
    props.update(schema.get("properties", {}))
    return props, required | set(schema.get("required", []))


def _call(row: dict[str, str]) -> str:
    aliases = row.get("aliases") or ""
    return row["sdk_call"] + (f" (also {aliases.replace(',', ', ')})" if aliases else "")


def _operation_changes(old: Contract, new: Contract, key: tuple[str, str]) -> Iterator[str]:
    before, after = old.rows[key], new.rows[key]
    if _call(before) != _call(after):
        yield f"call path: {_call(before)} -> {_call(after)}"
    for flag in ("deprecated", "streaming", "paginated"):
        if before.get(flag, "no") != after.get(flag, "no"):
            yield f"{flag}: {before.get(flag, 'no')} -> {after.get(flag, 'no')}"
    was, now = old.inputs(key), new.inputs(key)
    for name in sorted(now.keys() - was.keys()):
        yield f"+ {name}" + (" (required)" if now[name][0] else "")
    for name in sorted(was.keys() - now.keys()):
        yield f"- {name}"
    for name in sorted(was.keys() & now.keys()):
        (req_was, schema_was), (req_now, schema_now) = was[name], now[name]
        if req_was != req_now:
            yield f"~ {name}: {'required' if req_was else 'optional'} -> {'required' if req_now else 'optional'}"
        if schema_was != schema_now:
            yield f"~ {name}: its schema changed"
    if old.reply(key) != new.reply(key):
        yield "~ reply: its schema changed"


def diff_lines(old: Contract, new: Contract) -> list[str]:
    """The changes from ``old`` to ``new``: counts, operations added and removed, then each one changed."""
    added = [k for k in new.rows if k not in old.rows]
    removed = [k for k in old.rows if k not in new.rows]
    lines = [f"operations: {len(old.rows)} -> {len(new.rows)} ({len(added)} added, {len(removed)} removed)"]
    for title, keys, contract in (("added", added, new), ("removed", removed, old)):
        if keys:
            lines.append(f"{title}:")
            lines += [f"  {m} {p}  {_call(contract.rows[(m, p)])}" for m, p in keys]
    changed: list[str] = []
    for key in (k for k in new.rows if k in old.rows):
        changes = list(_operation_changes(old, new, key))
        if changes:
            changed.append(f"  {key[0]} {key[1]}  {new.rows[key]['sdk_call']}")
            changed += [f"    {change}" for change in changes]
    if changed:
        lines += ["changed:", *changed]
    return lines
