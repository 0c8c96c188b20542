"""Storms of 429s in a batch job: a passing one loses nothing, a lasting one ends in bounded time with every input
accounted for, and meanwhile the job collapses to one request at a time."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from telnyx_ai import AsyncTelnyx, EmbedManyError, RateLimitError
from telnyx_ai._batch.engine import RATE_LIMIT_TIMEOUT, STALLED_AFTER
from telnyx_ai.testing import Fault, MockServer, expected_embedding

MODEL = "thenlper/gte-large"
PATH = "/ai/openai/embeddings"


def embedded(server: MockServer) -> list[str]:
    """Every input the server embedded (answered 200), repeats included."""
    return [text for record in server.requests_to(PATH) if record.status == 200 for text in record.json()["input"]]


@pytest.mark.parametrize("max_retries", [None, 0])
async def test_a_passing_storm_loses_nothing_and_costs_one_request_per_refusal(max_retries: int | None) -> None:
    # The case: the first 40 answers are 429 with Retry-After: 0. A 429 is pacing, not a failure of
    # the batch: even with max_retries=0 nothing is given up while the job as a whole goes on.
    texts = [f"text {n}" for n in range(400)]
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        server.inject(Fault.status(429, retry_after=0), times=40, path=PATH)
        vectors = await client.ai.openai.embeddings.embed_many(
            texts, model=MODEL, dimensions=8, batch_size=1, concurrency=8, max_retries=max_retries
        )
        statuses = [record.status for record in server.requests_to(PATH)]
        assert vectors == [expected_embedding(text, MODEL, 8) for text in texts]
        assert statuses.count(429) == 40 and statuses.count(200) == 400 and len(statuses) == 440
        assert sorted(embedded(server)) == sorted(texts), "each input embedded exactly once"


class StormServer:
    """A loopback server that answers every request 429 after ``latency`` seconds and notes when each came and went."""

    def __init__(self, latency: float, retry_after: str | None = "0") -> None:
        self.latency, self.retry_after = latency, retry_after
        self.in_flight = 0
        self.arrivals: list[tuple[float, int]] = []  # (when, requests in flight counting this one)
        self.refused_at: list[float] = []

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.in_flight += 1
        self.arrivals.append((time.monotonic(), self.in_flight))
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        self.refused_at.append(time.monotonic())
        body = {"errors": [{"code": "10011", "title": "Too many requests", "detail": "Slow down."}]}
        headers = {} if self.retry_after is None else {"Retry-After": self.retry_after}
        return web.json_response(body, status=429, headers=headers)

    @asynccontextmanager
    async def running(self) -> AsyncGenerator[str, None]:
        app = web.Application()
        app.router.add_post("/ai/openai/embeddings", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            yield f"http://{host}:{port}"
        finally:
            await runner.cleanup()


@pytest.mark.parametrize("retry_after", ["0", None])
async def test_a_lasting_storm_ends_in_bounded_time_with_every_input_failed_and_one_request_at_a_time(
    retry_after: str | None,
) -> None:
    # With no Retry-After, a refused batch goes back to the queue at once: the pace (decaying) is its backoff.
    storm = StormServer(latency=0.1, retry_after=retry_after)
    texts = [f"text {n}" for n in range(200)]
    async with storm.running() as url, AsyncTelnyx(api_key="test", base_url=url) as client:
        started = time.monotonic()
        with pytest.raises(EmbedManyError) as info:
            await client.ai.openai.embeddings.embed_many(
                texts, model=MODEL, batch_size=1, concurrency=16, rate_limit_timeout=2.5
            )
        elapsed = time.monotonic() - started
    error = info.value
    assert sorted(error.failed) == list(range(200)), "every input accounted for"
    assert error.results == [None] * 200
    assert all(isinstance(cause, RateLimitError) and cause.status_code == 429 for cause in error.failed.values())
    assert "no batch succeeded for 2.5 s while the server answered 429" in str(error)
    # Bounded: it gives up at the deadline (the lower bound), not after the inputs ran out (a loose upper
    # bound: a busy machine only delays it).
    assert 2.5 <= elapsed < 2.5 + 10.0, f"gave up {elapsed:.2f} s after the start, for a rate_limit_timeout of 2.5 s"
    # Before the storm was known, up to 16 in flight; STALLED_AFTER into it (plus one refusal's latency),
    # one at a time.
    early = max(count for _, count in storm.arrivals)
    collapsed_from = storm.refused_at[0] + STALLED_AFTER + storm.latency + 0.05
    late = [count for when, count in storm.arrivals if when >= collapsed_from]
    assert early > 1, "the job did start several requests at once"
    assert late and max(late) == 1, f"in flight after the first 429s: {[c for _, c in storm.arrivals]}"
    assert len(storm.arrivals) < 200, "not a request per input: most inputs were never sent"


async def test_the_deadline_counts_from_the_last_success_and_keeps_what_succeeded() -> None:
    # A bucket of 5 tokens that never refills: 5 requests succeed, then every one is refused. Its headers say
    # so too (x-ratelimit-limit: 1e-06), so the job paces one request per 10 s: giving up cuts that wait short.
    texts = [f"text {n}" for n in range(60)]
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        server.set_rate_limit(1e-6, burst=5, retry_after=0, path=PATH)
        got: dict[int, list[float]] = {}
        started = time.monotonic()
        with pytest.raises(EmbedManyError) as info:
            async for index, vector in client.ai.openai.embeddings.embed_many_iter(
                texts, model=MODEL, dimensions=8, batch_size=2, concurrency=1, rate_limit_timeout=1.0
            ):
                got[index] = vector
        elapsed = time.monotonic() - started
        assert len(embedded(server)) == 10
    assert sorted(got) == sorted(set(range(60)) - set(info.value.failed)), "every input once: yielded or failed"
    assert len(got) == 10 and all(got[i] == expected_embedding(texts[i], MODEL, 8) for i in got)
    assert 1.0 <= elapsed < 10.0, elapsed  # the 10 s pace is cut short at the 1 s deadline


async def test_a_retry_after_longer_than_the_timeout_does_not_keep_the_job_waiting() -> None:
    texts = [f"text {n}" for n in range(20)]
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        server.inject(Fault.status(429, retry_after=30), times=1000, path=PATH)
        started = time.monotonic()
        with pytest.raises(EmbedManyError) as info:
            await client.ai.openai.embeddings.embed_many(
                texts, model=MODEL, batch_size=4, concurrency=2, rate_limit_timeout=0.5
            )
        elapsed = time.monotonic() - started
        sent = len(server.requests_to(PATH))
    assert sorted(info.value.failed) == list(range(20))
    assert elapsed < 15.0, f"the job waited {elapsed:.1f} s: the deadline, not the 30 s Retry-After, ends it"
    assert sent <= 8, "each batch is sent at most once: its retry would come after the deadline"


async def test_a_bad_rate_limit_timeout_fails_before_any_request() -> None:
    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        embeddings = client.ai.openai.embeddings
        for bad in (0, -1.0):
            with pytest.raises(ValueError, match="rate_limit_timeout must be a positive number of seconds"):
                await embeddings.embed_many(["a"], model=MODEL, rate_limit_timeout=bad)
        with pytest.raises(TypeError, match="rate_limit_timeout"):
            await embeddings.embed_many(["a"], model=MODEL, rate_limit_timeout="10")  # type: ignore[call-overload]
        assert server.requests_to(PATH) == []
    assert RATE_LIMIT_TIMEOUT == 600.0, "the default the docs state"


def test_the_cli_gives_up_on_a_storm_and_resume_sends_only_the_rest(tmp_path: Path) -> None:
    # `telnyx-ai embed -o` against a server whose bucket empties after 5 requests: the job gives up
    # rate_limit_timeout after the last success, the file keeps the 5 rows; --resume sends only the rest, once.
    source, output = tmp_path / "corpus.txt", tmp_path / "out.jsonl"
    texts = [f"line number {n}" for n in range(40)]
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    with MockServer.in_thread() as server:
        server.set_rate_limit(1e-6, burst=5, retry_after=0, path=PATH)
        argv = [sys.executable, "-m", "telnyx_ai", "--base-url", server.url, "embed", str(source), "-o", str(output)]
        argv += ["--dimensions", "8", "--batch-size", "2", "--concurrency", "2", "--no-progress"]
        env = {**os.environ, "TELNYX_API_KEY": "test"}
        first = subprocess.run([*argv, "--rate-limit-timeout", "0.5"], env=env, capture_output=True, text=True)
        assert first.returncode == 1, first.stderr
        assert "30 of 40 inputs could not be embedded" in first.stderr and "--resume" in first.stderr
        assert "rate_limit_timeout" in first.stderr
        kept = output.read_text(encoding="utf-8").splitlines()
        assert len(kept) == 10

        server.clear_rate_limit()
        second = subprocess.run([*argv, "--resume"], env=env, capture_output=True, text=True)
        assert second.returncode == 0, second.stderr
        assert sorted(embedded(server)) == sorted(texts), "every line embedded once over both runs"
    rows: list[dict[str, Any]] = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [row["index"] for row in rows] == list(range(40)), "one row per line, in order"
    assert all(row["embedding"] == expected_embedding(texts[row["index"]], MODEL, 8) for row in rows)
