"""Rate-aware scheduling: against the emulator's rate-limit mode (loose margins), and with fakes (exact)."""

from __future__ import annotations

import asyncio
import time

import pytest
from multidict import CIMultiDict

import telnyx_ai._http.retry as retry_module
from telnyx_ai import AsyncTelnyx, EmbedManyError, RateController, RateLimitError
from telnyx_ai._batch.engine import EmbedJob, embed_all
from telnyx_ai._batch.rate_control import rate_limit_hint
from telnyx_ai._errors import ResponseInfo
from telnyx_ai.testing import MockServer, expected_embedding

MODEL = "thenlper/gte-large"
PATH = "/ai/openai/embeddings"


async def run_job(server: MockServer, inputs: int, **kwargs: object) -> tuple[float, list[list[float]]]:
    texts = [f"input {n}" for n in range(inputs)]
    async with AsyncTelnyx(api_key="test", base_url=server.url) as client:
        started = time.perf_counter()
        vectors = await client.ai.openai.embeddings.embed_many(texts, model=MODEL, dimensions=8, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
    assert vectors == [expected_embedding(t, MODEL, 8) for t in texts]
    return elapsed, vectors


@pytest.mark.parametrize("concurrency", [None, 512])
async def test_the_job_runs_near_the_servers_rate_with_few_429s(concurrency: int | None) -> None:
    # 160 requests at 80/s with 0.1 s each: ideal 2 s. Exact figures are the benchmark's; these margins
    # only catch a scheduler that ignores the limit (the old one: a herd of 429s) or never reaches it.
    async with MockServer() as server:
        limiter = server.set_rate_limit(80, latency=0.1, retry_after=None, headers=False, path=PATH)
        elapsed, _ = await run_job(server, 160 * 8, batch_size=8, concurrency=concurrency)
    total = limiter.accepted + limiter.refused
    assert limiter.accepted == 160
    assert limiter.refused / total < 0.15, f"{limiter.refused} of {total} requests answered 429"
    assert elapsed < 2.0 * 1.8, f"{elapsed:.2f} s for an ideal of 2 s"


async def test_a_ceiling_below_rate_times_latency_is_used_fully_without_429s() -> None:
    # 4 in flight at 0.1 s each: at most 40 requests/s, under the 200/s limit, so the ceiling binds.
    async with MockServer() as server:
        limiter = server.set_rate_limit(200, latency=0.1, retry_after=None, path=PATH)
        elapsed, _ = await run_job(server, 60 * 4, batch_size=4, concurrency=4)
    assert limiter.refused == 0
    assert server.peak_concurrency <= 4
    assert elapsed < 1.5 * 1.8, f"{elapsed:.2f} s for an ideal of 1.5 s"


async def test_the_rate_follows_a_drop_while_the_job_runs() -> None:
    async with MockServer() as server:
        limiter = server.set_rate_limit(100, latency=0.05, retry_after=None, headers=False, path=PATH)
        rate = RateController()

        async def drop() -> None:
            await asyncio.sleep(1.0)
            limiter.set_rate(25)

        dropping = asyncio.create_task(drop())
        await run_job(server, 180 * 4, batch_size=4, rate=rate)
        await dropping
    late = [refused for start, _, refused in limiter.throughput(1.0) if start >= 3.0]
    assert rate.ceiling_rate is not None and rate.ceiling_rate < 40, f"the pace came down with the limit: {rate}"
    assert sum(late) <= 4, f"429s per second after the drop: {limiter.throughput(1.0)}"


def test_a_429_cuts_once_per_epoch_and_the_pace_climbs_back() -> None:
    now = [0.0]
    rate = RateController()
    rate.clock = lambda: now[0]
    rate.slow_start, rate.rate = False, 100.0
    rate.throttled(0)
    assert rate.rate == pytest.approx(85.0) and rate.epoch == 1
    now[0] += 1.0
    rate.throttled(0)  # sent before the cut: says nothing about the new rate
    assert rate.rate == pytest.approx(85.0)
    rate.succeeded(0.05)  # answers between the cuts: a stray 429 while climbing back
    rate.throttled(1)
    assert rate.rate == pytest.approx(85.0 * 0.85) and rate.ceiling_rate == pytest.approx(92.5)


def test_in_a_storm_the_pace_decays_keeps_its_ceiling_and_climbs_back_once_answers_return() -> None:
    now = [0.0]
    rate = RateController()
    rate.clock = lambda: now[0]
    rate.throttled(0)  # the first burst refused before any answer: the burst, not the pace
    assert (rate.rate, rate.slow_start, rate.cuts, rate.epoch) == (100.0, True, 0, 1)
    rate.throttled(0)  # the same burst's other 429s: ignored
    assert rate.epoch == 1
    rate.throttled(1)  # a request paced after it: slow start ends at half
    assert (rate.rate, rate.slow_start, rate.ceiling_rate) == (50.0, False, 100.0)
    for _ in range(40):  # nothing answered, every request refused, one cut per round trip
        now[0] += 0.1
        rate.reserve()  # paced sends in between: no climb while nothing is answered
        rate.throttled(rate.epoch)
    assert rate.rate == 0.5, "the pace decayed to its floor"
    assert rate.ceiling_rate == 100.0, "and kept the rate to climb back to"
    rate.succeeded(0.1)
    for _ in range(20):
        now[0] += 0.05
        rate.reserve()
        rate.reserve()
    assert rate.rate > 90.0, f"answers again: the pace climbed straight back ({rate})"


async def test_a_batch_waiting_to_retry_holds_no_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    """One slot: while the refused batch waits out its Retry-After, the others use the slot."""
    waits: list[float] = []
    release = asyncio.Event()

    async def wait(seconds: float) -> None:
        waits.append(seconds)
        await release.wait()

    monkeypatch.setattr(retry_module, "_sleep", wait)
    order: list[str] = []

    async def send(batch: list[str], retry: int = 0, key: str = "") -> object:
        order.append(batch[0])
        if batch[0] == "a" and order.count("a") == 1:
            raise RateLimitError("429", status_code=429, response=_response({"Retry-After": "2"}))
        if batch[0] == "c":
            release.set()  # the others went through while "a" waited
        return _Reply(len(batch))

    vectors = await embed_all(send, ["a", "b", "c"], EmbedJob(batch_size=1, concurrency=1, max_retries=2))  # type: ignore[arg-type]
    assert order == ["a", "b", "c", "a"]
    assert len(vectors) == 3
    assert 2.0 <= waits[0] <= 3.0, "Retry-After honoured, and spread by up to half"


async def test_a_retry_after_longer_than_a_minute_is_honoured_within_a_job(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(retry_module, "_sleep", wait)
    calls = 0

    async def send(batch: list[str], retry: int = 0, key: str = "") -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RateLimitError("429", status_code=429, response=_response({"Retry-After": "90"}))
        return _Reply(len(batch))

    await embed_all(send, ["a"], EmbedJob(max_retries=1))  # type: ignore[arg-type]
    assert 90 <= waits[0] <= 135
    # A single call keeps the one-minute cap.
    assert (
        retry_module.retry_after_seconds(
            RateLimitError("x", status_code=429, response=_response({"Retry-After": "90"}))
        )
        is None
    )


async def test_x_ratelimit_headers_hold_sends_until_the_window_resets() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    rate = RateController(initial_burst=0)
    rate.clock, rate.sleep = (lambda: now[0]), sleep
    rate.advise(rate_limit_hint(CIMultiDict({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0.75"})))
    await rate.turn()
    assert slept == [pytest.approx(0.75)]
    assert rate_limit_hint(CIMultiDict({"x-ratelimit-remaining": "nope", "x-ratelimit-reset": "1"})) is None


async def test_the_emulators_headers_keep_the_job_nearly_free_of_429s() -> None:
    async with MockServer() as server:
        limiter = server.set_rate_limit(60, latency=0.05, retry_after=None, headers=True, path=PATH)
        await run_job(server, 90 * 4, batch_size=4)
    assert limiter.refused / (limiter.accepted + limiter.refused) < 0.15


async def test_bad_rows_from_a_lazy_iterable_cost_only_their_own_index() -> None:
    def rows() -> object:
        for n in range(30):
            yield {5: "", 17: "   ", 23: 42}.get(n, f"row {n}")

    async with MockServer() as server, AsyncTelnyx(api_key="test", base_url=server.url) as client:
        with pytest.raises(EmbedManyError) as info:
            await client.ai.openai.embeddings.embed_many(rows(), model=MODEL, batch_size=4)  # type: ignore[arg-type]
    err = info.value
    assert sorted(err.failed) == [5, 17, 23]
    assert isinstance(err.failed[23], TypeError) and "input 23 is a int" in str(err.failed[23])
    assert isinstance(err.failed[5], ValueError) and "input 5 is empty" in str(err.failed[5])
    assert "input 17 is only whitespace" in str(err.failed[17])
    assert err.results is not None and len(err.results) == 30
    assert all((vector is None) == (n in err.failed) for n, vector in enumerate(err.results))
    assert err.results[29] == expected_embedding("row 29", MODEL)


async def test_a_huge_ceiling_for_three_inputs_starts_three_requests() -> None:
    started: list[int] = []

    async def send(batch: list[str], retry: int = 0, key: str = "") -> object:
        started.append(len(asyncio.all_tasks()))
        return _Reply(len(batch))

    before = len(asyncio.all_tasks())
    vectors = await embed_all(send, ["a", "b", "c"], EmbedJob(batch_size=1, concurrency=100_000))  # type: ignore[arg-type]
    assert len(vectors) == 3 and len(started) == 3
    assert max(started) - before <= 3 + 1, "a task per batch that exists, plus the scheduler"


class _Item:
    def __init__(self, index: int) -> None:
        self.index, self.embedding = index, [float(index)]


class _Reply:
    def __init__(self, size: int) -> None:
        self.data = [_Item(i) for i in range(size)]


def _response(headers: dict[str, str]) -> ResponseInfo:
    return ResponseInfo(status=429, reason="Too Many Requests", headers=CIMultiDict(headers), url="http://x/")


def _steady(rate_per_s: float, ceiling: float) -> tuple[RateController, list[float]]:
    """A controller past slow start at ``rate_per_s`` under ``ceiling``, on a clock the test moves (``now[0]``)."""
    now = [0.0]
    rate = RateController()
    rate.clock = lambda: now[0]
    rate.slow_start, rate.rate, rate.ceiling_rate = False, rate_per_s, ceiling
    return rate, now


def _paced(
    rate: RateController, now: list[float], seconds: float, refuse_above: float | None = None, ahead: int = 1
) -> None:
    """Send at the controller's pace for ``seconds``: each request answered one round trip (0.2 s) later, or
    refused at once when it leaves faster than ``refuse_above`` allows (a token bucket without burst).
    ``ahead`` sends stay booked, each sent when it falls due (as a controller shared by Ray workers books a
    few tens of milliseconds ahead for them)."""
    end, tokens, last = now[0] + seconds, 0.0, now[0]
    booked: list[tuple[float, int]] = []
    answers: list[float] = []
    while now[0] < end:
        while len(booked) < ahead:
            epoch, delay = rate.reserve()
            booked.append((now[0] + delay, epoch))
        due, epoch = booked.pop(0)
        now[0] = max(now[0], due)
        while answers and answers[0] <= now[0]:
            answers.pop(0)
            rate.succeeded(0.2)
        if refuse_above is not None:
            tokens = min(1.0, tokens + (now[0] - last) * refuse_above)
            last = now[0]
            if tokens < 1.0:
                rate.throttled(epoch)
                continue
            tokens -= 1.0
        answers.append(now[0] + 0.2)


def test_a_flood_of_429s_cuts_straight_to_what_the_server_still_accepts() -> None:
    rate, now = _steady(200.0, 210.0)
    _paced(rate, now, 3.0)  # answers at 200/s: the server is seen to accept that
    cuts = rate.cuts
    _paced(rate, now, 0.4, refuse_above=50.0)  # the limit falls to 50/s
    # Answers still arrive at 200/s for a round trip; the share refused says 50 at once.
    assert 40.0 <= rate.rate <= 55.0, rate
    assert rate.cuts - cuts <= 6


def test_a_limit_that_comes_back_is_found_within_a_second_and_climbed_to_in_round_trips() -> None:
    rate, now = _steady(200.0, 210.0)
    _paced(rate, now, 3.0)
    _paced(rate, now, 3.0, refuse_above=50.0)
    assert rate.rate < 60.0
    _paced(rate, now, 1.0)  # the limit is back (no 429 at any pace)
    assert rate.rate > 190.0, f"back at the old rate a second after the limit returned: {rate}"


def test_a_finishing_job_stops_probing_and_stays_under_the_rate_that_failed() -> None:
    rate, now = _steady(200.0, 200.0)
    rate.finishing(True)
    _paced(rate, now, 5.0)
    assert rate.rate <= 200.0, "no probe above the ceiling while finishing"
    _, delay = rate.reserve()
    _, gap = rate.reserve()
    assert gap - delay == pytest.approx(1 / (0.93 * 200.0)), "paced a little under the rate that failed"
    rate.finishing(False)
    _paced(rate, now, 5.0)
    assert rate.rate > 200.0, "probing again once no job is finishing"


def test_a_flood_is_judged_on_the_requests_sent_not_those_booked_ahead() -> None:
    # A shared controller books 20 sends ahead at 200/s (0.1 s). Counted as sent, they would dilute the
    # share refused after a drop to 50/s, and the cut would come late and stop high.
    rate, now = _steady(200.0, 210.0)
    _paced(rate, now, 3.0)
    _paced(rate, now, 0.3, refuse_above=50.0, ahead=20)
    assert rate.rate <= 60.0, rate
