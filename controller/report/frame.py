"""The frame every plot of the report shares: a strip of the faults on top,
one row each, coloured by kind and named, and panels below on one time
axis that shade the same windows lightly, so that overlapping faults stay
told apart. Drawn on matplotlib's Agg canvas: no display, and no pyplot
state shared with the caller."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from controller.report.model import RunData

DPI = 110
WIDTH_IN = 10.0
FAULT_ROW_IN = 0.28  # height of one fault's row in the strip
SHADE_ALPHA = 0.15
# Fault colours; tab:blue is the data's.
PALETTE = ["tab:red", "tab:orange", "tab:green", "tab:purple", "tab:brown"]
PALETTE += ["tab:pink", "tab:olive", "tab:cyan", "tab:gray"]


def layout(run: RunData, title: str, heights: list[float]) -> tuple[Figure, list[Axes]]:
    """A figure with the fault strip on top and panels of the given heights
    (inches) below it, all on one time axis; returns the panels."""
    strip = FAULT_ROW_IN * len(run.faults) + 0.3 if run.faults else 0.0
    ratios = ([strip] if strip else []) + heights
    fig = Figure(figsize=(WIDTH_IN, sum(ratios) + 1.0), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.subplots(
        len(ratios), 1, sharex=True, height_ratios=ratios, squeeze=False
    )
    axes = list(grid[:, 0])
    fig.suptitle(title)
    if strip:
        fault_strip(axes.pop(0), run)
    last = run.observations[-1].t_s if run.observations else run.end_s
    for ax in axes:
        shade(ax, run)
        ax.set_xlim(0, max(last, 1.0))
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel(f"time since {run.clock} (s)")
    return fig, axes


def fault_strip(ax: Axes, run: RunData) -> None:
    colours = kind_colours(run)
    for row, f in enumerate(run.faults):
        end = run.end_s if f.cleared_s is None else f.cleared_s
        width = max(end - f.applied_s, 0.3)  # a restart is a moment
        ax.barh(row, width, left=f.applied_s, height=0.7, color=colours[f.kind])
        ax.text(
            f.applied_s,
            row,
            f" {f.fault_id}",
            va="center",
            fontsize="small",
            clip_on=True,
        )
    ax.set_ylim(len(run.faults) - 0.5, -0.5)
    ax.set_yticks([])
    ax.set_ylabel("faults", rotation=0, ha="right", va="center")
    ax.tick_params(labelbottom=False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def shade(ax: Axes, run: RunData) -> None:
    colours = kind_colours(run)
    for f in run.faults:
        end = run.end_s if f.cleared_s is None else f.cleared_s
        # Under the data (zorder 0), so that it does not tint it.
        if end > f.applied_s:
            ax.axvspan(
                f.applied_s, end, color=colours[f.kind], alpha=SHADE_ALPHA, zorder=0
            )
        else:
            ax.axvline(f.applied_s, color=colours[f.kind], linewidth=1.5, zorder=0)


def legend(
    ax: Axes,
    run: RunData,
    extra: Sequence[Patch | Line2D] = (),
    kinds: bool = True,
) -> None:
    """Outside the plot, on the right: the data, then one entry per kind."""
    handles, _ = ax.get_legend_handles_labels()
    handles += list(extra)
    if kinds:
        handles += [
            Patch(color=colour, label=f"fault: {kind}")
            for kind, colour in kind_colours(run).items()
        ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small"
    )


def kind_colours(run: RunData) -> dict[str, str]:
    kinds = sorted({f.kind for f in run.faults})
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(kinds)}
