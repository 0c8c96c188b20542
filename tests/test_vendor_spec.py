"""Re-vendoring the contract: one command copies it and prints what changed (run here on v1, then v2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "openapi"
VENDORED = ROOT / "scripts" / "openapi"


def vendor(*args: str) -> str:
    command = [sys.executable, str(ROOT / "scripts" / "vendor_spec.py"), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT, timeout=120).stdout


@pytest.fixture(scope="module")
def v1_to_v2(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("openapi")
    archive = SHARED / "archive"
    first = vendor(
        str(archive / "telnyx-ai-2026-03-25.json"), str(archive / "endpoints-2026-03-25.tsv"), "--out", str(out)
    )
    assert first.splitlines() == [f"wrote {out / 'telnyx-ai.json'} and {out / 'endpoints.tsv'}"]  # nothing to compare
    second = vendor(str(SHARED / "telnyx-ai.json"), str(SHARED / "endpoints.tsv"), "--out", str(out))
    assert (out / "telnyx-ai.json").read_bytes() == (VENDORED / "telnyx-ai.json").read_bytes()
    assert (out / "endpoints.tsv").read_bytes() == (VENDORED / "endpoints.tsv").read_bytes()
    return second.splitlines()


def changes_of(lines: list[str], operation: str) -> list[str]:
    """The indented lines under ``operation`` in the "changed:" section."""
    start = lines.index(next(line for line in lines if line.startswith(f"  {operation}  ")))
    found: list[str] = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        found.append(line.strip())
    return found


def test_the_counts_and_the_added_operations(v1_to_v2: list[str]) -> None:
    assert v1_to_v2[0] == "operations: 95 -> 194 (99 added, 0 removed)"
    added = v1_to_v2[v1_to_v2.index("added:") + 1 : v1_to_v2.index("changed:")]
    assert len(added) == 99
    assert "  POST /ai/openai/responses  client.ai.openai.create_response" in added
    assert "  POST /ai/missions/{mission_id}/runs  client.ai.missions.runs.create" in added


def test_the_breaking_changes_of_v1_operations_are_named(v1_to_v2: list[str]) -> None:
    canary = changes_of(v1_to_v2, "POST /ai/assistants/{assistant_id}/canary-deploys")
    assert {"+ body rules", "- body versions", "+ header Idempotency-Key", "~ reply: its schema changed"} <= set(canary)
    assert "~ body model: required -> optional" in changes_of(v1_to_v2, "POST /ai/assistants")
    chat = changes_of(v1_to_v2, "POST /ai/chat/completions")
    assert chat[0] == "deprecated: no -> yes" and {"+ body seed", "+ body service_tier"} <= set(chat)
    assert "streaming: no -> yes" in changes_of(v1_to_v2, "POST /ai/assistants/{assistant_id}/chat")
    assert changes_of(v1_to_v2, "POST /text-to-speech/speech")[0] == (
        "call path: client.text_to_speech.generate -> client.text_to_speech.generate_speech "
        "(also client.text_to_speech.generate, client.text_to_speech.create_speech)"
    )


def test_an_unchanged_contract_reports_no_change(tmp_path: Path) -> None:
    vendor(str(SHARED / "telnyx-ai.json"), str(SHARED / "endpoints.tsv"), "--out", str(tmp_path))
    again = vendor(str(SHARED / "telnyx-ai.json"), str(SHARED / "endpoints.tsv"), "--out", str(tmp_path))
    assert again.splitlines()[0] == "operations: 194 -> 194 (0 added, 0 removed)"
    assert len(again.splitlines()) == 2
