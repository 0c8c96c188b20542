"""The API reference pages are current, list every operation once, and match the methods they document."""

from __future__ import annotations

import csv
import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from telnyx_ai import AsyncTelnyx, Telnyx

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "pages" / "reference" / "api"
with (ROOT / "scripts" / "openapi" / "endpoints.tsv").open(newline="", encoding="utf-8") as _f:
    CALLS = [row["sdk_call"] for row in csv.DictReader(_f, delimiter="\t")]

_HEADING = re.compile(r"^### `(client\.[\w.]+)` \{ #(client\.[\w.]+) \}$", re.MULTILINE)
_ROW = re.compile(r"^\| `(\w+)`", re.MULTILINE)


def _sections() -> dict[str, str]:
    """Each operation's section of the reference, by call path."""
    sections: dict[str, str] = {}
    for page in sorted(PAGES.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        parts = _HEADING.split(text)
        for call, anchor, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
            assert call == anchor, page
            assert call not in sections, f"{call} is listed twice"
            sections[call] = body.split("\n## ", 1)[0]
    return sections


def test_the_reference_pages_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_reference.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_every_operation_is_listed_once() -> None:
    assert sorted(_sections()) == sorted(CALLS)


def test_the_navigation_has_every_reference_page() -> None:
    config = yaml.load((ROOT / "docs" / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    listed: set[str] = set()
    stack: list[Any] = [config["nav"]]
    while stack:
        item = stack.pop()
        if isinstance(item, list | dict):
            stack += list(item.values() if isinstance(item, dict) else item)
        else:
            listed.add(item)
    assert {f"reference/api/{page.name}" for page in PAGES.glob("*.md")} <= listed


def _method(client: Any, call: str) -> Any:
    node = client
    for part in call.split(".")[1:]:
        node = getattr(node, part)
    return node


@pytest.mark.parametrize("call", CALLS)
def test_the_parameters_are_those_of_both_methods(call: str) -> None:
    documented = _ROW.findall(_sections()[call])
    for client in (AsyncTelnyx(api_key="k"), Telnyx(api_key="k")):
        try:
            signature = inspect.signature(_method(client, call))
            params = [p.name for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
            assert sorted(documented) == sorted(params), f"{type(client).__name__}: {call}"
        finally:
            if isinstance(client, Telnyx):
                client.close()
