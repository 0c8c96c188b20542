"""Which runtime check each argument gets: a method's `ArgumentChecks` table, and the call it starts with.

A kind is chosen from the argument's annotation (``telnyx_ai._checks`` names the groups): strings,
numbers, mappings and lists of them. Strings the spec gives a ``format`` msgspec encodes from other
Python types (a ``datetime``, a ``UUID``) are left unchecked, as are path parameters (any value
whose ``str()`` is the id) and files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

_STRING = r"""str|Literal\[(["'])[^"']*\1(?:, (["'])[^"']*\2)*\]"""  # str, or a Literal of strings
_NOT_STR_FORMATS = {"date", "date-time", "time", "uuid"}
CHECKED_WHERE = {"body", "form", "query"}


def check_kind(ann: str, schema: dict[str, Any], mapping_names: set[str]) -> str | None:
    """The `check_arguments` group of an argument annotated ``ann`` (None: not checked)."""
    base = ann.removesuffix(" | None")
    items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
    if schema.get("format") in _NOT_STR_FORMATS or items.get("format") in _NOT_STR_FORMATS:
        return None

    def is_mapping(text: str) -> bool:
        return text in mapping_names or text.startswith(("dict[", "Mapping["))

    if re.fullmatch(_STRING, base):
        return "strings"
    if base in ("int", "float"):
        return "numbers"
    if base == "str | Sequence[str]":
        return "strings_or_string_lists"
    inner = re.fullmatch(r"Sequence\[(.*)\]", base)
    if inner and re.fullmatch(_STRING, inner[1]):
        return "string_lists"
    if inner and is_mapping(inner[1]):
        return "mapping_lists"
    return "mappings" if is_mapping(base) else None


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _groups(args: list[tuple[str, str | None, bool]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name, kind, _ in args:
        if kind is not None:
            groups.setdefault(kind, []).append(name)
    return dict(sorted(groups.items()))


def checks_attribute(method: str) -> str:
    """The class attribute holding ``method``'s `ArgumentChecks`."""
    return f"_{method}_checks"


def checks_table(
    method: str,
    call: str,
    args: list[tuple[str, str | None, bool]],
    need: Callable[[], str],
    body: Sequence[tuple[str, str, str | None, bool]] = (),
) -> list[str]:
    """The class-body line ``_<method>_checks = ArgumentChecks("<call>", group=(names), body={field: group},
    nullable=..., others=...)``.

    ``args`` are (name, kind, nullable) of the arguments passed by group, ``body`` (field, name, kind,
    nullable) those checked in the JSON body the method builds; ``need`` imports the class and returns
    its local name. Every method gets one: ``options`` (the extra keywords) is checked for
    misspellings, with the method's own argument names (the unchecked ones listed in ``others``) as
    suggestions.
    """
    parts = [f'"{call}"']
    parts += [f"{kind}={_tuple([repr(n) for n in names])}" for kind, names in _groups(args).items()]
    checked_body = [(field, name, kind) for field, name, kind, _ in body if kind is not None]
    if checked_body:
        parts.append("body={" + ", ".join(f"{field!r}: {kind!r}" for field, _, kind in checked_body) + "}")
    renamed = [f"{field!r}: {name!r}" for field, name, _ in checked_body if field != name]
    if renamed:
        parts.append("renamed={" + ", ".join(renamed) + "}")
    every = [*args, *((name, kind, nullable) for _, name, kind, nullable in body)]
    nullable = [repr(name) for name, kind, is_nullable in every if kind is not None and is_nullable]
    if nullable:
        parts.append(f"nullable={_tuple(nullable)}")
    others = [repr(name) for name, kind, _ in every if kind is None]
    if others:
        parts.append(f"others={_tuple(others)}")
    return [f"    {checks_attribute(method)} = {need()}({', '.join(parts)})"]  # ruff makes the quotes double


def checks_call(method: str, args: list[tuple[str, str | None, bool]], *, body: bool = False) -> list[str]:
    """The line checking the values: ``body`` (the JSON body built from the arguments given, when
    ``body``), then the other arguments, group by group in the table's order."""
    groups = [f"{kind}={_tuple(names)}" for kind, names in _groups(args).items()]
    if body and not groups:  # the usual generated method: one call less
        return [f"        self.{checks_attribute(method)}.check_body(options, body)"]
    parts = ["options", *(["body"] if body else []), *groups]
    return [f"        self.{checks_attribute(method)}.check({', '.join(parts)})"]
