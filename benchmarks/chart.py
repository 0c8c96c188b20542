"""chart.png: per scenario, each contender's ratio to the floor (log scale; the floor is 1)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["write_chart"]

_TELNYX_AI = "#1b9e77"
_OTHERS = "#7570b3"
_FLOOR = "#999999"
_OURS = ("telnyx_ai", "telnyx_ai_sync", "telnyx_ai_256k")  # the variant too: it is not a rival
_TIMES = "\u00d7"


def write_chart(summary: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    panels = [sc for sc in summary["scenarios"] if any(r["status"] == "ok" for r in sc["rows"])]
    cols = 2
    rows = max(1, math.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(13, 2.9 * rows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for ax, sc in zip(axes.flat, panels, strict=False):
        metric, what = ("rss_ratio", "peak RSS") if sc["derived"] else ("cpu_ratio", f"CPU/{sc['unit']}")
        shown = [r for r in sc["rows"] if r["status"] == "ok" and r[metric] is not None]
        labels = [r["label"] for r in shown]
        values = [r[metric] for r in shown]
        colors = [
            _FLOOR if r["contender"] == sc["floor"] else _TELNYX_AI if r["contender"] in _OURS else _OTHERS
            for r in shown
        ]
        ys = range(len(shown))
        ax.barh(list(ys), values, color=colors, height=0.65)
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(list(ys), labels, fontsize=8)
        ax.invert_yaxis()
        low = min([*values, 1.0])
        high = max([*values, 1.0])
        ax.set_xlim(low / 1.6, high * 2.2)
        for y, value in zip(ys, values, strict=True):
            ax.text(value * 1.06, y, f"{value:.2f}{_TIMES}", va="center", fontsize=8)
        ax.set_title(f"{sc['number']}. {sc['title']} — {what} ÷ floor", fontsize=9, loc="left")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}{_TIMES}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", which="both", alpha=0.25)
    machine = summary.get("machine", {})
    fig.suptitle(
        f"telnyx_ai vs official telnyx, openai and the raw floor (lower is better; 1{_TIMES} = floor) — "
        f"nproc {machine.get('nproc', '?')}, Python {machine.get('python', '?')}, {machine.get('date', '')}",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
