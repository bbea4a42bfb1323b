"""The zoomed accuracy panel: an axis fitted from just before the first
fault, and the moments of recovery marked."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from controller.report import zoom
from controller.report.recovery import recovery
from controller.report.timeline import load_run
from tests.unit.test_report_recovery import crash_then_partition


def test_the_axis_fits_the_mean_from_just_before_the_fault(tmp_path: Path) -> None:
    run = load_run(crash_then_partition(tmp_path / "events.jsonl"))
    figures = recovery(run)
    assert zoom.wanted(run.observations, figures)
    ax = Figure().subplots()
    marks = zoom.draw(ax, run.observations, figures, "tab:blue")
    low, high = ax.get_ylim()
    shown = [
        o.mean_accuracy
        for o in run.observations
        if o.t_s >= figures[0].at_s - zoom.LEAD_S and o.mean_accuracy is not None
    ]
    assert low < min(shown) and max(shown) < high
    assert high - low < 0.5  # not the whole 0-1 range
    # The crash's hubs agreed at 13 s and its accuracy was back at 15 s.
    lines = {round(line.get_xdata()[0], 3) for line in ax.get_lines()[1:]}
    assert {13.0, 15.0} <= lines, lines
    assert [m.get_label() for m in marks] == ["hubs agree again", "back within 0.01"]


def test_no_panel_without_faults(tmp_path: Path) -> None:
    run = load_run(crash_then_partition(tmp_path / "events.jsonl"))
    assert not zoom.wanted(run.observations, [])
