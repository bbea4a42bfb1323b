"""Write a whole report for one run into a folder.

Whatever the source of the run (the event log today), the report is made
from a RunData: its tables, plots and summary need nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controller.errors import UsageError
from controller.report import markdown, plots, series, summary
from controller.report.model import RunData
from controller.report.recovery import Figures, recovery

FILES = {
    "series": "series.csv",
    "faults": "faults.csv",
    "recovery": "recovery.csv",
    "accuracy": "accuracy.png",
    "hubs": "hubs.png",
    "alive": "alive.png",
    "markdown": "summary.md",
    "json": "summary.json",
}


@dataclass(frozen=True)
class Written:
    folder: Path
    figures: list[Figures]
    rows: dict[str, int]  # data rows of each CSV table


def write_report(run: RunData, folder: Path) -> Written:
    if not run.observations:
        raise UsageError(
            f"{run.source} has no observations for {_what(run)}: they are "
            "written by `controller scenario run FILE`, every observe_period_s"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output {folder}: cannot create it ({exc})") from exc

    figures = recovery(run)
    rows = {
        "series": series.write_series(folder / FILES["series"], run),
        "faults": series.write_faults(folder / FILES["faults"], run),
        "recovery": series.write_recovery(folder / FILES["recovery"], figures),
    }
    plots.accuracy_plot(run, folder / FILES["accuracy"])
    plots.hubs_plot(run, folder / FILES["hubs"])
    plots.alive_plot(run, folder / FILES["alive"])

    figures_json = summary.as_json(run, figures, dict(FILES))
    summary.write_json(folder / FILES["json"], figures_json)
    markdown.write_markdown(folder / FILES["markdown"], figures_json)
    return Written(folder, figures, rows)


def _what(run: RunData) -> str:
    if run.scenario is None:
        return "the faults it records (no scenario run)"
    return f"scenario run {run.name}"
