"""`controller report [RUN_DIR]`: tables, plots and a summary of a run,
from its event log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from controller.cliutil import out
from controller.errors import NoTestbedError
from controller.report.build import FILES, write_report
from controller.report.events import LOG_NAME
from controller.report.summary import one_line
from controller.report.timeline import load_run
from controller.rundir import resolve


def report(
    run_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Run directory, or its events.jsonl (default: runs/current).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder for the report (default: RUN_DIR/report).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Report on the last scenario run of RUN_DIR/events.jsonl.

    Writes series.csv (one row per observation), faults.csv, recovery.csv
    (per fault: time until the hubs agree again, accuracy dip, time until
    accuracy is back), accuracy.png, hubs.png, alive.png, summary.md and
    summary.json, and prints one line per fault.
    """
    log = _log(run_dir)
    run = load_run(log)
    folder = output if output is not None else log.parent / "report"
    written = write_report(run, folder)

    out.print(
        f"report on {run.name} ({len(run.observations)} observations, "
        f"{len(run.faults)} faults) written to {written.folder}/",
        highlight=False,
    )
    out.print("  " + ", ".join(FILES.values()), highlight=False)
    for figures in written.figures:
        out.print("  " + one_line(figures), highlight=False)


def _log(run_dir: Path | None) -> Path:
    if run_dir is not None and run_dir.is_file():
        return run_dir
    if run_dir is not None and not run_dir.exists():
        raise NoTestbedError(f"{run_dir}: no such run directory or event log")
    log = resolve(run_dir).path / LOG_NAME
    if not log.exists():
        raise NoTestbedError(
            f"{log} does not exist: run a scenario first "
            "(`controller scenario run FILE`), which writes the event log"
        )
    return log
