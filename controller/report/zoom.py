"""The lower panel of accuracy.png: the same mean accuracy on an axis fitted
to it from just before the first fault, where a dip of a hundredth shows,
with the moments each disturbance's hubs agreed again and its accuracy came
back within the tolerance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from controller.report.model import Observation
from controller.report.recovery import TOLERANCE, Figures

LEAD_S = 10.0  # shown before the first fault
MIN_SPAN = 0.02  # the smallest accuracy range the panel shows
Style = tuple[str, Literal["--", ":"], float]  # colour, line style, width
AGREE: Style = ("tab:green", "--", 1.0)
BACK: Style = ("tab:purple", ":", 1.4)


def wanted(observations: Sequence[Observation], figures: Sequence[Figures]) -> bool:
    """Whether a zoomed panel has anything to show."""
    return bool(figures) and len(_window(observations, figures)) >= 2


def draw(
    ax: Axes,
    observations: Sequence[Observation],
    figures: Sequence[Figures],
    colour: str,
) -> list[Line2D]:
    """Draw the panel; returns the legend entries of its markers."""
    shown = _window(observations, figures)
    means = [o.mean_accuracy for o in shown if o.mean_accuracy is not None]
    ax.plot(
        [o.t_s for o in observations],
        [_nan(o.mean_accuracy) for o in observations],
        color=colour,
    )
    low, high = min(means), max(means)
    pad = max((MIN_SPAN - (high - low)) / 2, 0.0) + 0.1 * (high - low)
    ax.set_ylim(low - pad, high + pad)
    ax.set_ylabel("mean accuracy\n(zoomed)")
    entries = []
    for f in figures:
        if f.hubs_agree_s is not None and f.hubs_agree_s > 0:
            _mark(ax, f.at_s + f.hubs_agree_s, AGREE)
        if f.dipped_at_s is not None and f.back_within_s is not None:
            _mark(ax, f.at_s + f.back_within_s, BACK)
    if any(f.hubs_agree_s for f in figures):
        entries.append(_entry("hubs agree again", AGREE))
    if any(f.dipped_at_s is not None and f.back_within_s for f in figures):
        label = f"back within {TOLERANCE:g}"
        entries.append(_entry(label, BACK))
    return entries


def _window(
    observations: Sequence[Observation], figures: Sequence[Figures]
) -> list[Observation]:
    first = min((f.at_s for f in figures), default=math.inf)
    return [
        o
        for o in observations
        if o.t_s >= first - LEAD_S and o.mean_accuracy is not None
    ]


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _mark(ax: Axes, at_s: float, style: Style) -> None:
    colour, line, width = style
    ax.axvline(at_s, color=colour, linestyle=line, linewidth=width)


def _entry(label: str, style: Style) -> Line2D:
    colour, line, width = style
    return Line2D([], [], color=colour, linestyle=line, linewidth=width, label=label)
