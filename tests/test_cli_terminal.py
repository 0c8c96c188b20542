"""The installed ``telnyx-ai`` entry point, run as a user runs it: in a subprocess, and in a real
terminal (tmux) for the interactive chat, Ctrl-C and Ctrl-D included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from telnyx_ai.testing import MockServer, StreamConfig, expected_reply

ENTRY_POINT = shutil.which("telnyx-ai", path=str(Path(sys.executable).parent))
TMUX = shutil.which("tmux")


def run(*argv: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert ENTRY_POINT is not None, "the package's telnyx-ai entry point is not installed next to this Python"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELNYX_", "PYTEST_"))}
    return subprocess.run(
        [ENTRY_POINT, *argv], input=stdin, capture_output=True, text=True, timeout=60, env={**base, **(env or {})}
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_the_entry_point_streams_a_reply() -> None:
    proc = run("chat", "--local", "hello", "there")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected_reply([{"role": "user", "content": "hello there"}]) + "\n"


def test_the_prompt_can_come_from_stdin() -> None:
    proc = run("chat", "--local", stdin="a question from a pipe\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected_reply([{"role": "user", "content": "a question from a pipe"}]) + "\n"


def test_the_emulators_summary_gets_a_line_of_its_own_even_when_the_command_fails() -> None:
    proc = run("chat", "--local", "--local-faults", "0.4", "hello there")
    summary = [line for line in proc.stderr.splitlines() if line.startswith("local emulator:")]
    assert len(summary) == 1, proc.stderr
    if proc.returncode == 0:
        assert proc.stdout.endswith("hello there\n")
    # An unknown model always fails (422); a tiny fault rate only turns the summary on.
    failing = run("chat", "--local", "--local-faults", "0.001", "--max-retries", "0", "--model", "no/such-model", "hi")
    assert failing.returncode == 1
    assert any(line.startswith("local emulator:") for line in failing.stderr.splitlines()), failing.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["embed", "/no/such/file.txt", "--local"], "error: cannot read /no/such/file.txt: No such file or directory"),
        (
            ["embed", "{source}", "--local", "-o", "/no/such/dir/out.jsonl"],
            "error: cannot write /no/such/dir/out.jsonl",
        ),
        (["embed", "{source}", "--local", "-o", "/dev/full"], "No space left on device"),
        (["embed", "{empty}", "--local"], "has no non-blank lines: nothing to embed"),
        (["embed", "{source}", "--local", "--model", "nope", "--no-progress"], "(line 2:"),
    ],
    ids=["unreadable-input", "unwritable-output", "full-disk", "empty-input", "lines-count-from-1"],
)
def test_ordinary_failures_are_one_line_never_a_traceback(argv: list[str], expected: str, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("\nfirst real line\nsecond\n")  # line 1 is blank: the first input is line 2
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    proc = run(*(arg.format(source=source, empty=empty) for arg in argv))
    assert proc.returncode in (1, 2)
    assert expected in one_line_error(proc)


def test_a_bad_flag_after_a_command_shows_that_commands_usage() -> None:
    proc = run("chat", "--local", "--temprature", "0.2", "hi")
    assert proc.returncode == 2
    assert "usage: telnyx-ai chat" in proc.stderr
    assert "unrecognized arguments: --temprature" in proc.stderr


def test_each_commands_help_mentions_its_new_options() -> None:
    chat_help = run("chat", "--help").stdout
    assert "--temperature" in chat_help and "--max-tokens" in chat_help and "--interactive" in chat_help
    embed_help = run("embed", "--help").stdout
    assert "--resume" in embed_help and "--progress" in embed_help


# -- the interactive chat in a real terminal ----------------------------------------------------


class Tmux:
    """One tmux session running a command; keys in, the screen out."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        assert TMUX is not None, "tmux is not installed (scripts/test installs it)"
        self.name = f"telnyx-ai-{uuid.uuid4().hex[:8]}"
        exports = [f"{k}={v}" for k, v in env.items()]
        subprocess.run(
            [TMUX, "new-session", "-d", "-s", self.name, "-x", "160", "-y", "40", "env", *exports, *command], check=True
        )

    def keys(self, *keys: str) -> None:
        subprocess.run([TMUX, "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(
            [TMUX, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True, check=False
        ).stdout

    def wait_for(self, text: str, *, count: int = 1, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(text) >= count:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear {count}x on the screen:\n{self.screen()}")

    def alive(self) -> bool:
        return subprocess.run([TMUX, "has-session", "-t", self.name], capture_output=True, check=False).returncode == 0

    def kill(self) -> None:
        subprocess.run([TMUX, "kill-session", "-t", self.name], capture_output=True, check=False)


@pytest.fixture
def slow_server() -> Iterator[MockServer]:
    with MockServer.in_thread() as server:
        yield server


def test_an_interactive_conversation_keeps_history_and_survives_ctrl_c(slow_server: MockServer) -> None:
    assert ENTRY_POINT is not None
    env = {"TELNYX_API_KEY": "tmux-key", "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    session = Tmux([ENTRY_POINT, "chat", "-i", "--base-url", slow_server.url], env)
    try:
        session.wait_for("you>")
        session.keys("first question", "Enter")
        session.wait_for("Echo from the local emulator: first question")
        session.wait_for("you>", count=2)

        # A reply slow enough to interrupt: one event every 0.3 s.
        slow_server.stream = StreamConfig(delay=0.3)
        session.keys("tell me a long story please", "Enter")
        session.wait_for("Echo from")  # the first words have arrived
        session.keys("C-c")
        screen = session.wait_for("[stopped]")
        assert "tell me a long story please" not in screen.split("[stopped]")[0].splitlines()[-1]
        session.wait_for("you>", count=3)
        assert session.alive(), "Ctrl-C during a reply ends that reply, not the conversation"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(r.disconnected for r in slow_server.requests):
            time.sleep(0.05)
        assert slow_server.requests[-1].disconnected, "the interrupted reply's connection was dropped"

        slow_server.stream = StreamConfig()
        session.keys("and a third", "Enter")
        session.wait_for("Echo from the local emulator: and a third")
        third = slow_server.requests[-1].json()["messages"]
        assert [m["role"] for m in third] == ["user", "assistant", "user", "assistant", "user"]
        assert third[0]["content"] == "first question" and third[2]["content"] == "tell me a long story please"

        session.wait_for("you>", count=4)
        session.keys("C-d")
        deadline = time.monotonic() + 10
        while session.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not session.alive(), "Ctrl-D at the prompt ends the conversation"
    finally:
        session.kill()
