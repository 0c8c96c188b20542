"""Instructions per unit under callgrind: a per-call cost that does not move with the machine's load.

    python -m benchmarks.call_instructions --base-url http://127.0.0.1:PORT [--only KEY,...] [--keep DIR]

Timings on a shared 2-core host swing by 2x between repeats; instruction counts hardly move. Each
(scenario, contender) job runs twice under ``valgrind --tool=callgrind`` with the same warm-up and two
counts, and the difference of the two totals divided by the difference of the counts is the cost of
one more unit: imports, start-up and warm-up cancel out. Cold start is one run's total (``python -I``).
Ratios are to the floor (no timeouts) and to the floor with the SDK's timeouts, as in the timed report.
Every job runs with ``PYTHONHASHSEED=0`` (unless it is set): a random seed moves a count by up to 2 %.
``--keep DIR`` keeps the callgrind files (``callgrind_annotate DIR/<job>.2``). Needs valgrind.

``--many-streams`` does the same for `benchmarks.many_streams` (no ``--base-url``: it starts the paced
server, ``--spread``): a few streams (``--streams``, 20) paced slowly and apart enough that each chunk
arrives alone even under callgrind, with 100 and 200 chunks; the difference is the cost of one chunk.
``--many-streams --open`` counts a stream's opening instead: streams of one chunk (it arrives with the
response's headers and ``[DONE]``), 20 against 60 at once; the difference per stream is the call, the
request sent, the first chunk handed over and the close: what each stream costs before the last one's first
chunk when they all open at once (p99 time to first chunk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .contenders import by_name, cold_start_contenders, unavailable
from .fixtures import build
from .runner import REPO, select
from .scenarios import Scenario, cold_start_command

__all__ = ["count_instructions", "main", "per_unit"]

# (warm-up, first count, second count) per scenario kind; a stream's counts are whole streams.
_COUNTS = {"seq": (20, 50, 150), "conc": (512, 512, 1536), "stream": (1, 1, 2)}


def count_instructions(command: list[str], out: Path) -> int:
    """Run ``command`` under callgrind; the instructions it executed (all threads)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    # One string hash seed for every job: with a random one, the same tree's count per call moved by up to
    # 2 % between runs (dict lookups probing further under some seeds), more than most changes measured.
    # (``python -I``, the cold start, ignores it.)
    done = subprocess.run(
        [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... failed: {done.stderr[-1500:]}")
    if '"error"' in done.stdout:
        raise RuntimeError(f"the job failed: {done.stdout.strip().splitlines()[-1]}")
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {out}")


def _job(sc: Scenario, contender: str, root: str, count: int, warmup: int, chunks: int) -> dict[str, object]:
    job: dict[str, object] = {
        "scenario": sc.key,
        "contender": contender,
        "root": root,
        "count": count,
        "warmup": warmup,
        "concurrency": sc.concurrency,
        "time_limit": 3600.0,
        "expected": build(chunks).expected(),
    }
    if sc.op == "stream":
        job["streams"] = count
    return job


def per_unit(
    sc: Scenario, contender: str, root: str, work: Path, *, stream_chunks: int, python: str = sys.executable
) -> float:
    """Instructions per unit of ``sc`` for ``contender`` (per process for cold start); ``stream_chunks``
    is the length of the stream the server sends."""
    name = f"{sc.key}.{contender}"
    if sc.kind == "cold":
        return count_instructions(cold_start_command(python, by_name(contender).cold_start()), work / f"{name}.1")
    kind = "stream" if sc.op == "stream" else "conc" if sc.concurrency > 1 else "seq"
    warmup, first, second = _COUNTS[kind]
    totals = [
        count_instructions(
            [python, "-m", "benchmarks.scenarios", json.dumps(_job(sc, contender, root, count, warmup, stream_chunks))],
            work / f"{name}.{n}",
        )
        for n, count in ((1, first), (2, second))
    ]
    units = (second - first) * (stream_chunks if sc.op == "stream" else 1)
    return (totals[1] - totals[0]) / units


def many_streams_per_chunk(name: str, root: str, streams: int, interval: float, work: Path) -> float:
    """Instructions per chunk of `benchmarks.many_streams` contender ``name`` (its two rounds of ``streams``)."""
    totals = []
    for chunks in (100, 200):
        args = [name, root, str(streams), str(chunks), str(interval)]
        command = [sys.executable, "-m", "benchmarks.many_streams", "--job", *args]
        totals.append(count_instructions(command, work / f"many_streams.{name}.{chunks}"))
    return (totals[1] - totals[0]) / (2 * streams * 100)


def many_streams_per_open(name: str, root: str, streams: int, interval: float, work: Path) -> float:
    """Instructions per stream of one chunk of `benchmarks.many_streams` contender ``name``: ``streams``
    against ``3 * streams`` at once (each job opens them twice)."""
    totals = []
    for count in (streams, 3 * streams):
        args = [name, root, str(count), "1", str(interval)]
        command = [sys.executable, "-m", "benchmarks.many_streams", "--job", *args]
        totals.append(count_instructions(command, work / f"many_streams_open.{name}.{count}"))
    return (totals[1] - totals[0]) / (2 * 2 * streams)


def _many_streams(names: list[str], streams: int, interval: float, work: Path, *, opening: bool = False) -> None:
    from .many_streams import CONTENDERS as STREAMERS

    command = [sys.executable, "-m", "benchmarks.paced_server", "--interval", str(interval), "--spread"]
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        root = server.stdout.readline().strip()
        unit = "stream opened" if opening else "chunk"
        print(f"| many streams | contender | instructions / {unit} | x floor |")
        print("|---|---|---:|---:|")
        costs: dict[str, float] = {}
        for name in [n for n in STREAMERS if not names or n in names or n == "floor"]:
            if unavailable(by_name(STREAMERS[name][0])) is not None:
                continue
            count = many_streams_per_open if opening else many_streams_per_chunk
            costs[name] = count(name, root, streams, interval, work)
            ratio = f"{costs[name] / costs['floor']:.2f}x" if costs.get("floor") else "-"
            what = f"{streams} vs {3 * streams} x 1-chunk streams" if opening else f"{streams} x 1 chunk per read"
            print(f"| {what} | {name} | {costs[name]:,.0f} | {ratio} |", flush=True)
    finally:
        server.terminate()
        server.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.call_instructions", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--base-url", help="a server with the fixtures (nginx, as benchmarks/run starts)")
    parser.add_argument("--many-streams", action="store_true", help="the many-streams contenders, per chunk")
    parser.add_argument("--open", action="store_true", help="with --many-streams: per stream opened, not per chunk")
    parser.add_argument("--streams", type=int, default=20, help="with --many-streams: streams at once")
    parser.add_argument("--interval", type=float, default=0.1, help="with --many-streams: seconds between chunks")
    parser.add_argument("--only", action="append", default=[], help="scenario keys and/or contender names")
    parser.add_argument("--keep", type=Path, help="keep the callgrind files in this folder")
    parser.add_argument("--stream-chunks", type=int, default=20_000, help="the served stream's length (scale 1)")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.many_streams:
        names = [t.strip() for item in args.only for t in item.split(",") if t.strip()]
        _many_streams(names, args.streams, args.interval, work, opening=args.open)
        return 0
    if not args.base_url:
        raise SystemExit("--base-url is required (a server with the fixtures), or --many-streams")
    scenarios, contenders = select(args.only)
    print("| scenario | contender | instructions / unit | x floor | x floor+timeouts |")
    print("|---|---|---:|---:|---:|")
    for sc in scenarios:
        if sc.kind == "derived":
            continue
        kind = "sync" if sc.kind == "sync" else "async"
        names = [n for n in contenders if sc.kind == "cold" or by_name(n).kind == kind]
        if sc.kind == "cold":
            names = cold_start_contenders(names)
        costs: dict[str, float] = {}
        for name in names:
            if unavailable(by_name(name)) is not None:
                continue
            costs[name] = per_unit(sc, name, args.base_url.rstrip("/"), work, stream_chunks=args.stream_chunks)
            floor = costs.get(sc.floor)
            timed = costs.get("floor_timeouts") if sc.kind != "sync" else None
            ratio = f"{costs[name] / floor:.2f}x" if floor else "-"
            ratio_t = f"{costs[name] / timed:.2f}x" if timed else "-"
            print(f"| {sc.key} | {name} | {costs[name]:,.0f} | {ratio} | {ratio_t} |", flush=True)
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
