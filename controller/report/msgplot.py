"""messages.png: what the testbed sends per learning cycle, by message type,
in the frame of frame.py (the faults on top, their windows shaded)."""

from __future__ import annotations

import math
from pathlib import Path

from controller.report import frame
from controller.report.messages import PerCycle, types_seen
from controller.report.model import RunData


def messages_plot(run: RunData, rows: list[PerCycle], path: Path) -> Path:
    title = f"{run.name}: messages sent per learning cycle, all nodes"
    fig, (ax,) = frame.layout(run, title, [4])
    for kind in types_seen(rows):
        mine = [r for r in rows if r.type == kind]
        # A step in which no cycle went by leaves a gap, not a spike.
        ax.plot(
            [r.t_s for r in mine],
            [math.nan if r.per_cycle is None else r.per_cycle for r in mine],
            marker=".",
            markersize=3,
            label=kind,
        )
    if not rows:
        ax.text(0.5, 0.5, "no message counters", transform=ax.transAxes, ha="center")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("messages per cycle")
    frame.legend(ax, run)
    fig.savefig(path, format="png")
    return path
