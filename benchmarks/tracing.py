"""What observability costs per call: telnyx_ai with nothing on, with event hooks (that do nothing), and
with OpenTelemetry tracing on a no-op provider and on the SDK's provider, doing the same calls.

    python -m benchmarks.tracing [--repeats 5] [--scale 1.0] [--out DIR]   # CPU time per unit, interleaved
    python -m benchmarks.tracing --instructions [--base TREE] [--out DIR]  # callgrind (apt-get install valgrind)

Scenarios 1 (sequential embeddings), 4 (sequential chat completions) and 3 (one chat stream of 20,000
chunks; its unit is a chunk), through the same contender as `benchmarks/run` (`contenders/telnyx_ai_sdk.py`),
against ``BENCH_BASE_URL`` (nginx, under `benchmarks/run`) or, without it, the fixtures served by aiohttp
from a child process. Modes:

- ``off``: no hooks, tracing not installed (what every other benchmark measures);
- ``hooks``: a do-nothing function on each of the five events, for every client;
- ``otel_noop``: ``instrumentation.instrument()`` with OpenTelemetry's no-op tracer and meter providers
  (the API alone, no SDK configured);
- ``otel_sdk``: the SDK's ``TracerProvider`` with a ``BatchSpanProcessor`` (to an exporter that counts the
  spans and drops them: the job checks one span per call) and a ``MeterProvider`` aggregating in memory.

Timing: each (scenario, mode, repeat) is a fresh process, the modes interleaved within each repeat; the
median CPU time per unit and its ratio to ``off`` are reported. Timings swing on a shared machine, so
``--instructions`` also counts instructions with callgrind: one process per (scenario, mode) counts N
units, then 2N more, instrumentation switched on after the warm-up (``callgrind_control``); the
difference over N is the count per unit. ``--base TREE`` adds the ``off`` count of another checkout's
``telnyx_ai`` (such as the tree before hooks existed: ``git archive <rev> telnyx_ai | tar -x -C TREE``).
The table is appended to ``results.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # appended: a --base tree on PYTHONPATH comes first

MODES = ("off", "hooks", "otel_noop", "otel_sdk")
SCENARIOS: dict[str, tuple[str, str, int, str]] = {
    # key: (contender method, fixture variant, calls at --scale 1, unit)
    "embed_seq": ("embed", "", 2000, "request"),
    "chat_seq": ("chat", "", 2000, "request"),
    "stream": ("stream", "/sse", 20_000, "chunk"),
}
LABELS = {"embed_seq": "1 embed_seq", "chat_seq": "4 chat_seq", "stream": "3 stream"}
RESULTS = ROOT / "benchmarks" / "results"


# -- one job: a fresh process -------------------------------------------------------------------


def _enable(mode: str) -> Any:
    """Turn on ``mode``; the SDK's span exporter when there is one (to count its spans at the end)."""
    if mode == "hooks":
        from telnyx_ai._hooks import EVENT_NAMES, INSTALLED, Hooks

        def nothing(event: object) -> None:
            pass

        INSTALLED.install("benchmark", Hooks({name: [nothing] for name in EVENT_NAMES}))
    elif mode == "otel_noop":
        from opentelemetry.metrics import NoOpMeterProvider
        from opentelemetry.trace import NoOpTracerProvider

        from telnyx_ai import instrumentation

        instrumentation.instrument(tracer_provider=NoOpTracerProvider(), meter_provider=NoOpMeterProvider())
    elif mode == "otel_sdk":
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

        from telnyx_ai import instrumentation

        class Counting(SpanExporter):
            count = 0

            def export(self, spans: Any) -> SpanExportResult:
                Counting.count += len(spans)
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Counting()))
        meters = MeterProvider(metric_readers=[InMemoryMetricReader()])
        instrumentation.instrument(tracer_provider=provider, meter_provider=meters)
        return provider, Counting
    elif mode != "off":
        raise SystemExit(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    return None


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True, timeout=300)


async def _job(job: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.contenders.telnyx_ai_sdk import AsyncTelnyxAI

    method, variant, _, _ = SCENARIOS[job["scenario"]]
    sdk = _enable(job["mode"])
    contender = AsyncTelnyxAI()
    call = getattr(contender, method)
    streams = method == "stream"

    async def run(count: int) -> int:
        units = 0
        for _ in range(count):
            got = await call()
            units += got[0] if streams else 1
        return units

    await contender.open(job["root"], variant, 1)
    calls = 0
    try:
        count = int(job["count"])
        warm = 1 if streams else max(5, count // 20)
        await run(warm)
        calls += warm
        gc.collect()
        result: dict[str, Any] = {}
        if job.get("callgrind"):
            _control("-i", "on")
            first = await run(count)
            _control("-d")
            second = await run(2 * count)
            _control("-d")
            calls += 3 * count
            result.update(units=second - first, calls=calls)
        else:
            cpu0 = time.process_time()
            units = await run(count)
            result.update(units=units, cpu_s=time.process_time() - cpu0)
            calls += count
    finally:
        await contender.close()
    if sdk is not None:
        provider, exporter = sdk
        provider.force_flush()
        if exporter.count != calls:
            raise SystemExit(f"otel_sdk: {exporter.count} spans for {calls} calls")
    import telnyx_ai

    result["telnyx_ai"] = str(Path(telnyx_ai.__file__).parent)
    return result


# -- the runner --------------------------------------------------------------------------------


def _spawn(job: dict[str, Any], *, env: dict[str, str] | None = None, callgrind: Path | None = None) -> dict[str, Any]:
    command = [
        sys.executable,
        "-P",
        str(Path(__file__).resolve()),
        "--job",
        json.dumps(job),
    ]  # -P: not benchmarks/ first
    if callgrind is not None:  # the same hash seed in every counted process: one less source of noise
        env = {**(env if env is not None else os.environ), "PYTHONHASHSEED": "0"}
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={callgrind}", *command]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise SystemExit(f"job {job} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _server(stream_chunks: int) -> tuple[str, subprocess.Popen[bytes] | None]:
    """``BENCH_BASE_URL``, or the fixtures served by aiohttp from a child process (on cpu 0 when possible)."""
    given = os.environ.get("BENCH_BASE_URL")
    if given:
        return given, None
    from benchmarks.server import free_port

    port = free_port()
    code = (
        "import sys; sys.path.append(sys.argv[1])\n"
        "from aiohttp import web\n"
        "from benchmarks.fixtures import build\n"
        "from benchmarks.server import aiohttp_app\n"
        "web.run_app(aiohttp_app(build(int(sys.argv[3]))), host='127.0.0.1', port=int(sys.argv[2]), print=None)\n"
    )
    pin = ["taskset", "-c", "0"] if (os.cpu_count() or 1) > 1 and _has("taskset") else []
    process = subprocess.Popen([*pin, sys.executable, "-c", code, str(ROOT), str(port), str(stream_chunks)])
    import socket

    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}", process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit("the fixture server did not start within 20 s") from None
            time.sleep(0.1)


def _has(program: str) -> bool:
    return any((Path(folder) / program).exists() for folder in os.environ.get("PATH", "").split(os.pathsep))


def timings(root: str, repeats: int, scale: float, modes: tuple[str, ...] = MODES) -> list[str]:
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeats):
        for scenario, (_, _, count, _) in SCENARIOS.items():
            calls = 1 if scenario == "stream" else max(20, int(count * scale))
            for mode in modes:
                got = _spawn({"scenario": scenario, "mode": mode, "root": root, "count": calls})
                samples.setdefault((scenario, mode), []).append(got["cpu_s"] / got["units"] * 1e6)
    rows = [
        f"Tracing cost: CPU µs per unit, median of {repeats} interleaved repeats (ratio to `off`)",
        "",
        "| scenario | unit | " + " | ".join(modes) + " |",
        "|---|---|" + "---|" * len(modes),
    ]
    for scenario, (_, _, _, unit) in SCENARIOS.items():
        off = statistics.median(samples[(scenario, "off")])
        cells = [f"{(m := statistics.median(samples[(scenario, mode)])):.2f} ({m / off:.2f}x)" for mode in modes]
        rows.append(f"| {LABELS[scenario]} | {unit} | " + " | ".join(cells) + " |")
    return rows


def instructions(root: str, base: Path | None, scale: float, modes: tuple[str, ...] = MODES) -> list[str]:
    if not _has("valgrind"):
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    columns: list[tuple[str, str, dict[str, str] | None]] = []
    if base is not None:
        columns.append((f"off, {base.name}", "off", {**os.environ, "PYTHONPATH": str(base.resolve())}))
    columns += [(mode, mode, None) for mode in modes]
    counts: dict[tuple[str, str], float] = {}
    for scenario, (_, _, count, _) in SCENARIOS.items():
        calls = 1 if scenario == "stream" else max(20, int(count * scale / 20))  # 100 calls at scale 1
        for label, mode, env in columns:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "cg.out"
                job = {"scenario": scenario, "mode": mode, "root": root, "count": calls, "callgrind": True}
                got = _spawn(job, env=env, callgrind=out)
                first, second = (_total(Path(f"{out}.{part}")) for part in (1, 2))
            counts[(scenario, label)] = (second - first) / got["units"]
            print(
                f"{scenario:10s} {label:16s} {counts[(scenario, label)]:12.0f}  ({got['telnyx_ai']})", file=sys.stderr
            )
    labels = [label for label, _, _ in columns]
    rows = [
        "Tracing cost: instructions per unit, counted by callgrind (ratio to `off`)",
        "",
        "| scenario | unit | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for scenario, (_, _, _, unit) in SCENARIOS.items():
        off = counts[(scenario, "off")]
        cells = [f"{counts[(scenario, label)]:,.0f} ({counts[(scenario, label)] / off:.3f}x)" for label in labels]
        rows.append(f"| {LABELS[scenario]} | {unit} | " + " | ".join(cells) + " |")
    return rows


def _total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"{dump} has no total")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "5")))
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")))
    parser.add_argument("--instructions", action="store_true", help="count instructions with callgrind instead")
    parser.add_argument("--base", type=Path, help="with --instructions: also count the 'off' mode of this tree")
    parser.add_argument("--modes", default=",".join(MODES), help="some of the modes (off is always one)")
    parser.add_argument("--out", type=Path, default=None, help="append the table to DIR/results.md")
    args = parser.parse_args(argv)
    modes = ("off", *(mode for mode in args.modes.split(",") if mode and mode != "off"))
    if args.job:
        print(json.dumps(asyncio.run(_job(json.loads(args.job)))))
        return
    chunks = max(100, int(SCENARIOS["stream"][2] * args.scale))
    root, server = _server(chunks)
    try:
        if args.instructions:
            rows = instructions(root, args.base, args.scale, modes)
        else:
            rows = timings(root, args.repeats, args.scale, modes)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    print("\n".join(rows))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "results.md", "a", encoding="utf-8") as report:
            report.write("\n\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
