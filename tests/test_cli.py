"""The ``telnyx-ai`` command, run in-process through `main(argv)` (and once as a real process)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from telnyx_ai._cli import main as cli_main
from telnyx_ai._cli.main import main
from telnyx_ai.testing import (
    CHAT_MODELS,
    EMBEDDING_MODELS,
    Fault,
    MockServer,
    expected_embedding,
    expected_reply,
    reply_pieces,
)


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    monkeypatch.delenv("TELNYX_BASE_URL", raising=False)


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockServer]:
    """An emulator standing in for the real API: the CLI reaches it with a key and --base-url."""
    monkeypatch.setenv("TELNYX_API_KEY", "cli-key")
    with MockServer.in_thread() as server:
        yield server


class _Terminal(io.StringIO):
    """stdout that remembers what each flush pushed out."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []
        self._mark = 0

    def flush(self) -> None:
        self.flushed.append(self.getvalue()[self._mark :])
        self._mark = len(self.getvalue())


def test_chat_streams_the_reply_token_by_token(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)

    assert main(["chat", "--local", "Hello", "there"]) == 0

    reply = expected_reply([{"role": "user", "content": "Hello there"}])
    assert terminal.getvalue() == reply + "\n"
    assert terminal.flushed[: len(reply_pieces(reply))] == reply_pieces(reply)


def test_chat_json_prints_the_accumulated_completion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--local", "chat", "--json", "--system", "Be brief.", "--model", CHAT_MODELS[1], "Hi"]) == 0

    result = json.loads(capsys.readouterr().out)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert result["choices"][0]["message"] == {"role": "assistant", "content": expected_reply(messages)}
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["model"] == CHAT_MODELS[1] and result["usage"]["total_tokens"] > 0


def test_chat_sends_system_model_and_key(remote: MockServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--base-url", remote.url, "--model", CHAT_MODELS[2], "--system", "S", "Q"]) == 0

    [request] = remote.requests
    assert request.headers["Authorization"] == "Bearer cli-key"
    assert request.json() == {
        "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}],
        "model": CHAT_MODELS[2],
        "stream": True,
    }


def test_models_lists_chat_and_embedding_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--local"]) == 0
    assert "meta-llama/Meta-Llama-3.1-8B-Instruct\n" in capsys.readouterr().out

    assert main(["models", "--local", "--embedding"]) == 0
    assert capsys.readouterr().out.splitlines() == list(EMBEDDING_MODELS)


def test_embed_writes_jsonl_in_input_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [f"line {i} ü" for i in range(11)]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines[:5]) + "\n\n" + "\n".join(lines[5:]) + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    model = "sentence-transformers/all-MiniLM-L6-v2"

    argv = ["embed", str(source), "--local", "--model", model, "--batch-size", "2", "--concurrency", "3"]
    assert main([*argv, "-o", str(target), "--progress"]) == 0  # stderr is no terminal here: ask for the bar

    rows = [json.loads(row) for row in target.read_text(encoding="utf-8").splitlines()]
    assert [row["text"] for row in rows] == lines
    assert [row["index"] for row in rows] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]  # line numbers; blank skipped
    assert all(row["embedding"] == expected_embedding(row["text"], model) for row in rows)
    assert "11/11" in capsys.readouterr().err  # the progress bar, on stderr

    assert main([*argv, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(row) for row in captured.out.splitlines()] == rows
    assert captured.err == ""


def test_embed_against_a_faulty_server_writes_every_line_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import telnyx_ai._http.retry as retry_module

    monkeypatch.setattr(retry_module, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(retry_module, "MAX_DELAY", 0.05)
    texts = [f"line {i}" for i in range(1000)]
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(texts) + "\n")
    output = tmp_path / "out.jsonl"
    with MockServer.in_thread() as server:
        server.set_fault_rates({Fault.status(503, html=True): 0.1, Fault.status(429, retry_after=0): 0.1}, seed=7)
        monkeypatch.setenv("TELNYX_API_KEY", "test")
        argv = [
            "--base-url",
            server.url,
            "--max-retries",
            "10",
            "embed",
            str(source),
            "--batch-size",
            "10",
            "--concurrency",
            "16",
            "-o",
            str(output),
            "--progress",
        ]
        assert main(argv) == 0
        assert sum(server.fault_counts.values()) > 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["index"] for row in rows] == list(range(1000))
    assert all(row["embedding"] == expected_embedding(row["text"], "thenlper/gte-large") for row in rows)
    err = capsys.readouterr().err
    assert "1000/1000" in err
    assert "retries (last " in err, "retries show on the progress line"


def test_embed_keeps_what_succeeded_when_some_lines_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(f"line {i}" for i in range(30)) + "\n")
    output = tmp_path / "out.jsonl"
    with MockServer.in_thread() as server:
        # A 500 with no retries fails its batch (a 400 would be halved until the input at fault is alone).
        server.inject(Fault.status(500), times=1, path="/ai/openai/embeddings")
        monkeypatch.setenv("TELNYX_API_KEY", "test")
        argv = [
            "--base-url",
            server.url,
            "--max-retries",
            "0",
            "embed",
            str(source),
            "--batch-size",
            "10",
            "--concurrency",
            "1",
            "--no-progress",
            "-o",
            str(output),
        ]
        assert main(argv) == 1
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["index"] for row in rows] == list(range(10, 30))
    err = capsys.readouterr().err
    assert "10 of 30 inputs could not be embedded" in err
    assert err.count("\n") == 1


def test_missing_key_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "Hello"]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TELNYX_API_KEY" in err and "--local" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.status(429), "error: 429 Too many requests: The emulator injected a 429"),
        (Fault.status(502, html=True), "error: 502 Bad Gateway — the API had a problem"),
    ],
)
def test_api_errors_are_one_clear_line(
    remote: MockServer, capsys: pytest.CaptureFixture[str], fault: Fault, expected: str
) -> None:
    remote.inject(fault)
    assert main(["models", "--base-url", remote.url, "--max-retries", "0"]) == 1

    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1


def test_rate_limit_advice_and_bad_model(
    remote: MockServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "in.txt"
    source.write_text("a\n", encoding="utf-8")
    remote.inject(Fault.status(429, retry_after=0), times=1000)  # a 429 is retried until --rate-limit-timeout
    argv = ["embed", str(source), "--base-url", remote.url, "--rate-limit-timeout", "0.3", "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "no batch succeeded for 0.3 s while the server answered 429" in err and "--resume" in err
    remote.clear_faults()

    assert main(["embed", str(source), "--local", "--model", "nope", "--no-progress"]) == 1
    assert "422 Unprocessable Entity: body.model: Unknown embedding model 'nope'" in capsys.readouterr().err


def test_unreachable_api_and_unreadable_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", "k")
    with MockServer.in_thread() as server:
        url = server.url
    assert main(["models", "--base-url", url, "--max-retries", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Could not reach") and "check your network connection" in err

    assert main(["embed", "/nonexistent/input.txt", "--local"]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read /nonexistent/input.txt")


def test_ctrl_c_exits_130_quietly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    async def interrupted(args: Any, out: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli_main._COMMANDS, "chat", interrupted)  # pyright: ignore[reportPrivateUsage]
    assert main(["chat", "--local", "Hi"]) == 130
    assert capsys.readouterr() == ("", "")


def test_python_m_telnyx_ai_runs_as_a_process() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELNYX_API_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "telnyx_ai", "chat", "--local", "Hello"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == expected_reply([{"role": "user", "content": "Hello"}]) + "\n"


def test_local_faults_report_what_was_injected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(f"line {i}" for i in range(300)) + "\n")
    output = tmp_path / "out.jsonl"
    assert (
        main(
            [
                "embed",
                "--local",
                "--local-faults",
                "0.3",
                str(source),
                "--batch-size",
                "5",
                "--no-progress",
                "-o",
                str(output),
            ]
        )
        == 0
    )
    assert len(output.read_text().splitlines()) == 300
    err = capsys.readouterr().err
    assert "faults injected:" in err
    assert "none" not in err
    assert main(["embed", "--local-faults", "0.3", str(source)]) == 2
    assert "only applies with --local" in capsys.readouterr().err


def test_chat_sends_temperature_and_max_tokens(remote: MockServer, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["chat", "--base-url", remote.url, "--temperature", "0.2", "--max-tokens", "50", "Q"]
    assert main(argv) == 0
    [request] = remote.requests
    assert request.json()["temperature"] == 0.2 and request.json()["max_tokens"] == 50
