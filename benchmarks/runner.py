"""Run every (scenario, contender) job, repeats interleaved, and write the report.

``python -m benchmarks.runner --base-url http://127.0.0.1:PORT [--repeats N] [--scale F]
[--only KEY,...] [--time-limit S]`` against a server already serving the fixtures (``benchmarks/run``
starts nginx and calls this). Each job runs in a fresh process (see `benchmarks.scenarios`);
within a repeat every scenario runs each contender once, in an order rotated per repeat, so
slow drift of the machine spreads over all contenders instead of landing on one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .contenders import CONTENDERS, FLOORS, by_name, cold_start_contenders, unavailable
from .fixtures import build
from .scenarios import SCENARIOS, Scenario, cold_start_command, parse_result, run_job

__all__ = ["Config", "Sizes", "build_parser", "machine_info", "main", "run", "sizes_from_args"]

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
_PACKAGES = ("telnyx-ai", "telnyx", "openai", "aiohttp", "httpx", "httpx2", "msgspec", "pydantic", "tenacity")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=int(_env_float("BENCH_REPEATS", 5)), help="default 5")
    parser.add_argument(
        "--scale", type=float, default=_env_float("BENCH_SCALE", 1.0), help="multiply every count (0.01: a quick run)"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="scenario keys/numbers and/or contender names, comma-separated (the floor always runs)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=_env_float("BENCH_TIME_LIMIT", 8.0),
        help="seconds one measured loop may take before it stops starting calls (figures stay per unit)",
    )
    parser.add_argument("--base-url", default=os.environ.get("BENCH_BASE_URL"), help="the server with the fixtures")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results.{md,json} and chart.png go")
    parser.add_argument("--no-chart", action="store_true", help="skip chart.png (no matplotlib needed)")
    return parser


@dataclass(frozen=True)
class Sizes:
    counts: dict[str, int]
    stream_chunks: int


def sizes_from_args(args: argparse.Namespace) -> Sizes:
    scale = float(args.scale)
    if scale <= 0:
        raise SystemExit("--scale must be positive")
    counts = {sc.key: max(1, round(sc.count * scale)) for sc in SCENARIOS}
    return Sizes(counts=counts, stream_chunks=max(2, counts["stream"]))


@dataclass
class Config:
    root: str
    sizes: Sizes
    repeats: int = 5
    time_limit: float = 8.0
    scenarios: list[Scenario] = field(default_factory=lambda: list(SCENARIOS))
    contenders: list[str] = field(default_factory=lambda: [c.name for c in CONTENDERS])
    python: str = sys.executable
    isolate: bool = True  # a fresh process per job (False: in this process, for the smoke test)
    cold_warmup: bool = True  # an untimed cold start first, so timed ones find .pyc files written
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)


def select(only: list[str]) -> tuple[list[Scenario], list[str]]:
    """The scenarios and contenders ``--only`` names (all of a kind when it names none of it)."""
    tokens = [t.strip() for item in only for t in item.split(",") if t.strip()]
    scenario_keys = {s.key for s in SCENARIOS} | {s.number for s in SCENARIOS}
    contender_names = {c.name for c in CONTENDERS}
    unknown = [t for t in tokens if t not in scenario_keys and t not in contender_names]
    if unknown:
        raise SystemExit(
            f"--only: unknown {', '.join(unknown)}; scenarios: {', '.join(s.key for s in SCENARIOS)}; "
            f"contenders: {', '.join(sorted(contender_names))}"
        )
    scenarios = [s for s in SCENARIOS if s.key in tokens or s.number in tokens] or list(SCENARIOS)
    for sc in list(scenarios):  # a derived scenario needs its source
        if sc.kind == "derived" and all(s.key != sc.source for s in scenarios):
            scenarios.insert(scenarios.index(sc), next(s for s in SCENARIOS if s.key == sc.source))
    contenders = [c.name for c in CONTENDERS if c.name in tokens] or [c.name for c in CONTENDERS]
    for floor in reversed(FLOORS):
        if floor not in contenders:
            contenders.insert(0, floor)
    return scenarios, contenders


def contenders_for(sc: Scenario, names: list[str]) -> list[str]:
    if sc.kind == "cold":
        return cold_start_contenders(names)
    kind = "sync" if sc.kind == "sync" else "async"
    return [n for n in names if by_name(n).kind == kind and (not sc.only or n in sc.only)]


def _subprocess(cmd: list[str], timeout: float) -> dict[str, Any]:
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}"}
    try:
        return parse_result(proc.stdout)
    except ValueError:
        return {"error": f"unreadable output: {proc.stdout[-200:]!r}"}


def measure(config: Config, sc: Scenario, contender: str, expected: dict[str, Any]) -> dict[str, Any]:
    """One run of one contender in one scenario."""
    timeout = config.time_limit * 6 + 120
    if sc.kind == "cold":
        return _subprocess(cold_start_command(config.python, by_name(contender).cold_start()), timeout)
    job = {
        "scenario": sc.key,
        "contender": contender,
        "root": config.root,
        "count": config.sizes.counts[sc.key],
        "concurrency": sc.concurrency,
        "time_limit": config.time_limit,
        "expected": expected,
    }
    if not config.isolate:
        return run_job(job)
    return _subprocess([config.python, "-m", "benchmarks.scenarios", json.dumps(job)], timeout)


def _describe(sc: Scenario, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"ERROR {result['error']}"
    units = max(int(result["units"]), 1)
    return (
        f"{result['cpu_s'] / units * 1e6:10.1f} us cpu/{sc.unit}  {result['wall_s'] / units * 1e6:10.1f} us wall"
        f"  {result['maxrss_kb'] / 1024:6.1f} MiB  ({result['units']}/{result['target']})"
    )


def run(config: Config) -> dict[str, Any]:
    """Every job, ``repeats`` times, interleaved; the raw samples, ready for `report.summarize`."""
    expected = build(config.sizes.stream_chunks).expected()
    status = {name: unavailable(by_name(name)) for name in config.contenders}
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {}
    measured = [sc for sc in config.scenarios if sc.kind != "derived"]
    for sc in measured:
        samples[sc.key] = {n: [] for n in contenders_for(sc, config.contenders)}
        if sc.kind == "cold" and config.cold_warmup:
            for name in samples[sc.key]:
                if status[name] is None:
                    measure(config, sc, name, expected)
    for repeat in range(config.repeats):
        for sc in measured:
            names = [n for n in samples[sc.key] if status[n] is None]
            shift = repeat % max(len(names), 1)
            for name in names[shift:] + names[:shift]:
                result = measure(config, sc, name, expected) | {"repeat": repeat}
                samples[sc.key][name].append(result)
                config.log(f"[{repeat + 1}/{config.repeats}] {sc.key:12s} {name:15s} {_describe(sc, result)}")
    return {
        "config": {
            "repeats": config.repeats,
            "time_limit_s": config.time_limit,
            "counts": config.sizes.counts,
            "stream_chunks": config.sizes.stream_chunks,
            "expected": expected,
        },
        "status": {n: s or "ok" for n, s in status.items()},
        "samples": samples,
    }


def machine_info(python: str = sys.executable) -> dict[str, Any]:
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    nginx = shutil.which("nginx")
    if nginx:
        proc = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=False)
        versions["nginx"] = proc.stderr.strip().rpartition("/")[2]
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "packages": versions,
        "pinning": os.environ.get("BENCH_PINNING", "none"),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.base_url:
        raise SystemExit("--base-url (or BENCH_BASE_URL) is required: run benchmarks/run, which starts nginx")
    scenarios, contenders = select(args.only)
    config = Config(
        root=args.base_url.rstrip("/"),
        sizes=sizes_from_args(args),
        repeats=max(1, args.repeats),
        time_limit=args.time_limit,
        scenarios=scenarios,
        contenders=contenders,
    )
    raw = run(config)
    raw["machine"] = machine_info()
    raw["command"] = "benchmarks/run " + " ".join(sys.argv[1:] if argv is None else argv)

    from .report import summarize, write_reports

    summary = summarize(raw, scenarios)
    written = write_reports(summary, args.out, chart=not args.no_chart)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
