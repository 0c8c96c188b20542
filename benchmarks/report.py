"""Turn raw samples into medians and ratios to the floor, and write results.md / results.json.

Per (scenario, contender): the median over repeats of CPU seconds per unit, wall seconds per
unit and peak RSS. Each ratio is that median divided by the floor's median from the same run.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .contenders import by_name
from .scenarios import Scenario

TIMES = "\u00d7"  # the multiplication sign
OURS = ("telnyx_ai", "telnyx_ai_sync")
TIMEOUTS_FLOOR = "floor_timeouts"
"""The floor with the SDK's default timeouts (a read timeout aiohttp re-arms on every read): the second baseline."""

__all__ = ["format_markdown", "summarize", "write_reports"]


def _median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def _ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return value / floor


def _row(sc: Scenario, name: str, status: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r and r.get("units")]
    errors = sorted({r["error"] for r in runs if "error" in r})
    row: dict[str, Any] = {
        "contender": name,
        "label": by_name(name).label,
        "status": status if status != "ok" else ("error: " + "; ".join(errors) if errors else "ok"),
        "runs": len(good),
        "cpu_s": None,
        "wall_s": None,
        "rss_mib": _median(r["maxrss_kb"] / 1024 for r in good),
        "units": _median(r["units"] for r in good),
        "target": good[0]["target"] if good else None,
    }
    if sc.kind != "derived":
        row["cpu_s"] = _median(r["cpu_s"] / r["units"] for r in good)
        row["wall_s"] = _median(r["wall_s"] / r["units"] for r in good)
    return row


def summarize(raw: dict[str, Any], scenarios: list[Scenario]) -> dict[str, Any]:
    """The report's content: per scenario, a row per contender with medians and ratios to the floor."""
    counts = raw["config"]["counts"]
    out: list[dict[str, Any]] = []
    errors: list[str] = []
    for sc in scenarios:
        source = sc.source or sc.key
        runs_by_name = raw["samples"].get(source, {})
        rows = [_row(sc, name, raw["status"].get(name, "ok"), runs) for name, runs in runs_by_name.items()]
        floor = next((r for r in rows if r["contender"] == sc.floor), None)
        timed = next((r for r in rows if r["contender"] == TIMEOUTS_FLOOR), None)
        for row in rows:
            for metric in ("cpu_s", "wall_s", "rss_mib"):
                row[metric.split("_")[0] + "_ratio"] = _ratio(row[metric], floor[metric] if floor else None)
            row["cpu_ratio_timeouts"] = _ratio(row["cpu_s"], timed["cpu_s"] if timed else None)
            if row["status"].startswith("error"):
                errors.append(f"{sc.key}/{row['contender']}: {row['status']}")
        count = raw["config"]["stream_chunks"] if sc.op.endswith("stream") else counts.get(source, 1)
        out.append(
            {
                "key": sc.key,
                "number": sc.number,
                "title": sc.describe(count),
                "unit": sc.unit,
                "floor": sc.floor,
                "derived": sc.kind == "derived",
                "rows": rows,
            }
        )
    return {
        "machine": raw.get("machine", {}),
        "command": raw.get("command", ""),
        "config": raw["config"],
        "scenarios": out,
        "errors": errors,
        "samples": raw["samples"],
    }


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def _times(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:.2f}{TIMES}" if ratio < 10 else f"{ratio:.1f}{TIMES}"


def _machine_line(machine: dict[str, Any]) -> str:
    packages = ", ".join(f"{k} {v}" for k, v in machine.get("packages", {}).items())
    return (
        f"{machine.get('date', '?')} · nproc {machine.get('nproc', '?')} ({machine.get('cpu', '?')}) · "
        f"Python {machine.get('python', '?')} · {machine.get('platform', '?')} · pinning: {machine.get('pinning', '?')}"
        f" · {packages}"
    )


def format_markdown(summary: dict[str, Any]) -> str:
    config = summary["config"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {_machine_line(summary['machine'])}",
        "",
        f"Command: `{summary['command'] or 'benchmarks/run'}` · {config['repeats']} interleaved repeats, medians · "
        f"time limit {config['time_limit_s']:g} s per measured loop",
        "",
        f"CPU is the client process's CPU time (all threads) per unit; {TIMES}floor is the contender's median",
        f"divided by the floor's median in this run (1.00{TIMES} = as cheap as hand-written aiohttp + msgspec with",
        "aiohttp's default timeouts, no per-read limit; for scenario 7 the floor is http.client + msgspec).",
        f"{TIMES}floor+t divides by the floor given the SDK's default timeouts instead (60 s per read, 5 s to",
        "connect, 10 minutes per call). Embedding scenarios 1, 2 and 7 are served floats whatever the client asks",
        "for, as a server that ignores `encoding_format` does. Peak RSS is the high-water RSS (VmHWM) of the",
        "job's fresh process. Lower is better everywhere.",
        "",
        f"| # | Scenario | Contender | CPU / unit | CPU {TIMES}floor | CPU {TIMES}floor+t | Wall / unit"
        f" | Wall {TIMES}floor | Peak RSS | RSS {TIMES}floor | Runs |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    capped = False
    for sc in summary["scenarios"]:
        for row in sc["rows"]:
            label = f"**{row['label']}**" if row["contender"] in OURS else row["label"]
            title = f"{sc['title']} (per {sc['unit']})" if not sc["derived"] else sc["title"]
            if row["status"] != "ok":
                lines.append(f"| {sc['number']} | {title} | {label} | {row['status']} | | | | | | | 0 |")
                continue
            runs = str(row["runs"])
            if row["target"] and row["units"] is not None and row["units"] < row["target"]:
                runs += f" † {row['units']:.0f}/{row['target']}"
                capped = True
            rss = f"{row['rss_mib']:.1f} MiB" if row["rss_mib"] is not None else "—"
            cells = (
                ("—", "—", "—", "—", "—")
                if sc["derived"]
                else (
                    _seconds(row["cpu_s"]),
                    _times(row["cpu_ratio"]),
                    _times(row["cpu_ratio_timeouts"]),
                    _seconds(row["wall_s"]),
                    _times(row["wall_ratio"]),
                )
            )
            lines.append(
                f"| {sc['number']} | {title} | {label} | {' | '.join(cells)} | {rss} | {_times(row['rss_ratio'])} | {runs} |"
            )
    if capped:
        lines += ["", "† hit the time limit: the median run finished this many of its units; figures are per unit."]
    lines += _sync_against_async_floor(summary["scenarios"])
    if summary["errors"]:
        lines += ["", "Errors:", *[f"- {e}" for e in summary["errors"]]]
    return "\n".join(lines) + "\n"


def _sync_against_async_floor(scenarios: list[dict[str, Any]]) -> list[str]:
    """Scenario 7's sync clients against scenario 1's aiohttp + msgspec floor: the same requests, the floor
    an async-core SDK is held to (http.client, scenario 7's own floor, has no event loop to pay for). Then
    telnyx_ai's sync client against that floor called from a thread, the design both share."""
    by_key = {sc["key"]: sc for sc in scenarios}
    sync, embed = by_key.get("sync_seq"), by_key.get("embed_seq")
    if sync is None or embed is None:
        return []
    floor = next((r for r in embed["rows"] if r["contender"] == embed["floor"] and r["status"] == "ok"), None)
    if floor is None or not floor["cpu_s"]:
        return []
    rows = {row["contender"]: row for row in sync["rows"] if row["status"] == "ok"}
    cells = [
        f"{row['label']} {_times(_ratio(row['cpu_s'], floor['cpu_s']))}"
        for name, row in rows.items()
        if name != sync["floor"]
    ]
    lines = [
        "",
        "Scenario 7 against scenario 1's floor (aiohttp + msgspec, the same requests, CPU per request): "
        + "; ".join(cells)
        + ".",
    ]
    bridged, ours = rows.get("floor_sync_aiohttp"), rows.get("telnyx_ai_sync")
    if bridged is not None and ours is not None:
        lines.append(
            f"{ours['label']} against {bridged['label']} (the same aiohttp floor, called through "
            f"`asyncio.run_coroutine_threadsafe` from the caller's thread): "
            f"{_times(_ratio(ours['cpu_s'], bridged['cpu_s']))} CPU per request."
        )
    return lines


def write_reports(summary: dict[str, Any], out: Path, *, chart: bool = True) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "results.md", out / "results.json"]
    written[0].write_text(format_markdown(summary))
    written[1].write_text(json.dumps(summary, indent=1, sort_keys=False) + "\n")
    if chart:
        from .chart import write_chart

        written.append(write_chart(summary, out / "chart.png"))
    return written
