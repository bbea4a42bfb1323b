"""`controller load`: Locust against the live testbed, with progress, a
summary, and the statistics kept in the run folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from controller.cliutil import out
from controller.errors import NoTestbedError
from controller.load.run import LoadParams, LoadRun
from controller.load.summary import summary_lines
from controller.rundir import resolve

PROGRESS_EVERY_S = 5.0


def load(
    users: Annotated[
        int, typer.Option("--users", "-u", help="Locust users (>= 1).")
    ] = 10,
    spawn_rate: Annotated[
        float, typer.Option("--spawn-rate", "-r", help="Users started per second.")
    ] = 10.0,
    duration: Annotated[
        float, typer.Option("--duration", "-t", help="Seconds of load.")
    ] = 30.0,
    as_node: Annotated[
        int | None,
        typer.Option(
            help="Call as if from this node's address, so that in-node link "
            "faults (a partition) treat the generator as that node's neighbour."
        ),
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Run directory of a live testbed (default: runs/current).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Call Predict and Status on the nodes with Locust, headless; the
    statistics go to RUN_DIR/load/."""
    params = LoadParams(users, spawn_rate, duration, as_node)
    params.check()
    if run_dir is not None and not run_dir.is_dir():
        raise NoTestbedError(f"{run_dir}: no such run directory")
    run = resolve(run_dir)
    job = LoadRun(run, params)
    job.start()
    out.print(
        f"load on {run.name}: {users} users (+{spawn_rate:g}/s) for {duration:g} s; "
        f"statistics to {job.prefix}_stats.csv"
    )
    try:
        _follow(job)
    except KeyboardInterrupt:
        out.print("interrupted: stopping Locust, keeping what it measured")
        job.stop()
    stats = job.finish()
    for line in summary_lines(stats):
        out.print(line, highlight=False)


def _follow(job: LoadRun) -> None:
    next_line = time.monotonic() + PROGRESS_EVERY_S
    while job.running:
        time.sleep(0.2)
        if time.monotonic() < next_line:
            continue
        next_line += PROGRESS_EVERY_S
        seen = job.progress()
        elapsed = time.time() - job.started
        if seen is None:
            out.print(f"[{elapsed:6.1f} s] starting", highlight=False)
        else:
            requests, failures, rps = seen
            out.print(
                f"[{elapsed:6.1f} s] {requests} requests, {failures} failures, "
                f"{rps:.1f} requests/s",
                highlight=False,
            )
