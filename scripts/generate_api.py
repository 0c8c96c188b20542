"""Generate the resource classes and types of ``telnyx_ai`` from the vendored OpenAPI document.

    python scripts/generate_api.py           # write telnyx_ai/resources/... and telnyx_ai/types/...
    python scripts/generate_api.py --check   # exit 1, listing the files that are stale

Every row of ``scripts/openapi/endpoints.tsv`` becomes one method at its ``sdk_call`` path. The
inputs live in ``scripts/openapi/``: the spec ``telnyx-ai.json``, ``endpoints.tsv``, and three TOML
files for what the spec cannot say (see ``_codegen_data.py``). Two steps, each once per run:

- spec -> operation model (``_codegen_model.py``, with ``_codegen_types.py`` for the schemas);
- operation model -> code (``_codegen_render.py``).

The output is formatted with ruff (found next to this Python) so that ``--check`` compares byte
for byte. CONTRIBUTING.md has the recipe for adding an operation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _codegen_data import PACKAGE, ROOT, Inputs, load  # scripts/_codegen_*.py, beside this file
from _codegen_model import build_operations
from _codegen_render import HEADER, Symbols, render_resource_module, render_type_module
from _codegen_types import TypeBuilder
from _ruff_format import ruff_format
from _write_generated import write_or_check

WEBHOOKS_MODULE = "webhooks"  # telnyx_ai/types/webhooks.py: the events of the spec's ``webhooks``


def generate() -> dict[Path, str]:
    """Every generated file under telnyx_ai/resources/ and telnyx_ai/types/, by path, formatted."""
    inputs = load()
    types = TypeBuilder(inputs.spec, inputs.types)
    ops = build_operations(inputs, types)
    events = webhook_events(inputs, types)
    symbols = Symbols(inputs, types)

    files: dict[Path, str] = {}
    modules: dict[str, list[str]] = {}
    for key, node in inputs.nodes.items():
        modules.setdefault(node.module, []).append(key)
    for module, keys in modules.items():
        keys.sort(key=lambda k: (k.count("."), k))
        path = PACKAGE / "resources" / (module + ".py")
        files[path] = render_resource_module(module, keys, inputs, ops, symbols)
    for module in sorted({d.module for d in types.defs.values()}):
        tail = events if module == WEBHOOKS_MODULE else None
        files[PACKAGE / "types" / f"{module}.py"] = render_type_module(module, inputs, types, symbols, events=tail)
    return {path: ruff_format(path, source) for path, source in sorted(files.items())}


def webhook_events(inputs: Inputs, types: TypeBuilder) -> list[tuple[str, str]]:
    """(event type, Struct) for each webhook of the spec, its types defined in `WEBHOOKS_MODULE`."""
    events: list[tuple[str, str]] = []
    for name, item in sorted(inputs.spec.get("webhooks", {}).items()):
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        struct = types.resp(schema, name + "Event", WEBHOOKS_MODULE)
        data, _ = types.deref(types.object_props(schema)[0]["data"])
        (event_type,) = data["properties"]["event_type"]["enum"]
        events.append((event_type, struct))
    return events


def orphans(files: dict[Path, str]) -> list[Path]:
    """Generated files (they start with the header) that this run no longer produces."""
    found = [*(PACKAGE / "resources").rglob("*.py"), *(PACKAGE / "types").rglob("*.py")]
    return sorted(path for path in found if path not in files and path.read_text(encoding="utf-8").startswith(HEADER))


def main(argv: list[str]) -> int:
    files = generate()
    return write_or_check(files, orphans(files), root=ROOT, check="--check" in argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
