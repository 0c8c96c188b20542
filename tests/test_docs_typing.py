"""Every Python example in README.md and docs/pages type-checks under pyright and mypy in strict mode.

Users copy these examples into typed code bases; one that needs a cast or an ignore to pass a
strict checker teaches the wrong thing. Each ```python block (titled ones too) is written to its own
module, padded with blank lines so that reported line numbers are the Markdown file's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .test_docs import EXAMPLES, Example

PYRIGHT = Path(sys.executable).parent / "pyright"


def _module_name(example: Example) -> str:
    return "example_" + re.sub(r"\W", "_", example.id).lower()


@pytest.fixture(scope="module")
def examples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("doc_examples")
    for example in EXAMPLES:
        (folder / f"{_module_name(example)}.py").write_text("\n" * example.line + example.code, encoding="utf-8")
    (folder / "pyrightconfig.json").write_text(json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.11"}))
    return folder


def _where(folder: Path, file: str, line: int) -> str:
    by_module = {_module_name(example): example for example in EXAMPLES}
    example = by_module[Path(file).stem]
    return f"{example.path.name}:{line}"


def test_the_examples_are_many() -> None:
    assert len(EXAMPLES) > 50


def test_pyright_strict_finds_nothing(examples_dir: Path) -> None:
    done = subprocess.run(
        [str(PYRIGHT), "--outputjson", "--pythonpath", sys.executable, "."],
        cwd=examples_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(done.stdout)
    problems = [
        f"{_where(examples_dir, d['file'], d['range']['start']['line'] + 1)}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] in ("error", "warning")
    ]
    assert report["summary"]["filesAnalyzed"] == len(EXAMPLES)
    assert problems == []


def test_mypy_strict_finds_nothing(examples_dir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(examples_dir / ".mypy"),
            ".",
        ],
        cwd=examples_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    problems = []
    for line in done.stdout.splitlines():
        if ": error:" in line:
            file, number, message = line.split(":", 2)
            problems.append(f"{_where(examples_dir, file, int(number))}:{message}")
    assert done.returncode == 0 or problems, done.stdout + done.stderr
    assert problems == []
