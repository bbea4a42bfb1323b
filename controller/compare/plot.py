"""accuracy.png: every protocol's mean test accuracy over time, one line a
protocol (the mean over its repeats, with their range as a band), and the
moments the scenario's faults hit, as dashed lines in the protocol's
colour. Below, the same lines from the first fault on (or the last two
thirds of the run without faults) on an axis fitted to them: the gaps
between protocols and a fault's dip are a few hundredths, invisible on 0-1.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from controller.compare.measure import RunFigures

GRID_S = 1.0  # repeats are put on one grid of this step to be averaged
LEAD_S = 15.0  # the zoom starts this long before the first fault


@dataclass(frozen=True)
class _Line:
    protocol: str
    label: str
    colour: str
    grid: np.ndarray
    mean: np.ndarray
    band: tuple[np.ndarray, np.ndarray] | None
    hits: list[float]


def accuracy_plot(scenario: str, runs: list[RunFigures], path: Path) -> Path:
    fig = Figure(figsize=(10, 8), dpi=110)
    FigureCanvasAgg(fig)
    whole, zoom = fig.subplots(2, 1, height_ratios=[3, 2])
    lines = _lines(runs)
    for ax in (whole, zoom):
        for line in lines:
            _draw(ax, line)
        ax.set_xlabel("time since scenario start (s)")
        ax.set_ylabel("mean test accuracy")
        ax.grid(True, alpha=0.3)
    whole.set_title(f"{scenario}: mean test accuracy of the nodes, by protocol")
    whole.set_ylim(0, 1)
    if any(line.hits for line in lines):
        whole.plot([], [], color="grey", linestyle="--", label="a fault applied")
    if lines:
        whole.legend(loc="lower right")
        _fit(zoom, lines)
    else:
        whole.text(
            0.5, 0.5, "no run has finished", ha="center", transform=whole.transAxes
        )
        zoom.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _lines(runs: list[RunFigures]) -> list[_Line]:
    found = []
    protocols = list(dict.fromkeys(r.protocol for r in runs))
    for index, protocol in enumerate(protocols):
        mine = [r for r in runs if r.protocol == protocol and len(r.curve) > 1]
        if not mine:
            continue
        grid, curves = _on_grid(mine)
        band = None
        with warnings.catch_warnings():  # all-NaN columns past every run's end
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(curves, axis=0)
            if len(mine) > 1:
                band = (np.nanmin(curves, axis=0), np.nanmax(curves, axis=0))
        label = protocol + (f" (mean of {len(mine)})" if len(mine) > 1 else "")
        hits = sorted({f.at_s for r in mine for f in r.faults if not f.failed})
        found.append(_Line(protocol, label, f"C{index}", grid, mean, band, hits))
    return found


def _draw(ax: Axes, line: _Line) -> None:
    ax.plot(line.grid, line.mean, color=line.colour, label=line.label, linewidth=1.6)
    if line.band is not None:
        low, high = line.band
        ax.fill_between(line.grid, low, high, color=line.colour, alpha=0.15, lw=0)
    for at in line.hits:
        ax.axvline(at, color=line.colour, linestyle="--", linewidth=0.9, alpha=0.7)


def _fit(ax: Axes, lines: list[_Line]) -> None:
    end = max(float(line.grid[-1]) for line in lines)
    hits = [at for line in lines for at in line.hits]
    start = max(0.0, min(hits) - LEAD_S) if hits else end / 3
    shown = np.concatenate(
        [line.mean[line.grid >= start] for line in lines]
        + [b[line.grid >= start] for line in lines if line.band for b in line.band]
    )
    shown = shown[np.isfinite(shown)]
    if shown.size == 0:
        ax.set_visible(False)
        return
    low, high = float(shown.min()), float(shown.max())
    pad = max(0.005, (high - low) * 0.1)
    ax.set_xlim(start, end)
    ax.set_ylim(low - pad, high + pad)
    what = "from just before the first fault" if hits else "the last two thirds"
    ax.set_title(f"zoomed: {what}", fontsize=10)


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
