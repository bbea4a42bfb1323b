"""messages.png: what the testbed sends per learning cycle, by message type,
in the frame of frame.py (the faults on top, their windows shaded).

The overlay sends in bursts once an overlay cycle, and cycles are counted
whole, so a single step between readings swings with how many bursts and
cycles fell into it. The plot sums messages and cycles over a window of
steps that spans a few overlay cycles; messages_per_cycle.csv keeps each
step as it was.
"""

from __future__ import annotations

import math
import statistics
from itertools import pairwise
from pathlib import Path

from controller.report import frame
from controller.report.messages import PerCycle, types_seen
from controller.report.model import RunData

CYCLES_A_WINDOW = 3  # overlay (or learning) cycles a plotted point spans


def messages_plot(run: RunData, rows: list[PerCycle], path: Path) -> Path:
    title = f"{run.name}: messages sent per learning cycle, all nodes"
    fig, (ax,) = frame.layout(run, title, [4])
    step = _step(rows)
    span = window_steps(run, step)
    for kind in types_seen(rows):
        mine = [r for r in rows if r.type == kind]
        ax.plot(
            [r.t_s for r in mine],
            smoothed(mine, span),
            marker=".",
            markersize=3,
            label=kind,
        )
    if not rows:
        ax.text(0.5, 0.5, "no message counters", transform=ax.transAxes, ha="center")
    ax.set_ylim(bottom=0)
    over = "" if span == 1 or step is None else f" (over {span * step:.0f} s windows)"
    ax.set_ylabel("messages per cycle" + over)
    frame.legend(ax, run)
    fig.savefig(path, format="png")
    return path


def window_steps(run: RunData, step: float | None) -> int:
    """Steps (of step seconds) a plotted point sums over: enough for a few
    of the longer of the overlay and learning cycles."""
    periods = [run.period(k) for k in ("overlay_period_s", "cycle_period_s")]
    longest = max((p for p in periods if p is not None), default=None)
    if step is None or longest is None:
        return 1
    return max(1, math.ceil(CYCLES_A_WINDOW * longest / step))


def smoothed(rows: list[PerCycle], span: int) -> list[float]:
    """Messages over cycles in the window of span steps ending at each row;
    a gap (nan) where no cycle went by in it."""
    found = []
    for i in range(len(rows)):
        window = rows[max(0, i - span + 1) : i + 1]
        went = sum(r.cycles or 0.0 for r in window if r.per_cycle is not None)
        sent = sum(r.sent for r in window if r.per_cycle is not None)
        found.append(sent / went if went > 0 else math.nan)
    return found


def _step(rows: list[PerCycle]) -> float | None:
    times = sorted({r.t_s for r in rows})
    gaps = [b - a for a, b in pairwise(times) if b > a]
    return statistics.median(gaps) if gaps else None
