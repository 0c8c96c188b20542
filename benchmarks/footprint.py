"""What each client costs before its first call: import time, and its size on disk with its dependencies.

    python -m benchmarks.footprint [--repeats N] [--out DIR]

Run by ``benchmarks/run`` in its venv (telnyx_ai, telnyx and openai installed side by side). For each
client package: the median wall time of ``import <package>`` in a bare interpreter (``python -I``,
``N`` fresh processes, interleaved), as a ratio to telnyx_ai's; the bytes of the package's own
directory; and those plus every distribution it requires, recursively (extras left out, as pip's
RECORD lists their files). Bytecode caches are not counted.
Appends a table to ``results.md`` and writes ``footprint.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

CLIENTS = {"telnyx_ai": "telnyx-ai", "telnyx": "telnyx", "openai": "openai"}
"""Import name -> distribution name."""
RESULTS = Path(__file__).resolve().parent / "results"


def _name(requirement: str) -> str | None:
    """The distribution a requirement names, or None when it applies only with an extra."""
    if "extra ==" in requirement:
        return None
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return match.group(0) if match else None


def closure(dist: str) -> set[str]:
    """``dist`` and every distribution it requires, recursively (without extras; missing ones skipped)."""
    seen: set[str] = set()
    todo = [dist]
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        seen.add(key)
        todo += [n for n in map(_name, requires) if n]
    return seen


def installed_bytes(dist: str) -> int:
    """The bytes of the files ``dist`` installed (its RECORD, bytecode caches left out)."""
    files = metadata.distribution(dist).files or []
    return sum(f.size or 0 for f in files if "__pycache__" not in f.parts)


def package_bytes(module: str) -> int:
    """The bytes of a package's own directory (bytecode caches left out): also right for an editable
    install, whose RECORD lists only a path file."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{module} is not an installed package")
    root = Path(next(iter(spec.submodule_search_locations)))
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file() and "__pycache__" not in f.parts)


def import_seconds(module: str, repeats: int) -> list[float]:
    """Wall time of ``import module`` in ``repeats`` fresh bare interpreters."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return [
        float(subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(repeats)
    ]


def measure(repeats: int, clients: dict[str, str] = CLIENTS) -> dict[str, dict[str, float]]:
    """Each installed client's row (a client this venv lacks is left out)."""
    present = {module: dist for module, dist in clients.items() if importlib.util.find_spec(module) is not None}
    times: dict[str, list[float]] = {module: [] for module in present}
    for _ in range(repeats):  # interleaved, so drift on this host hits every client alike
        for module in present:
            times[module] += import_seconds(module, 1)
    rows: dict[str, dict[str, float]] = {}
    for module, dist in present.items():
        own = package_bytes(module)
        deps = closure(dist) - {dist.lower()}
        rows[module] = {
            "import_ms": statistics.median(times[module]) * 1000,
            "package_kib": own / 1024,
            "with_dependencies_kib": (own + sum(installed_bytes(d) for d in deps)) / 1024,
            "dependencies": len(deps),
        }
    return rows


def table(rows: dict[str, dict[str, float]], repeats: int) -> str:
    base = rows["telnyx_ai"]
    lines = [
        "## Footprint: import time and installed size",
        "",
        f"`import <package>` in a bare interpreter (median of {repeats} interleaved runs), and the bytes installed",
        "by the package and by its whole dependency closure (extras left out). Ratios are to telnyx_ai.",
        "",
        "| client | import | ÷ telnyx_ai | package | ÷ telnyx_ai | with dependencies | ÷ telnyx_ai | dependencies |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for module, row in rows.items():
        lines.append(
            f"| {module} | {row['import_ms']:.0f} ms | {row['import_ms'] / base['import_ms']:.2f}x "
            f"| {row['package_kib'] / 1024:.1f} MiB | {row['package_kib'] / base['package_kib']:.2f}x "
            f"| {row['with_dependencies_kib'] / 1024:.1f} MiB "
            f"| {row['with_dependencies_kib'] / base['with_dependencies_kib']:.2f}x | {row['dependencies']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args, _ = parser.parse_known_args(argv)
    started = time.perf_counter()
    rows = measure(args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "footprint.json").write_text(json.dumps(rows, indent=2) + "\n")
    text = table(rows, args.repeats)
    results = args.out / "results.md"
    with results.open("a", encoding="utf-8") as f:
        f.write("\n" + text)
    print(text)
    print(f"footprint measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
