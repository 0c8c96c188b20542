"""Profile one contender in one scenario with cProfile, against a server already running.

    python -m benchmarks.profile embed_seq telnyx_ai --base-url http://127.0.0.1:PORT [--count N]

Prints the functions with the most own time (``--sort tottime``, the default) or cumulative
time, grouped so the SDK's share stands out from aiohttp, msgspec, asyncio and the harness.
For a sampling view instead: ``py-spy record -o out.svg -- python -m benchmarks.scenarios JOB``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from collections import defaultdict

from .fixtures import build
from .scenarios import SCENARIOS, run_job, scenario

__all__ = ["main"]

_GROUPS = (  # first match wins; installed packages before this checkout's folders
    ("aiohttp/", "aiohttp"),
    ("msgspec", "msgspec"),
    ("yarl/", "yarl"),
    ("multidict", "multidict"),
    ("asyncio/", "asyncio"),
    ("tenacity/", "tenacity"),
    ("concurrent/", "threads/futures"),
    ("threading", "threads/futures"),
    ("telnyx_ai/", "telnyx_ai"),
    ("/benchmarks/", "harness (incl. correctness checks)"),
    ("{built-in", "builtins (msgspec decode, sum, socket calls)"),
    ("{method", "builtins (msgspec decode, sum, socket calls)"),
)


def _group(filename: str) -> str:
    for needle, name in _GROUPS:
        if needle in filename:
            return name
    return "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=[s.key for s in SCENARIOS if s.kind in ("async", "sync")])
    parser.add_argument("contender")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--count", type=int, default=0, help="calls (default: the scenario's full count)")
    parser.add_argument("--stream-chunks", type=int, default=20_000, help="the served stream's length")
    parser.add_argument("--sort", choices=("tottime", "cumulative"), default="tottime")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    sc = scenario(args.scenario)
    job = {
        "scenario": sc.key,
        "contender": args.contender,
        "root": args.base_url.rstrip("/"),
        "count": args.count or sc.count,
        "concurrency": sc.concurrency,
        "time_limit": 120.0,
        "expected": build(args.stream_chunks).expected(),
    }
    profiler = cProfile.Profile()
    profiler.enable()
    result = run_job(job)
    profiler.disable()
    if "error" in result:
        print(f"job failed: {result['error']}", file=sys.stderr)
        return 1
    stats = pstats.Stats(profiler, stream=(out := io.StringIO()))
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    by_group: dict[str, float] = defaultdict(float)
    for (filename, _, _), row in stats.stats.items():  # type: ignore[attr-defined]
        by_group[_group(filename)] += row[2]
    print(f"{sc.key} / {args.contender}: {result['units']} units, own time by package (total {total:.2f} s):")
    for name, seconds in sorted(by_group.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds / total:6.1%}  {seconds:7.3f} s  {name}")
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
