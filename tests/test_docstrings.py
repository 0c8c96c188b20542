"""Docstrings render well on the site: code examples in them are fenced, and no attribute docstring is lost.

The site renders docstrings as Markdown (mkdocstrings, google style), so an example that is not in a
```python fence becomes one prose paragraph. The walk covers what users see: the ``__all__`` of the
public modules (``telnyx_ai``, ``telnyx_ai.testing``, every ``telnyx_ai.types``, ``resources`` and
``_sync`` module), each object a ``:::`` directive of the docs renders, and their members, read
statically with griffe as mkdocstrings reads them.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import griffe
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "telnyx_ai"
DOC_PAGES = ROOT / "docs" / "pages"

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_DIRECTIVE = re.compile(r"^:::\s+(\S+)", re.MULTILINE)
# A line that reads as code rather than prose: a prompt, a statement, an assignment, a call.
_CODE = re.compile(
    r"""^(
        >>>\s | \.\.\.\s
      | (async\s+with|async\s+for|await)\s
      | (with|for)\s.+\s(as|in)\s.+:$
      | (from\s+[\w.]+\s+import|import\s+[\w.]+)\b
      | [\w.\[\]"']+\s*(=|\+=)\s*\S
      | (print|assert|return|raise)\b.*\S
      | client\.
      | [a-z_][\w]*(\.[a-z_]\w*)+\(.*\)\s*$
    )""",
    re.VERBOSE,
)


def unfenced_code(text: str) -> list[str]:
    """The lines of ``text`` that look like code and are not inside a Markdown code fence."""
    found: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        marker = _FENCE.match(line)
        if marker is not None:
            if fence is None:
                fence = marker.group(1)
            elif marker.group(1).startswith(fence[0] * len(fence)):
                fence = None
            continue
        if fence is None and _CODE.match(line.strip()):
            found.append(line.strip())
    return found


def _public_modules(package: griffe.Module) -> Iterator[griffe.Module]:
    yield package
    yield package["testing"]
    for group in ("types", "resources", "_sync"):
        parent = package[group]
        yield parent
        stack = [parent]
        while stack:
            module = stack.pop()
            for member in module.modules.values():
                stack.append(member)
                if not member.name.startswith("_") or member.name == "__init__":
                    yield member


def _roots(package: griffe.Module) -> Iterator[griffe.Object | griffe.Alias]:
    for module in _public_modules(package):
        yield module
        exported = module.exports or [name for name in module.members if not name.startswith("_")]
        for name in exported:
            if isinstance(name, str) and name in module.members:
                yield module.members[name]
    for page in sorted(DOC_PAGES.rglob("*.md")):
        for identifier in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            yield package.modules_collection[identifier]


def _walk(obj: griffe.Object | griffe.Alias, seen: set[str]) -> Iterator[griffe.Object]:
    try:
        target = obj.final_target if isinstance(obj, griffe.Alias) else obj
    except griffe.AliasResolutionError:
        return  # defined outside telnyx_ai
    if target.path in seen or not target.path.startswith("telnyx_ai"):
        return
    seen.add(target.path)
    yield target
    if target.is_module:
        return  # a module's own members are walked only where exported
    for name, member in target.members.items():
        if not name.startswith("_") or name == "__init__":
            yield from _walk(member, seen)


def _documented() -> list[griffe.Object]:
    package = griffe.load("telnyx_ai", search_paths=[str(ROOT)], resolve_aliases=True)
    assert isinstance(package, griffe.Module)
    seen: set[str] = set()
    return [obj for root in _roots(package) for obj in _walk(root, seen) if obj.docstring is not None]


DOCUMENTED = _documented()


def test_the_walk_covers_the_public_api() -> None:
    paths = {obj.path for obj in DOCUMENTED}
    for path in (
        "telnyx_ai._client.AsyncTelnyx",
        "telnyx_ai._client.AsyncTelnyx.with_raw_response",
        "telnyx_ai._sync_client.Telnyx",
        "telnyx_ai._streams.stream.AsyncStream",
        "telnyx_ai.testing._server.MockServer",
        "telnyx_ai.resources.chat.AsyncChat.create_completion",
        "telnyx_ai._sync.chat.Chat.create_completion",
        "telnyx_ai.testing._records.RecordedRequest.disconnected",
    ):
        assert path in paths, path
    assert len(DOCUMENTED) > 300


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Use it so:\n\nasync with AsyncTelnyx() as client:\n    reply = await client.x()", 2),
        ("Like this:\n\n```python\nasync with AsyncTelnyx() as client:\n    pass\n```", 0),
        (">>> client.close()", 1),
        ("raw = await client.with_raw_response(op)", 1),
        ("The ``client.ai`` tree, and `await stream.close()` in prose.", 0),
        ("Returns the value; when it is None, nothing is sent.", 0),
    ],
)
def test_the_detector(text: str, flagged: int) -> None:
    assert len(unfenced_code(text)) == flagged, unfenced_code(text)


def test_docstring_examples_are_fenced() -> None:
    unfenced = {
        obj.path: lines for obj in DOCUMENTED if obj.docstring and (lines := unfenced_code(obj.docstring.value))
    }
    assert not unfenced, "code outside a ```python fence (it renders as prose):\n" + "\n".join(
        f"{path}: {lines}" for path, lines in sorted(unfenced.items())
    )


def _stacked_strings(tree: ast.AST) -> Iterator[int]:
    """Line numbers where a string statement directly follows another (the second documents nothing)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        statements: list[ast.stmt] = [s for s in body if isinstance(s, ast.stmt)]
        for first, second in itertools.pairwise(statements):
            if all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in (first, second)) and all(
                isinstance(s.value.value, str) for s in (first, second) if isinstance(s, ast.Expr)
            ):
                yield second.lineno


def test_no_docstring_is_stacked_under_another() -> None:
    stacked = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _stacked_strings(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not stacked, f"a string under another string documents nothing: {stacked}"
