"""The imports of one generated module, shared by scripts/generate_api.py and scripts/generate_sync.py.

A renderer asks for each name it writes (``need``), by the module that defines it; ``render`` then
writes the import lines, relative inside ``telnyx_ai``, with ``TYPE_CHECKING`` imports apart.
"""

from __future__ import annotations


class GenerationError(Exception):
    """The input cannot be turned into code (a name clash, an unsupported shape)."""


class Imports:
    """The imports of one generated module, aliasing a name when two sources would clash."""

    def __init__(self, module: str, is_package: bool, reserved: set[str]) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.reserved = set(reserved)
        self.by_source: dict[tuple[str, str | None], str] = {}
        self.entries: dict[str, tuple[str, str | None, bool]] = {}  # local -> (module, name, runtime)

    def need(self, module: str, name: str | None, *, runtime: bool = True) -> str:
        key = (module, name)
        local = self.by_source.get(key)
        if local is None:
            base = name if name is not None else module.split(".")[0]
            local, n = base, 1
            while local in self.reserved or local in self.entries:
                n += 1
                local = f"{base}_{n}"
            if name is None and local != base:
                raise GenerationError(f"{self.module}: 'import {module}' would clash with another name")
            self.by_source[key] = local
            self.entries[local] = (module, name, runtime)
        elif runtime and not self.entries[local][2]:
            self.entries[local] = (module, name, True)
        return local

    def relative(self, module: str) -> str:
        if not module.startswith("telnyx_ai"):
            return module
        mine, theirs = self.package.split("."), module.split(".")
        common = 0
        while common < min(len(mine), len(theirs)) and mine[common] == theirs[common]:
            common += 1
        return "." * (len(mine) - common + 1) + ".".join(theirs[common:])

    def render(self) -> str:
        lines: dict[bool, list[str]] = {True: [], False: []}
        for local, (module, name, runtime) in sorted(self.entries.items()):
            if name is None:
                lines[runtime].append(f"import {module}")
            else:
                alias = f" as {local}" if local != name else ""
                lines[runtime].append(f"from {self.relative(module)} import {name}{alias}")
        text = "from __future__ import annotations\n\n"
        if lines[False]:
            lines[True].append("from typing import TYPE_CHECKING")
        text += "\n".join(lines[True]) + "\n"
        if lines[False]:
            text += "\nif TYPE_CHECKING:\n" + "".join(f"    {line}\n" for line in lines[False])
        return text
