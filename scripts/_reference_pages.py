"""Operation model to reference pages: which page lists each operation, and which page documents each type.

The first of scripts/generate_reference.py's two steps (the second, pages to Markdown, is
``_reference_render.py``). Areas come from ``scripts/openapi/reference.toml``; operations and types
from the same model that generates the code (``_codegen_model.py``, ``_codegen_types.py``).
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass, field

from _codegen_data import OPENAPI, Inputs
from _codegen_model import Operation
from _codegen_types import TypeBuilder

# Names of generated annotations that are not API types but have a reference page of their own.
LINKED_NAMES = {
    "AsyncStream": "telnyx_ai._streams.stream.AsyncStream",
    "AsyncPaginator": "telnyx_ai._pagination.AsyncPaginator",
    "RequestOptions": "telnyx_ai._types.RequestOptions",
    "NotGiven": "telnyx_ai._types.NotGiven",
}


@dataclass
class Area:
    """One reference page: its operations, in endpoints.tsv's order, and the types documented on it."""

    slug: str
    title: str
    calls: list[str]
    intro: str
    helpers: list[str]
    ops: list[Operation] = field(default_factory=list[Operation])
    types: list[str] = field(default_factory=list[str])  # ``telnyx_ai.types`` identifiers, first use first


def load_areas() -> list[Area]:
    with (OPENAPI / "reference.toml").open("rb") as f:
        data = tomllib.load(f)
    return [Area(a["slug"], a["title"], a["calls"], a["intro"].strip(), a.get("helpers", [])) for a in data["areas"]]


def _match(call: str, entry: str) -> bool:
    return call == entry or call.startswith(entry + ".")


def names_in(ann: str) -> list[str]:
    """The names an annotation uses, in the order they appear (``Literal`` strings do not count)."""
    nodes = [n for n in ast.walk(ast.parse(ann, mode="eval")) if isinstance(n, ast.Name)]
    return [n.id for n in sorted(nodes, key=lambda n: n.col_offset)]


def annotations(op: Operation) -> list[str]:
    """Every annotation an operation's reference shows: its arguments, then what it returns."""
    returned = [op.returns, op.json_type, op.item]
    if op.stream is not None:
        returned += [op.stream.response, op.stream.chunk]
    if op.value is not None:
        returned.append(op.value.response)
    return [a.ann for a in op.args] + [r for r in returned if r]


class TypeIndex:
    """Where each type name is defined, and what documenting it brings along."""

    def __init__(self, inputs: Inputs, types: TypeBuilder) -> None:
        self.types = types
        self.handwritten = inputs.types.handwritten
        self.module: dict[str, str] = {}
        for module, names in self.handwritten.items():
            self.module |= dict.fromkeys(names, module)
        self.module |= {name: tdef.module for name, tdef in types.defs.items()}

    def identifier(self, name: str) -> str | None:
        """The ``:::`` identifier (and anchor) of a name, or None for a name without a page."""
        if name in self.module:
            return f"telnyx_ai.types.{self.module[name]}.{name}"
        return LINKED_NAMES.get(name)

    def closure(self, name: str) -> list[str]:
        """``name`` and every type its documentation needs: the generated types it uses, recursively;
        for a hand-written module, every name of its ``__all__``."""
        if name not in self.module:
            return []
        if name not in self.types.defs:
            return list(self.handwritten[self.module[name]])
        found: list[str] = []
        stack = [name]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.append(current)
            stack += sorted(self.types.deps(current), reverse=True)
        return found


def build_areas(ops: list[Operation], index: TypeIndex) -> list[Area]:
    """Each operation on its area's page, and each type documented once, on the page that uses it first."""
    areas = load_areas()
    for op in ops:
        matches = [(len(entry), area) for area in areas for entry in area.calls if _match(op.call, entry)]
        if not matches:
            raise SystemExit(f"client.{op.call}: no area of scripts/openapi/reference.toml lists it")
        max(matches, key=lambda m: m[0])[1].ops.append(op)
    placed: set[str] = set()
    for area in areas:
        if not area.ops:
            raise SystemExit(f"reference.toml: area {area.slug!r} has no operation")
        for op in area.ops:
            for ann in annotations(op):
                for name in names_in(ann):
                    for needed in index.closure(name):
                        if needed not in placed:
                            placed.add(needed)
                            area.types.append(f"telnyx_ai.types.{index.module[needed]}.{needed}")
    return areas
