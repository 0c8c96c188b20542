"""Copy the Telnyx AI OpenAPI document into scripts/openapi/, keeping its structure and dropping its prose.

    python scripts/vendor_spec.py [path/to/telnyx-ai.json] [path/to/endpoints.tsv] [--out DIR]

Defaults to ``../shared/openapi/`` and ``scripts/openapi/``. Before replacing the vendored copy it
prints what changed (operations added and removed, call paths, flags, parameters, body fields and
replies: ``_contract_diff.py``). Removes ``description``, ``summary`` and schema ``title``
keywords; keeps examples (the Prism mock server serves them) and everything structural. Response
objects keep an empty ``description``, which OpenAPI requires. Then run the generators (CONTRIBUTING.md).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from _contract_diff import Contract, diff_lines  # scripts/_contract_diff.py, beside this file

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "openapi"
OUT = HERE / "openapi"

PROSE = frozenset({"description", "summary", "title", "externalDocs"})
# Values of these keys are data (the mock server returns examples verbatim): copy them as they are.
VERBATIM = frozenset({"example", "examples", "default", "enum", "const", "required"})
# Maps whose keys are names chosen by the author, not keywords: keep every key, strip the values.
NAME_MAPS = frozenset(
    {"paths", "properties", "schemas", "content", "headers", "securitySchemes", "parameters", "requestBodies"}
)


def strip_prose(node: Any, *, name_map: bool = False, response: bool = False) -> Any:
    """``node`` without prose keys, recursing through the document's structure."""
    if isinstance(node, list):
        return [strip_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if name_map:
            out[key] = strip_prose(value)
        elif key in VERBATIM:
            out[key] = value
        elif key in PROSE:
            if key == "description" and response:
                out[key] = ""
        elif key == "responses":
            out[key] = {code: strip_prose(resp, response=True) for code, resp in value.items()}
        elif key == "info":
            out[key] = {k: v for k, v in value.items() if k in ("title", "version")}
        elif key == "tags" and isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [{"name": tag["name"]} for tag in value]
        else:
            out[key] = strip_prose(value, name_map=key in NAME_MAPS and isinstance(value, dict))
    return out


def vendor(spec_path: Path, endpoints_path: Path, out_dir: Path = OUT) -> None:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(strip_prose(spec), indent=1, ensure_ascii=False) + "\n"
    (out_dir / "telnyx-ai.json").write_text(text, encoding="utf-8")
    shutil.copyfile(endpoints_path, out_dir / "endpoints.tsv")


def main(argv: list[str]) -> int:
    out = OUT
    if "--out" in argv:
        at = argv.index("--out")
        out, argv = Path(argv[at + 1]), argv[:at] + argv[at + 2 :]
    spec_path = Path(argv[0]) if argv else DEFAULT_SOURCE / "telnyx-ai.json"
    endpoints_path = Path(argv[1]) if len(argv) > 1 else spec_path.with_name("endpoints.tsv")
    if (out / "telnyx-ai.json").exists() and (out / "endpoints.tsv").exists():
        old = Contract.read(out / "telnyx-ai.json", out / "endpoints.tsv")
        print("\n".join(diff_lines(old, Contract.read(spec_path, endpoints_path))))
    vendor(spec_path, endpoints_path, out)
    print(f"wrote {out / 'telnyx-ai.json'} and {out / 'endpoints.tsv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
