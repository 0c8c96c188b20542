"""Many streams at once: 1,000 concurrent chat streams of 200 paced chunks each (issue 22, item 5).

``python -m benchmarks.many_streams [--streams N] [--chunks N] [--interval S] [--repeats N] [--only NAME,...]
[--out DIR]`` starts `benchmarks.paced_server` in a child process (pinned to cpu 0 when there are two), then
runs each contender in a fresh process (pinned to cpu 1): the floor (aiohttp + msgspec, no read timeout), the
floor with the SDK's timeouts, the floor re-framing the chunks as SSE (what ``to_sse`` does), telnyx_ai with
``async for`` and through ``to_sse()``, and openai-python (when installed). Repeats are interleaved.

Each job warms up on a few short streams, then opens all the streams at once twice: first on new
connections (round 1: its peak RSS over the RSS before it, divided by the streams, is the RSS per open
stream), then on the connections the first round left in the pool (round 2: the steady state of a backend;
its CPU per chunk and time to first chunk are the ones reported). Time to first chunk runs from the moment the
streams are started to each one's first chunk in the consumer's hands. Every stream's chunk count (and, with
``async for``, its text length) is checked. The server reports how late its chunks went out; the client's lag
is how much longer than its schedule a stream took from its first chunk to its end: a row where either is
large did not run as paced.
Writes ``many_streams.json`` and appends its table to ``results.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .contenders import by_name, unavailable
from .fixtures import stream_events

__all__ = ["CONTENDERS", "expected", "main", "markdown", "measure", "run", "summarize"]

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
WARM_STREAMS = 8
WARM_CHUNKS = 3

CONTENDERS: dict[str, tuple[str, str, str]] = {
    # name: (contender in benchmarks.contenders, how the stream is read, label)
    "floor": ("floor", "stream", "floor: aiohttp + msgspec, async for"),
    "floor_timeouts": ("floor_timeouts", "stream", "floor with the SDK's timeouts"),
    "floor_sse": ("floor", "relay", "floor re-framed as SSE"),
    "telnyx_ai": ("telnyx_ai", "stream", "telnyx_ai, async for"),
    "telnyx_ai_sse": ("telnyx_ai", "relay", "telnyx_ai, to_sse()"),
    "telnyx_ai_256k": ("telnyx_ai_256k", "stream", "telnyx_ai with asyncio's 256 KiB reads, async for"),
    "openai": ("openai", "stream", "openai-python (httpx), async for"),
    "openai_aiohttp": ("openai_aiohttp", "stream", "openai-python (aiohttp), async for"),
}
FLOOR = "floor"


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    """Start VmHWM again from the current RSS (Linux: ``clear_refs`` 5); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


class _PeakSampler:
    """Where VmHWM cannot be reset: the highest VmRSS seen every 20 ms on the loop."""

    def __init__(self) -> None:
        self.peak = _status_kb("VmRSS")
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self.peak = max(self.peak, _status_kb("VmRSS"))
        self._handle = asyncio.get_running_loop().call_later(0.02, self.start)

    def stop(self) -> int:
        if self._handle is not None:
            self._handle.cancel()
        return max(self.peak, _status_kb("VmRSS"))


async def _round(read: Callable[..., Awaitable[tuple[int, int]]], streams: int, limit: float) -> dict[str, Any]:
    """All the streams at once; per stream its time to first chunk, the time from then to its end, and
    (chunks, length)."""
    gc.collect()
    exact = _reset_peak_rss()
    sampler = None if exact else _PeakSampler()
    if sampler is not None:
        sampler.start()
    rss_before = _status_kb("VmRSS")
    firsts: list[float] = []
    spans: list[float] = []  # each stream's first chunk to its end
    pauses: list[tuple[float, float]] = []  # each garbage collection: (its start from t0, its seconds)
    began: list[float] = []

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began.append(time.perf_counter())
        elif began:
            start = began.pop()
            pauses.append((start - t0, time.perf_counter() - start))

    cpu0, t0 = time.process_time(), time.perf_counter()

    async def one() -> tuple[int, int]:
        started: list[float] = []

        def first() -> None:
            started.append(time.perf_counter())
            firsts.append(started[0] - t0)

        got = await read(first)
        spans.append(time.perf_counter() - started[0])
        return got

    gc.callbacks.append(on_collection)
    try:
        tasks = [asyncio.ensure_future(one()) for _ in range(streams)]
        done, pending = await asyncio.wait(tasks, timeout=limit)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        gc.callbacks.remove(on_collection)
    peak = sampler.stop() if sampler is not None else _status_kb("VmHWM")
    results = [task.result() for task in done]  # a failed stream fails the job
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "finished": len(results),
        "results": sorted(set(results)),
        "chunks": sum(r[0] for r in results),
        "ttfc_s": sorted(firsts),
        "span_s": sorted(spans),
        "gc_pauses_s": pauses,
        "rss_before_kb": rss_before,
        "rss_peak_kb": peak,
        "exact_peak": exact,
    }


async def _job(name: str, root: str, streams: int, chunks: int, interval: float) -> dict[str, Any]:
    contender_name, how, _ = CONTENDERS[name]
    spec = by_name(contender_name)
    warm = spec.load()
    await warm.open(root, f"/chunks/{WARM_CHUNKS}", WARM_STREAMS)  # lazy imports, first calls, caches
    await asyncio.gather(*(getattr(warm, how)() for _ in range(WARM_STREAMS)))
    await warm.close()
    contender = spec.load()
    await contender.open(root, f"/chunks/{chunks}", streams)
    read = getattr(contender, how)
    limit = chunks * interval * 6 + 30
    try:
        rounds = [await _round(read, streams, limit) for _ in range(2)]
    finally:
        await contender.close()
    return {"name": name, "rounds": rounds}


def measure(name: str, root: str, streams: int, chunks: int, interval: float) -> dict[str, Any]:
    """One contender's job in this process (``--job`` runs it in a fresh one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, streams * 2 + 256)), hard))
    return asyncio.run(_job(name, root, streams, chunks, interval))


def _server_stats(root: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{root}/stats", timeout=30) as answer:
        return dict(json.loads(answer.read()))


def _pinned(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if (os.cpu_count() or 1) >= 2 and _has("taskset") else []


def _has(program: str) -> bool:
    return any((Path(d) / program).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


def _available(name: str) -> str | None:
    return unavailable(by_name(CONTENDERS[name][0]))


def run(
    *,
    streams: int,
    chunks: int,
    interval: float,
    repeats: int,
    names: list[str],
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Start the paced server, run every contender ``repeats`` times (interleaved); the raw results."""
    command = [*_pinned(0), sys.executable, "-m", "benchmarks.paced_server", "--interval", str(interval)]
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    jobs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    try:
        assert server.stdout is not None
        root = server.stdout.readline().strip()
        if not root.startswith("http://"):
            raise SystemExit("the paced server did not start")
        for repeat in range(repeats):
            shift = repeat % len(names)
            for name in names[shift:] + names[:shift]:
                _server_stats(root)  # starts the server's count for this job
                args = [name, root, str(streams), str(chunks), str(interval)]
                job = [*_pinned(1), sys.executable, "-m", "benchmarks.many_streams", "--job", *args]
                timeout = 2 * (chunks * interval * 6 + 30) + 120
                done = subprocess.run(job, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)
                if done.returncode != 0:
                    result: dict[str, Any] = {"name": name, "error": done.stderr.strip().splitlines()[-1:]}
                else:
                    result = json.loads(done.stdout.strip().splitlines()[-1])
                result["server"] = _server_stats(root)
                jobs[name].append(result)
                log(f"[{repeat + 1}/{repeats}] {name:15s} {_describe(result, streams, chunks, interval)}")
    finally:
        server.terminate()
        server.wait(10)
    return {
        "streams": streams,
        "chunks": chunks,
        "interval_s": interval,
        "repeats": repeats,
        "jobs": jobs,
    }


def expected(how: str, chunks: int) -> tuple[int, int]:
    """What each stream must give: (chunks, text length) read with ``async for``, (chunks, bytes) relayed."""
    frames, text_len = stream_events(chunks)
    return (chunks, text_len) if how == "stream" else (chunks, len(b"".join(frames)))


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def _figures(job: dict[str, Any], streams: int, chunks: int, interval: float) -> dict[str, float]:
    """One job's figures: steady-state CPU per chunk and time to first chunk, RSS per stream on new connections."""
    fresh, steady = job["rounds"]
    want = expected(CONTENDERS[job["name"]][1], chunks)
    for number, round_ in enumerate(job["rounds"], 1):
        got = {tuple(r) for r in round_["results"]}
        if round_["finished"] < streams or got != {want}:
            raise ValueError(
                f"round {number}: {round_['finished']}/{streams} streams finished with {sorted(got)}, expected {want}"
            )
    schedule = (chunks - 1) * interval
    p99 = _quantile(steady["ttfc_s"], 0.99)
    pauses = steady.get("gc_pauses_s", [])
    return {
        "cpu_us_per_chunk": steady["cpu_s"] / max(steady["chunks"], 1) * 1e6,
        "ttfc_p50_ms": _quantile(steady["ttfc_s"], 0.5) * 1e3,
        "ttfc_p99_ms": p99 * 1e3,
        "gc_to_p99_ms": sum(seconds for start, seconds in pauses if start < p99) * 1e3,
        "gc_ms": sum(seconds for _, seconds in pauses) * 1e3,
        "rss_kb_per_stream": (fresh["rss_peak_kb"] - fresh["rss_before_kb"]) / streams,
        "lag_p99_ms": (_quantile(steady["span_s"], 0.99) - schedule) * 1e3,
        "fresh_cpu_us_per_chunk": fresh["cpu_s"] / max(fresh["chunks"], 1) * 1e6,
        "fresh_ttfc_p99_ms": _quantile(fresh["ttfc_s"], 0.99) * 1e3,
        "server_late_p99_ms": float(job["server"]["late_p99_ms"]),
    }


def _describe(job: dict[str, Any], streams: int, chunks: int, interval: float) -> str:
    if "error" in job:
        return f"ERROR {job['error']}"
    try:
        f = _figures(job, streams, chunks, interval)
    except ValueError as exc:
        return f"CHECK FAILED {exc}"
    return (
        f"{f['cpu_us_per_chunk']:6.1f} us cpu/chunk  ttfc p50 {f['ttfc_p50_ms']:7.1f} ms p99 {f['ttfc_p99_ms']:7.1f} ms"
        f"  {f['rss_kb_per_stream']:6.1f} KiB/stream  lag p99 {f['lag_p99_ms']:7.1f} ms"
        f"  server late p99 {f['server_late_p99_ms']:.1f} ms  gc {f['gc_to_p99_ms']:.0f}/{f['gc_ms']:.0f} ms"
    )


_METRICS = (
    "cpu_us_per_chunk",
    "ttfc_p50_ms",
    "ttfc_p99_ms",
    "rss_kb_per_stream",
    "lag_p99_ms",
    "server_late_p99_ms",
    "gc_to_p99_ms",
    "gc_ms",
)


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Medians over repeats per contender, and each as a ratio to the floor's and to openai-python's."""
    streams, chunks, interval = raw["streams"], raw["chunks"], raw["interval_s"]
    rows: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for name, jobs in raw["jobs"].items():
        figures: list[dict[str, float]] = []
        for job in jobs:
            if "error" in job:
                errors.append(f"{name}: {job['error']}")
                continue
            try:
                figures.append(_figures(job, streams, chunks, interval))
            except ValueError as exc:
                errors.append(f"{name}: {exc}")
        if figures:
            rows[name] = {m: statistics.median(f[m] for f in figures) for m in _METRICS} | {"runs": len(figures)}
    for row in rows.values():
        for other in (FLOOR, "openai"):
            base = rows.get(other)
            for metric in ("cpu_us_per_chunk", "ttfc_p50_ms", "ttfc_p99_ms", "rss_kb_per_stream"):
                value = base[metric] if base else 0.0
                row[f"{metric}_x_{other}"] = row[metric] / value if value > 0 else None
    return {**{k: v for k, v in raw.items() if k != "jobs"}, "rows": rows, "errors": errors}


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def markdown(summary: dict[str, Any]) -> str:
    streams, chunks, interval = summary["streams"], summary["chunks"], summary["interval_s"]
    lines = [
        "",
        f"## Many streams: {streams:,} concurrent chat streams of {chunks} chunks, {interval * 1e3:g} ms apart",
        "",
        f"`python -m benchmarks.many_streams --streams {streams} --chunks {chunks} --interval {interval:g}"
        f" --repeats {summary['repeats']}`: medians of {summary['repeats']} interleaved repeats. CPU per chunk and",
        "time to first chunk (TTFC, from starting all the streams) on pooled connections; RSS per open stream:",
        "peak RSS over the RSS before, divided by the streams, on new connections. x floor: against aiohttp +",
        "msgspec with `async for` in the same run; x openai: against openai-python (httpx). Lag p99: how much",
        "longer than its schedule (chunks - 1 intervals) a stream took from its first chunk to its end, 99th",
        "percentile: near 0 if the client kept up. Server late p99: how late the server's chunks went out; a",
        "row where either is large did not run as paced. GC ms: the time the client spent in Python's garbage",
        "collector before the p99 first chunk / in the whole round (it is part of both figures, and it swings",
        "from run to run: see `issue22-costs.md`). Targets (issue 22): CPU <= 1.2x floor (1.3x via to_sse),",
        "RSS <= 1.3x, p99 TTFC <= 1.2x.",
        "",
        "| contender | CPU µs/chunk | x floor | x openai | TTFC p50 ms | p99 ms | p99 x floor | p99 x openai"
        " | RSS KiB/stream | x floor | x openai | lag p99 ms | server late p99 ms | GC ms to p99 / all |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in summary["rows"].items():
        lines.append(
            f"| {CONTENDERS[name][2]} | {row['cpu_us_per_chunk']:.1f} | {_x(row['cpu_us_per_chunk_x_floor'])}"
            f" | {_x(row['cpu_us_per_chunk_x_openai'])} | {row['ttfc_p50_ms']:.1f} | {row['ttfc_p99_ms']:.1f}"
            f" | {_x(row['ttfc_p99_ms_x_floor'])} | {_x(row['ttfc_p99_ms_x_openai'])}"
            f" | {row['rss_kb_per_stream']:.1f} | {_x(row['rss_kb_per_stream_x_floor'])}"
            f" | {_x(row['rss_kb_per_stream_x_openai'])} | {row['lag_p99_ms']:.0f} | {row['server_late_p99_ms']:.1f}"
            f" | {row['gc_to_p99_ms']:.0f} / {row['gc_ms']:.0f} |"
        )
    if summary["errors"]:
        lines += ["", "Errors:", *[f"- {e}" for e in summary["errors"]]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.many_streams", description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.04, help="seconds between a stream's chunks")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the streams (0.05: a quick look)")
    parser.add_argument("--only", action="append", default=[], help="contender names (the floor always runs)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--job", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        name, root, streams, chunks, interval = args.job
        print(json.dumps(measure(name, root, int(streams), int(chunks), float(interval))))
        return 0
    only = {t.strip() for item in args.only for t in item.split(",") if t.strip()}
    unknown = only - set(CONTENDERS)
    if unknown:
        raise SystemExit(f"--only: unknown {', '.join(sorted(unknown))}; known: {', '.join(CONTENDERS)}")
    names = [n for n in CONTENDERS if (not only or n in only or n == FLOOR) and _available(n) is None]
    streams = max(1, round(args.streams * args.scale))
    raw = run(streams=streams, chunks=args.chunks, interval=args.interval, repeats=max(1, args.repeats), names=names)
    summary = summarize(raw)
    text = markdown(summary)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "many_streams.json").write_text(json.dumps({**summary, "raw": raw}, indent=1) + "\n")
    with open(args.out / "results.md", "a", encoding="utf-8") as report:
        report.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
