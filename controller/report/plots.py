"""The report's plots: accuracy, hubs and nodes alive over the run, each
in the frame of frame.py (the faults on top, their windows shaded)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from controller.report import frame, zoom
from controller.report.model import RunData
from controller.report.recovery import AGREEMENT, Figures

DATA_COLOUR = "tab:blue"
DOWN_COLOUR = "0.6"
CHURN = ("join", "leave")  # causes of node changes drawn as churn


def accuracy_plot(run: RunData, path: Path, figures: Sequence[Figures] = ()) -> Path:
    zoomed = zoom.wanted(run.observations, figures)
    fig, (ax, *below) = frame.layout(
        run,
        f"{run.name}: test accuracy of the healthy nodes",
        [4, 2.4] if zoomed else [4],
    )
    obs = run.observations
    t = [o.t_s for o in obs]
    ax.fill_between(
        t,
        [_nan(o.min_accuracy) for o in obs],
        [_nan(o.max_accuracy) for o in obs],
        color=DATA_COLOUR,
        alpha=0.25,
        linewidth=0,
        label="min to max over nodes",
    )
    ax.plot(t, [_nan(o.mean_accuracy) for o in obs], color=DATA_COLOUR, label="mean")
    ax.set_ylabel("test accuracy")
    frame.legend(ax, run)
    if below:
        ax.set_xlabel("")
        marks = zoom.draw(below[0], obs, figures, DATA_COLOUR)
        frame.legend(below[0], run, marks, kinds=False)
    return _save(fig, path)


def hubs_plot(run: RunData, path: Path) -> Path:
    hubs = sorted({h for o in run.observations for h in o.hubs})
    rows = 1.2 + min(len(hubs), 40) * 0.22
    title = f"{run.name}: majority hub list and hub agreement"
    fig, (top, bottom) = frame.layout(run, title, [rows, 1.4])
    obs = run.observations
    # An observation's hub list holds until the next one; the last, for an
    # observation period.
    ends = [o.t_s for o in obs[1:]] + [obs[-1].t_s + (run.observe_period_s or 0.0)]
    for row, node in enumerate(hubs):
        spans = [
            (o.t_s, end - o.t_s)
            for o, end in zip(obs, ends, strict=True)
            if node in o.hubs
        ]
        top.broken_barh(spans, (row - 0.3, 0.6), color=DATA_COLOUR)
        top.broken_barh(_down_spans(run, node), (row - 0.1, 0.2), color=DOWN_COLOUR)
    top.set_yticks(range(len(hubs)), [str(h) for h in hubs])
    top.set_ylim(-0.7, max(len(hubs), 1) - 0.3)
    top.set_ylabel("node id")
    top.tick_params(labelbottom=False)
    top.set_xlabel("")
    frame.legend(
        top,
        run,
        [
            Patch(color=DATA_COLOUR, label="hub (majority list)"),
            Patch(color=DOWN_COLOUR, label="down (crashed or left)"),
        ],
    )

    bottom.step(
        [o.t_s for o in obs],
        [100 * o.agreement for o in obs],
        where="post",
        color=DATA_COLOUR,
        label="live nodes holding\nthe majority list",
    )
    bottom.axhline(
        100 * AGREEMENT,
        color="0.3",
        linestyle="--",
        linewidth=0.8,
        label=f"{AGREEMENT:.0%}: hubs agree",
    )
    bottom.set_ylim(-5, 105)
    bottom.set_ylabel("hub agreement (%)")
    frame.legend(bottom, run, kinds=False)
    return _save(fig, path)


def alive_plot(run: RunData, path: Path) -> Path:
    fig, (ax,) = frame.layout(run, f"{run.name}: nodes alive", [3.2])
    obs = run.observations
    t = [o.t_s for o in obs]
    ax.step(t, [o.alive for o in obs], where="post", label="alive")
    healthy = [math.nan if o.healthy is None else o.healthy for o in obs]
    ax.step(t, healthy, where="post", linestyle="--", label="healthy (answering)")
    extra = []
    for up, marker, label in ((True, "^", "churn: join"), (False, "v", "churn: leave")):
        times = [c.t_s for c in run.changes if c.up == up and c.cause in CHURN]
        if times:
            ax.plot(times, [0.5] * len(times), marker, color="black")
            extra.append(
                Line2D([], [], marker=marker, color="black", ls="", label=label)
            )
    ax.set_ylim(0, max([o.alive for o in obs] + [1]) * 1.1 + 1)
    ax.set_ylabel("nodes")
    frame.legend(ax, run, extra)
    return _save(fig, path)


def _down_spans(run: RunData, node: int) -> list[tuple[float, float]]:
    spans, since = [], None
    for change in run.changes:
        if change.node != node:
            continue
        if not change.up and since is None:
            since = change.t_s
        elif change.up and since is not None:
            spans.append((since, change.t_s - since))
            since = None
    if since is not None:
        spans.append((since, run.end_s - since))
    return spans


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, format="png")
    return path


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
