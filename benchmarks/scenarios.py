"""The scenarios, and the code that measures one contender in one scenario.

``python -m benchmarks.scenarios JOB_JSON`` runs one job in this (fresh) process and prints
one JSON line: units done, process CPU seconds, wall seconds and peak RSS. The runner starts
one such process per job, so no contender inherits another's heap, imports or connections.
Cold start (scenario 5) is not run here: the runner times each contender's ``cold_start``
source in a bare interpreter (see `cold_start_command`).

Every loop is bounded twice: by its count and by ``time_limit`` seconds; a loop that hits the
time limit stops starting new calls and reports how many it finished (figures are per unit).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import math
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from .contenders import by_name

__all__ = ["SCENARIOS", "Scenario", "cold_start_command", "parse_result", "run_job", "scenario"]


@dataclass(frozen=True)
class Scenario:
    key: str
    number: str
    title: str  # "{n}" is replaced by the scaled count
    kind: Literal["async", "sync", "cold", "derived"]
    op: Literal["embed", "chat", "stream", "responses_stream", "anthropic_stream", ""] = ""
    variant: str = ""  # URL prefix choosing the fixture body (see benchmarks.fixtures)
    count: int = 1  # calls (or chunks, for the stream) at --scale 1
    concurrency: int = 1
    unit: str = "request"
    expect: str = ""  # the key of the expected figure in Fixtures.expected()
    floor: str = "floor"
    source: str = ""  # a derived scenario reads this scenario's samples
    only: tuple[str, ...] = ()  # the contenders that can run it (all of its kind when empty)

    def describe(self, count: int) -> str:
        return self.title.replace("{n}", f"{count:,}")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "embed_seq",
        "1",
        "{n} sequential embeddings (1x1024, floats whatever is asked)",
        "async",
        "embed",
        "",
        2000,
        expect="embed1_sum",
    ),
    Scenario(
        "embed16_seq",
        "1b",
        "{n} sequential embeddings (16x1024 each)",
        "async",
        "embed",
        "/e16",
        200,
        expect="embed16_sum",
    ),
    Scenario(
        "embed16_b64_seq",
        "1c",
        "{n} sequential embeddings (16x1024 each, in base64)",
        "async",
        "embed",
        "/e16b",
        200,
        expect="embed16_base64_sum",
    ),
    Scenario(
        "embed_conc", "2", "{n} embeddings at concurrency 256", "async", "embed", "", 20000, 256, expect="embed1_sum"
    ),
    Scenario("stream", "3", "one chat stream of {n} chunks", "async", "stream", "/sse", 20000, unit="chunk"),
    Scenario(
        "responses_stream",
        "3r",
        "one OpenAI Responses stream of {n} events",
        "async",
        "responses_stream",
        "/sse",
        20000,
        unit="event",
        only=("floor", "telnyx_ai"),
    ),
    Scenario(
        "anthropic_stream",
        "3a",
        "one Anthropic Messages stream of {n} events",
        "async",
        "anthropic_stream",
        "/sse",
        20000,
        unit="event",
        only=("floor", "telnyx_ai"),
    ),
    Scenario("chat_seq", "4", "{n} sequential chat completions", "async", "chat", "", 2000, expect="chat_text_len"),
    Scenario("cold_start", "5", "cold import + first client (fresh process)", "cold", unit="process"),
    Scenario("rss_conc", "6", "peak RSS of scenario 2 (fresh process)", "derived", source="embed_conc"),
    Scenario(
        "sync_seq",
        "7",
        "{n} sequential embeddings, sync client",
        "sync",
        "embed",
        "",
        2000,
        expect="embed1_sum",
        floor="floor_sync",
    ),
)


def scenario(key: str) -> Scenario:
    for sc in SCENARIOS:
        if sc.key == key or sc.number == key:
            return sc
    raise KeyError(f"no scenario {key!r}; known: {', '.join(s.key for s in SCENARIOS)}")


class _Checker:
    """Compares each call's result with the fixture's figure; any mismatch fails the job."""

    def __init__(self, sc: Scenario, expected: dict[str, Any]) -> None:
        self.sc = sc
        self.expected = expected

    def __call__(self, got: Any) -> int:
        """Check one result; return how many units it stands for."""
        sc, exp = self.sc, self.expected
        if sc.op == "stream":
            want = (exp["stream_chunks"], exp["stream_text_len"])
            if tuple(got) != want:
                raise AssertionError(f"stream gave (chunks, text length) {tuple(got)}, expected {want}")
            return int(got[0])
        if sc.op.endswith("_stream"):
            want = (exp[f"{sc.op}_events"], exp[f"{sc.op}_text_len"])
            if tuple(got) != want:
                raise AssertionError(f"{sc.op} gave (events, text length) {tuple(got)}, expected {want}")
            return int(got[0])
        want = exp[sc.expect]
        ok = math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9) if sc.op == "embed" else got == want
        if not ok:
            raise AssertionError(f"{sc.op} gave {got!r}, expected {want!r}")
        return 1


async def _sequential(call: Callable[[], Awaitable[Any]], check: _Checker, count: int, deadline: float) -> int:
    units = 0
    for _ in range(count):
        got = await call()
        units += check(got)
        if time.perf_counter() > deadline:
            break
    return units


async def _concurrent(
    call: Callable[[], Awaitable[Any]], check: _Checker, count: int, concurrency: int, deadline: float
) -> int:
    started = 0
    units = 0

    async def worker() -> None:
        nonlocal started, units
        while started < count and time.perf_counter() < deadline:
            started += 1
            got = await call()  # awaited first: `units += check(await ...)` would read units before the await
            units += check(got)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return units


def _measure(run: Callable[[], int]) -> dict[str, float]:
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    units = run()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"units": units, "cpu_s": cpu, "wall_s": wall}


async def _run_async(sc: Scenario, job: dict[str, Any]) -> dict[str, float]:
    contender = by_name(job["contender"]).load()
    check = _Checker(sc, job["expected"])
    count, concurrency = int(job["count"]), int(job.get("concurrency", sc.concurrency))
    time_limit = float(job["time_limit"])
    call = getattr(contender, sc.op)

    def loop(n: int, deadline: float) -> Awaitable[int]:
        if concurrency > 1:
            return _concurrent(call, check, n, concurrency, deadline)
        return _sequential(call, check, n, deadline)

    if sc.op.endswith("stream"):
        count, warm = int(job.get("streams", 1)), 1  # one whole stream warms up, one is measured; units are its events
    else:
        warm = min(count, concurrency * 2) if concurrency > 1 else min(count, max(5, count // 20))
    warm = int(job.get("warmup", warm))  # fixed by `benchmarks.call_instructions`, so two counts differ only in count
    await contender.open(job["root"], sc.variant, concurrency)
    try:
        await loop(warm, time.perf_counter() + time_limit)  # connections, lazy imports, caches
        gc.collect()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        units = await loop(count, wall0 + time_limit)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        await contender.close()
    return {"units": units, "cpu_s": cpu, "wall_s": wall}


def _run_sync(sc: Scenario, job: dict[str, Any]) -> dict[str, float]:
    contender = by_name(job["contender"]).load()
    check = _Checker(sc, job["expected"])
    count, time_limit = int(job["count"]), float(job["time_limit"])
    contender.open(job["root"], sc.variant, 1)
    try:
        call = contender.embed

        def loop(n: int, deadline: float) -> int:
            units = 0
            for _ in range(n):
                units += check(call())
                if time.perf_counter() > deadline:
                    break
            return units

        loop(int(job.get("warmup", min(count, max(5, count // 20)))), time.perf_counter() + time_limit)
        result = _measure(lambda: loop(count, time.perf_counter() + time_limit))
    finally:
        contender.close()
    return result


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one (scenario, contender) job in this process; the result dict the runner records."""
    sc = scenario(job["scenario"])
    try:
        if sc.kind == "sync":
            result: dict[str, Any] = dict(_run_sync(sc, job))
        elif sc.kind == "async":
            result = dict(asyncio.run(_run_async(sc, job)))
        else:
            raise ValueError(f"scenario {sc.key} is not run by a worker")
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if sc.op.endswith("_stream"):
        result["target"] = job["expected"][f"{sc.op}_events"]
    else:
        result["target"] = job["expected"]["stream_chunks"] if sc.op == "stream" else int(job["count"])
    result["maxrss_kb"] = peak_rss_kb()
    return result


def peak_rss_kb() -> int:
    """The peak RSS of this process image, in KiB.

    Not ru_maxrss: Linux carries the parent's high-water mark across fork and exec into it, so
    a child of a 40 MiB runner could never report less than 40 MiB. VmHWM belongs to the current
    address space only. (Cold-start children run this function's source too.)
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


_COLD_PRELUDE = "import time as _bt\n_bw, _bc = _bt.perf_counter(), _bt.process_time()\n"
_COLD_CODA = (
    "\n_bw, _bc = _bt.perf_counter() - _bw, _bt.process_time() - _bc\n"
    + inspect.getsource(peak_rss_kb)
    + "import json as _bj\n"
    + "print(_bj.dumps({'units': 1, 'target': 1, 'cpu_s': _bc, 'wall_s': _bw, 'maxrss_kb': peak_rss_kb()}))\n"
)


def cold_start_command(python: str, source: str) -> list[str]:
    """A bare interpreter (``-I``: no user site, no cwd on sys.path) timing ``source``."""
    return [python, "-I", "-c", _COLD_PRELUDE + source + _COLD_CODA]


def parse_result(stdout: str) -> dict[str, Any]:
    return dict(json.loads(stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    print(json.dumps(run_job(json.loads(sys.argv[1]))))
