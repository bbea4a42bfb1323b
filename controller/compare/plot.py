"""accuracy.png: every protocol's mean test accuracy over time, one line a
protocol (the mean over its repeats, with their range as a band), and the
moments the scenario's faults hit, as dashed lines in the protocol's
colour."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from controller.compare.measure import RunFigures

GRID_S = 1.0  # repeats are put on one grid of this step to be averaged


def accuracy_plot(scenario: str, runs: list[RunFigures], path: Path) -> Path:
    fig = Figure(figsize=(10, 5.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    protocols = list(dict.fromkeys(r.protocol for r in runs))
    for index, protocol in enumerate(protocols):
        colour = f"C{index}"
        mine = [r for r in runs if r.protocol == protocol and len(r.curve) > 1]
        if not mine:
            continue
        grid, curves = _on_grid(mine)
        with warnings.catch_warnings():  # all-NaN columns past every run's end
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(curves, axis=0)
        label = protocol + (f" (mean of {len(mine)})" if len(mine) > 1 else "")
        ax.plot(grid, mean, color=colour, label=label, linewidth=1.6)
        if len(mine) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                low, high = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
            ax.fill_between(grid, low, high, color=colour, alpha=0.15, linewidth=0)
        hits = sorted({f.at_s for r in mine for f in r.faults if not f.failed})
        for at in hits:
            ax.axvline(at, color=colour, linestyle="--", linewidth=0.9, alpha=0.7)
    if any(f.at_s for r in runs for f in r.faults if not f.failed):
        ax.plot([], [], color="grey", linestyle="--", label="a fault applied")
    ax.set_title(f"{scenario}: mean test accuracy of the nodes, by protocol")
    ax.set_xlabel("time since scenario start (s)")
    ax.set_ylabel("mean test accuracy")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right")
    else:
        ax.text(0.5, 0.5, "no run has finished", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _on_grid(runs: list[RunFigures]) -> tuple[np.ndarray, np.ndarray]:
    """Each run's curve on one time grid; NaN outside the run's own span."""
    end = max(r.curve[-1][0] for r in runs)
    grid = np.arange(0.0, end + GRID_S, GRID_S)
    rows = []
    for r in runs:
        t = np.array([p[0] for p in r.curve])
        y = np.array([p[1] for p in r.curve])
        row = np.interp(grid, t, y)
        row[(grid < t[0]) | (grid > t[-1])] = np.nan
        rows.append(row)
    return grid, np.array(rows)
