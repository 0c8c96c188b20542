"""The documentation builds, and every Python example in it runs.

Examples are the ```python blocks of README.md and docs/pages/**/*.md. Each one runs as a
script (``__name__ == "__main__"``) in its own process with ``TELNYX_API_KEY=test`` and
``TELNYX_BASE_URL`` pointing at one `MockServer` shared by this module, so an example written
for the real API (``AsyncTelnyx()`` with no arguments) runs unchanged against the emulator.
Examples that inject faults start their own `MockServer`, so they never disturb the others.

Each runs in a fresh interpreter (a few at a time, while mkdocs builds the site); each test
then checks its own result.

A block is not run when its fence has a title (```python title="app.py") or when the line
before it is ``<!-- no-run -->``. A block preceded by ``<!-- pytest -->`` is a test module: it
is written to a file and run with pytest. A block preceded by ``<!-- runs once client.x.y exists -->``
(or ``client.x.y(stream=)``: once the method takes that keyword) documents a call path that another
branch adds: it waits, and a test fails as soon as the path exists, so that it is then run. An example must exit with status 0 and either print
something or contain an ``assert``. Traceback line numbers are those of the Markdown file.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest

from telnyx_ai import AsyncTelnyx
from telnyx_ai.testing import MockServer

ROOT = Path(__file__).resolve().parent.parent
MKDOCS_CONFIG = ROOT / "docs" / "mkdocs.yml"
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs" / "pages").rglob("*.md"))]

EXAMPLE_TIMEOUT = 20.0
BUILD_TIMEOUT = 120.0
NO_RUN = "<!-- no-run -->"
PYTEST = "<!-- pytest -->"
PENDING = re.compile(r"<!-- runs once (client(?:\.\w+)+)(?:\((\w+)=\))? exists -->")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


@dataclass(frozen=True, slots=True)
class Example:
    path: Path
    line: int
    """1-based line of the opening fence."""
    code: str
    runner: str
    """``"python"``, ``"pytest"``, ``"skip"``, or ``"pending <call path> <keyword>"``."""

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def _runner(info: str, previous: str) -> str:
    if "title=" in info or previous == NO_RUN:
        return "skip"
    pending = PENDING.fullmatch(previous)
    if pending is not None:
        return f"pending {pending[1]} {pending[2] or ''}".rstrip()
    return "pytest" if previous == PYTEST else "python"


def extract_examples(path: Path) -> list[Example]:
    """The fenced ```python blocks of one Markdown file (also those indented inside admonitions)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    examples: list[Example] = []
    previous = ""
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            if lines[index].strip():
                previous = lines[index].strip()
            index += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if closing is not None and closing["fence"].startswith(fence) and not closing["info"].strip():
                break
            body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index].lstrip())
            index += 1
        start = index - len(body)  # 1-based line number of the opening fence
        language = info.split()[0].lower() if info else ""
        if language in ("python", "py"):
            examples.append(Example(path, start, "\n".join(body) + "\n", _runner(info, previous)))
        previous = ""
        index += 1
    return examples


EXAMPLES = [example for path in DOC_FILES for example in extract_examples(path)]
RUNNABLE = [example for example in EXAMPLES if example.runner in ("python", "pytest")]
PENDING_EXAMPLES = [example for example in EXAMPLES if example.runner.startswith("pending ")]


def _example_env(base_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELNYX_", "PYTEST_")) and key != "PYTHONPATH"
    }
    env.update(TELNYX_API_KEY="test", TELNYX_BASE_URL=base_url, PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1")
    return env


@dataclass(frozen=True, slots=True)
class Outcome:
    returncode: int | None
    stdout: str
    stderr: str


def _run(example: Example, env: dict[str, str], workdir: Path) -> Outcome:
    """Run one example in a fresh interpreter, in its own directory and environment."""
    if example.runner == "pytest":
        (workdir / "test_example.py").write_text(example.code, encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(workdir),
            "test_example.py",
        ]
    else:
        # Leading newlines make traceback line numbers those of the Markdown file.
        (workdir / "example.py").write_text("\n" * example.line + example.code, encoding="utf-8")
        command = [sys.executable, "example.py"]
    try:
        proc = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return Outcome(None, out, f"[killed after {EXAMPLE_TIMEOUT} s]")
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def _mkdocs_build(site_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(MKDOCS_CONFIG), "-d", str(site_dir)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def emulator() -> Iterator[MockServer]:
    with MockServer.in_thread() as server:
        yield server


@dataclass(slots=True)
class Background:
    site_dir: Path
    build: Future[subprocess.CompletedProcess[str]]
    examples: dict[str, Future[Outcome]]


@pytest.fixture(scope="module")
def background(emulator: MockServer) -> Iterator[Background]:
    """The docs build and every runnable example, all started on first use; each test waits for its own."""
    env = _example_env(emulator.url)
    with tempfile.TemporaryDirectory(prefix="telnyx-ai-docs-") as tmp, ThreadPoolExecutor(max_workers=4) as pool:
        build = pool.submit(_mkdocs_build, Path(tmp) / "site")
        examples: dict[str, Future[Outcome]] = {}
        for number, example in enumerate(RUNNABLE):
            workdir = Path(tmp) / f"example-{number}"
            workdir.mkdir()
            examples[example.id] = pool.submit(_run, example, env, workdir)
        yield Background(Path(tmp) / "site", build, examples)
        for future in examples.values():
            future.cancel()


def test_docs_have_examples() -> None:
    assert len(RUNNABLE) >= 10, [example.id for example in EXAMPLES]
    skipped = [example.id for example in EXAMPLES if example.runner == "skip"]
    assert len(skipped) <= 3, f"too many examples are not run: {skipped}"


@pytest.mark.parametrize("example", PENDING_EXAMPLES, ids=[example.id for example in PENDING_EXAMPLES])
def test_a_waiting_example_waits_for_a_call_path_that_does_not_exist_yet(example: Example) -> None:
    _, path, *keyword = example.runner.split()
    node: object = AsyncTelnyx(api_key="docs")
    for name in path.split(".")[1:]:
        node = getattr(node, name, None)
        if node is None:
            return  # still missing: the example waits
    if keyword and keyword[0] not in inspect.signature(cast("Callable[..., object]", node)).parameters:
        return
    raise AssertionError(f"{example.id}: {path} exists now; drop its 'runs once' marker so the example runs")


@pytest.mark.parametrize("example", RUNNABLE, ids=[example.id for example in RUNNABLE])
def test_example_runs(example: Example, background: Background) -> None:
    outcome = background.examples[example.id].result()
    report = (
        f"{example.id} exited with {outcome.returncode}\n--- stdout\n{outcome.stdout}\n--- stderr\n{outcome.stderr}"
    )
    assert outcome.returncode == 0, report
    assert outcome.stdout.strip() or "assert " in example.code, f"{example.id} neither prints nor asserts anything"


def test_mkdocs_build_strict(background: Background) -> None:
    proc = background.build.result()
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (background.site_dir / "index.html").is_file()
    assert (background.site_dir / "reference" / "client" / "index.html").is_file()


def test_signatures_are_formatted_and_docstring_examples_are_code(background: Background) -> None:
    """ruff formats long signatures over several lines; a fenced docstring example renders highlighted."""
    assert background.build.result().returncode == 0
    html = (background.site_dir / "reference" / "client" / "index.html").read_text(encoding="utf-8")
    signature = re.search(r'<div class="doc-signature[^"]*"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert signature is not None
    assert signature.group(1).count('id="__codelineno') >= 4, "AsyncTelnyx's signature is on one line"
    blocks = [re.sub("<[^>]+>", "", b) for b in re.findall(r'<div class="highlight">(.*?)</div>', html, re.DOTALL)]
    assert any(b.startswith("async with AsyncTelnyx() as client:") for b in blocks), "AsyncTelnyx's example is prose"
