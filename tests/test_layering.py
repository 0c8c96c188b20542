"""The package's shape: imports point downward, no cycles (type-only imports included), small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "telnyx_ai"

# Bottom to top. A module may import from its own layer or any layer below, never above.
LAYERS: list[tuple[str, ...]] = [
    (
        "_version",
        "_logging",
        "_errors",
        "_hooks",
        "_tls",
        "_config",
        "_types",
        "_pydantic",
        "_models",
        "types",
        "_wakeup",
        "_bridge",
    ),
    ("_checks",),
    ("_http",),  # request, response, retry, pool, transport
    ("_streams",),  # SSE framing, the stream classes, the relay, one module per protocol
    ("_batch",),  # batch embedding jobs
    ("_raw_response", "_pagination", "_files", "_resource"),
    ("resources",),
    ("_client",),
    ("_sync_pagination",),
    ("_sync",),
    ("_sync_client",),
    ("testing", "_cli", "ray_data", "webhooks", "instrumentation", "__init__", "__main__"),
]
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every telnyx_ai module ``name`` imports, at any depth in the file (lazy and type-only too)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("telnyx_ai"):
                continue
            # "from . import _handlers" names a module; "from ._x import Y" names a symbol of one.
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    found.add(f"{target}.{alias.name}")
                    break
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("telnyx_ai"))
    found.discard(name)
    return {f for f in found if f in known}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def layer(name: str) -> int:
    parts = name.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return LAYER_OF[top]


def test_every_module_has_a_layer() -> None:
    missing = sorted({name.split(".")[1] for name in modules() if "." in name} - set(LAYER_OF))
    assert missing == [], f"add these to LAYERS: {missing}"


def test_imports_only_point_downward() -> None:
    upward = [
        f"{src} -> {dst}"
        for src, deps in graph().items()
        for dst in deps
        if layer(dst) > layer(src) and not dst.startswith(src + ".")  # a package may import its own modules
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    deps = graph()
    # A package's __init__ importing its own submodules is the usual re-export, not a cycle.
    edges = {src: {d for d in ds if not d.startswith(src + ".")} for src, ds in deps.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small(name: str) -> None:
    lines = modules()[name].read_text().count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it"


def test_internal_modules_are_private() -> None:
    public = {n for n in modules() if not any(part.startswith("_") for part in n.split(".")[1:])}
    assert public == {
        "telnyx_ai",
        "telnyx_ai.ray_data",
        "telnyx_ai.testing",
        "telnyx_ai.webhooks",
        "telnyx_ai.instrumentation",
        "telnyx_ai.testing.pytest_plugin",  # named by the pytest11 entry point (and by -p)
        "telnyx_ai.resources",
        "telnyx_ai.types",
        *{
            n
            for n in modules()
            if n.startswith(("telnyx_ai.types.", "telnyx_ai.resources.")) and not n.rsplit(".", 1)[1].startswith("_")
        },
    }
