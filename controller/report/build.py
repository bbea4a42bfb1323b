"""Write a whole report for one run into a folder.

Whatever the source of the run (the event log or Prometheus), the report
is made from a RunData: its tables, plots and summary need nothing else.
Per-node series, when the source has them, add tables and a plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controller.errors import UsageError
from controller.report import markdown, messages, nodetables, plots, series, summary
from controller.report.load import load_runs, write_load
from controller.report.model import RunData
from controller.report.msgplot import messages_plot
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
NODE_FILES = {
    "nodes": "nodes.csv",
    "messages": "messages.csv",
    "per_cycle": "messages_per_cycle.csv",
    "messages_plot": "messages.png",
}


@dataclass(frozen=True)
class Written:
    folder: Path
    figures: list[Figures]
    rows: dict[str, int]  # data rows of each CSV table
    files: dict[str, str]


def write_report(run: RunData, folder: Path, load_dir: Path | None = None) -> Written:
    """load_dir: where `controller load` kept Locust's statistics."""
    if not run.observations:
        raise UsageError(
            f"{run.source} has no observations for {_what(run)}: they are "
            "written by `controller scenario run FILE`, every observe_period_s, "
            "and by the testbed's exporter, which Prometheus scrapes"
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
    plots.accuracy_plot(run, folder / FILES["accuracy"], figures)
    plots.hubs_plot(run, folder / FILES["hubs"])
    plots.alive_plot(run, folder / FILES["alive"])

    files = dict(FILES)
    per_cycle: list[messages.PerCycle] = []
    if run.per_node is not None:
        files |= NODE_FILES
        per_cycle = messages.per_cycle(run.per_node)
        rows |= {
            "nodes": nodetables.write_nodes(folder / files["nodes"], run.per_node),
            "messages": nodetables.write_messages(
                folder / files["messages"], run.per_node
            ),
            "per_cycle": nodetables.write_per_cycle(
                folder / files["per_cycle"], per_cycle
            ),
        }
        messages_plot(run, per_cycle, folder / files["messages_plot"])

    loads, load_notes = load_runs(load_dir)
    if loads:
        files["load"] = "load.csv"
        rows["load"] = write_load(folder / files["load"], loads)

    figures_json = summary.as_json(run, figures, files)
    figures_json["messages_per_cycle"] = messages.mean_per_cycle(per_cycle)
    figures_json["load"] = loads
    figures_json["notes"] += load_notes
    summary.write_json(folder / files["json"], figures_json)
    markdown.write_markdown(folder / files["markdown"], figures_json)
    return Written(folder, figures, rows, files)


def _what(run: RunData) -> str:
    if run.scenario is None:
        return f"testbed {run.testbed}" if run.testbed else "the faults it records"
    return f"scenario run {run.name}"
