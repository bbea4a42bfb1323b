"""`controller report [RUN_DIR]`: tables, plots and a summary of a run,
from Prometheus or from the run's event log."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from controller.cliutil import out
from controller.errors import UsageError
from controller.report.build import write_report
from controller.report.events import LOG_NAME
from controller.report.prom import DEFAULT_STEP_S
from controller.report.sources import load
from controller.report.summary import one_line
from controller.rundir import RunDir, resolve


class Source(StrEnum):
    auto = "auto"
    prometheus = "prometheus"
    log = "log"


def report(
    run_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Run directory, its events.jsonl, or the testbed's name "
            "(default: runs/current).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder for the report (default: RUN_DIR/report).",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        Source,
        typer.Option(
            help="Where observations come from: prometheus, the log (its own "
            "observations, else the exporter's), or auto: Prometheus when it "
            "answers and holds the testbed's series, else the log."
        ),
    ] = Source.auto,
    prometheus: Annotated[
        str | None,
        typer.Option(
            help="Prometheus URL (default: the one `up` started for this runs "
            "root, if any).",
            show_default=False,
        ),
    ] = None,
    step: Annotated[
        float,
        typer.Option(help="Seconds between points taken from Prometheus."),
    ] = DEFAULT_STEP_S,
) -> None:
    """Report on the last scenario run of RUN_DIR (or, with no scenario run,
    on the testbed's life).

    Writes series.csv (one row per observation), faults.csv, recovery.csv
    (per fault: time until the hubs agree again, accuracy dip, time until
    accuracy is back; for partitions from Prometheus, the drift between the
    sides), accuracy.png, hubs.png, alive.png, summary.md and summary.json;
    from Prometheus also nodes.csv, messages.csv, messages_per_cycle.csv and
    messages.png; with `controller load` runs in RUN_DIR/load, load.csv and
    their figures. Prints the source used and one line per fault.
    """
    if output is not None and not output.strip():
        raise UsageError("--output is empty: give the folder for the report")
    run, log = _where(run_dir)
    loaded = load(run, log, source.value, prometheus, step)
    for line in loaded.said:
        out.print(line, highlight=False)
    data = loaded.run
    folder = Path(output) if output is not None else run.path / "report"
    written = write_report(data, folder, run.path / "load")

    out.print(
        f"report on {data.name} ({len(data.observations)} observations, "
        f"{len(data.faults)} fault{'' if len(data.faults) == 1 else 's'}) "
        f"written to {written.folder}/",
        highlight=False,
    )
    out.print("  " + ", ".join(written.files.values()), highlight=False)
    for figures in written.figures:
        out.print("  " + one_line(figures), highlight=False)


def _where(run_dir: Path | None) -> tuple[RunDir, Path | None]:
    """The run directory, and its event log if it has one."""
    if run_dir is not None and run_dir.is_file():
        return RunDir(run_dir.resolve().parent), run_dir
    run = resolve(run_dir)
    log = run.path / LOG_NAME
    return run, log if log.exists() else None
