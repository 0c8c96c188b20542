"""Formatting generated Python with ruff, shared by scripts/generate_api.py and scripts/generate_sync.py.

Imports are sorted and unused ones dropped, then the code is formatted, so a generator's output
is byte-for-byte stable and its ``--check`` mode is reliable.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ruff_format(path: Path, source: str) -> str:
    """``source`` as it will be written to ``path``: imports fixed, then ``ruff format``ed."""
    label = str(path.relative_to(ROOT)) if path.is_absolute() else str(path)
    for command in (["check", "--fix-only", "--select", "I,F401", "--exit-zero"], ["format"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", label, "-"],
            input=source,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"ruff {command[0]} failed on {label}:\n{done.stderr}\n{source}")
        source = done.stdout
    return source
