"""Crash-safe ``telnyx-ai embed -o``: rows on disk as batches finish, a real SIGKILL, ``--resume``, and the library's ``skip``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from telnyx_ai import AsyncTelnyx
from telnyx_ai._batch.sink import JsonlSink
from telnyx_ai._cli.main import main
from telnyx_ai.testing import MockServer, expected_embedding

MODEL = "thenlper/gte-large"
PATH = "/ai/openai/embeddings"


def corpus(path: Path, lines: int) -> list[str]:
    """Write ``lines`` lines, every tenth one blank (blank lines are skipped but keep their numbers)."""
    texts = ["" if n % 10 == 9 else f"line number {n}" for n in range(lines)]
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return texts


def rows_of(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_complete(path: Path, texts: list[str]) -> None:
    rows = rows_of(path)
    wanted = [n for n, text in enumerate(texts) if text]
    assert [row["index"] for row in rows] == wanted, "one row per non-blank line, in input order"
    for row in rows:
        index = row["index"]
        assert isinstance(index, int)
        assert row["text"] == texts[index]
        assert row["embedding"] == expected_embedding(texts[index], MODEL, 8)


def inputs_embedded(server: MockServer) -> list[str]:
    """Every input the server embedded (answered 200), repeats included."""
    return [text for record in server.requests_to(PATH) if record.status == 200 for text in record.json()["input"]]


def test_sigkill_half_way_then_resume_sends_at_most_one_window_twice(tmp_path: Path) -> None:
    source, output = tmp_path / "corpus.txt", tmp_path / "out.jsonl"
    texts = corpus(source, 1000)
    concurrency, batch_size = 4, 10
    with MockServer.in_thread() as server:
        server.set_rate_limit(40, burst=4, latency=0.05, retry_after=None, path=PATH)  # ~2.5 s for the job
        argv = [sys.executable, "-m", "telnyx_ai", "--base-url", server.url, "embed", str(source), "-o", str(output)]
        argv += ["--dimensions", "8", "--batch-size", str(batch_size), "--concurrency", str(concurrency)]
        env = {**os.environ, "TELNYX_API_KEY": "test"}
        child = subprocess.Popen([*argv, "--no-progress"], env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not (output.exists() and output.read_bytes().count(b"\n") >= 300):
                assert child.poll() is None, (
                    f"the job ended before it was killed: {child.stderr and child.stderr.read()!r}"
                )
                assert time.monotonic() < deadline, "the job wrote too few rows in time"
                time.sleep(0.02)
            child.send_signal(signal.SIGKILL)
            assert child.wait(10) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        written = output.read_bytes().count(b"\n")
        assert 300 <= written < 900, "killed half way, with rows already on disk"
        before = len(inputs_embedded(server))

        server.clear_rate_limit()
        resume = [*argv[3:], "--resume", "--no-progress"]
        os.environ["TELNYX_API_KEY"] = "test"
        try:
            assert main(resume) == 0
        finally:
            del os.environ["TELNYX_API_KEY"]
        embedded = inputs_embedded(server)
    assert_complete(output, texts)
    # The resumed run sent only lines with no row yet: what was in flight at the kill, at most.
    resent = len(embedded) - len({*embedded})
    print(f"killed after {written} rows; {resent} inputs embedded twice")
    assert resent <= concurrency * batch_size
    assert len(embedded) - before == 900 - written


def test_a_partial_last_line_is_dropped_and_its_line_embedded_again(tmp_path: Path) -> None:
    source, output = tmp_path / "corpus.txt", tmp_path / "out.jsonl"
    texts = corpus(source, 40)
    row = {"index": 0, "text": texts[0], "embedding": expected_embedding(texts[0], MODEL, 8)}
    output.write_text(json.dumps(row) + "\n" + '{"index": 1, "text": "line number 1", "embeddi', encoding="utf-8")
    with MockServer.in_thread() as server:
        os.environ["TELNYX_API_KEY"] = "test"
        try:
            argv = ["--base-url", server.url, "embed", str(source), "-o", str(output), "--resume"]
            assert main([*argv, "--dimensions", "8", "--batch-size", "7", "--no-progress"]) == 0
        finally:
            del os.environ["TELNYX_API_KEY"]
        sent = inputs_embedded(server)
    assert_complete(output, texts)
    assert texts[0] not in sent and texts[1] in sent


def test_an_unwritable_output_fails_before_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "corpus.txt"
    corpus(source, 5)
    with MockServer.in_thread() as server:
        os.environ["TELNYX_API_KEY"] = "test"
        try:
            code = main(["--base-url", server.url, "embed", str(source), "-o", str(tmp_path), "--no-progress"])
        finally:
            del os.environ["TELNYX_API_KEY"]
        assert code == 2
        assert server.requests == []
    assert capsys.readouterr().err.startswith(f"error: cannot write {tmp_path}")


def test_rows_reach_the_file_while_the_job_runs(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "out.jsonl", resume=False)
    sink.write(3, "three", [0.5])
    # Flushed at once: another reader (or a process that outlives this one) sees the row now.
    assert rows_of(tmp_path / "out.jsonl") == [{"index": 3, "text": "three", "embedding": [0.5]}]
    sink.write(1, "one", [0.25])
    sink.write(3, "three again", [0.5])
    sink.finish()
    assert [row["index"] for row in rows_of(tmp_path / "out.jsonl")] == [1, 3]


async def test_the_library_skips_indices_already_done() -> None:
    texts = [f"text {n}" for n in range(50)]
    done = set(range(0, 50, 2))
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        pairs = {
            index: vector
            async for index, vector in client.ai.openai.embeddings.embed_many_iter(
                texts, model=MODEL, batch_size=8, skip=done
            )
        }
        sent = inputs_embedded(server)
    assert sorted(pairs) == [n for n in range(50) if n not in done]
    assert sorted(sent) == sorted(texts[n] for n in pairs)
    assert all(pairs[n] == expected_embedding(texts[n], MODEL) for n in pairs)


def run_embed(server: MockServer, *argv: str) -> int:
    os.environ["TELNYX_API_KEY"] = "test"
    try:
        return main(["--base-url", server.url, "embed", *argv, "--no-progress"])
    finally:
        del os.environ["TELNYX_API_KEY"]


def test_a_file_with_rows_is_resumed_or_replaced_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, output = tmp_path / "corpus.txt", tmp_path / "out.jsonl"
    texts = corpus(source, 12)
    with MockServer.in_thread() as server:
        assert run_embed(server, str(source), "-o", str(output), "--dimensions", "8") == 0
        before = output.read_bytes()
        capsys.readouterr()
        assert run_embed(server, str(source), "-o", str(output), "--dimensions", "8") == 2
        assert "already has rows: pass --resume" in capsys.readouterr().err
        assert output.read_bytes() == before  # nothing lost
        assert run_embed(server, str(source), "-o", str(output), "--dimensions", "8", "--overwrite") == 0
    assert_complete(output, texts)
    assert all(row["model"] == MODEL for row in rows_of(output))  # rows say which model made them


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("input", "holds another text than"),
        ("dimensions", "vectors are 8 wide, not 16"),
        ("model", "were embedded with thenlper/gte-large, not intfloat/multilingual-e5-large"),
    ],
)
def test_a_resume_of_another_job_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str, problem: str
) -> None:
    source, output = tmp_path / "corpus.txt", tmp_path / "out.jsonl"
    corpus(source, 12)
    with MockServer.in_thread() as server:
        assert run_embed(server, str(source), "-o", str(output), "--dimensions", "8", "--batch-size", "4") == 0
        rows = output.read_text(encoding="utf-8").splitlines()
        output.write_text("\n".join(rows[:5]) + "\n", encoding="utf-8")  # a run that stopped early
        argv = [str(source), "-o", str(output), "--resume", "--dimensions", "8"]
        if change == "input":
            source.write_text("something else entirely\n" * 12, encoding="utf-8")
        elif change == "dimensions":
            argv[-1] = "16"
        else:
            argv += ["--model", "intfloat/multilingual-e5-large"]
        capsys.readouterr()
        requests = len(server.requests)
        assert run_embed(server, *argv) == 2
        assert problem in capsys.readouterr().err and len(server.requests) == requests  # refused before any request
    assert len(output.read_text(encoding="utf-8").splitlines()) == 5  # and the file kept as it was
