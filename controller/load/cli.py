"""`controller load`: Locust against the live testbed, with progress, a
summary, and the statistics kept in the run folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from controller.cliutil import err, out
from controller.errors import EXIT_NO_TESTBED, ControllerError
from controller.load.run import DEFAULT_SPAWN_RATE, LoadParams, LoadRun
from controller.load.summary import summary_lines
from controller.rundir import RunDir, resolve
from controller.startup import interrupted_exit_code, unwind_on_sigterm

PROGRESS_EVERY_S = 5.0


def load(
    users: Annotated[
        int, typer.Option("--users", "-u", help="Locust users, 1 to 10000.")
    ] = 10,
    spawn_rate: Annotated[
        float,
        typer.Option(
            "--spawn-rate", "-r", help="Users started per second, 0.01 to 10000."
        ),
    ] = DEFAULT_SPAWN_RATE,
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
            help="Run directory or name of a live testbed (default: runs/current).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Call Predict and Status on the nodes with Locust, headless; the
    statistics go to RUN_DIR/load/."""
    params = LoadParams(users, spawn_rate, duration, as_node)
    params.check()
    run = resolve(run_dir)
    job = LoadRun(run, params)
    # SIGTERM stops Locust as Ctrl-C does; else it goes on without us.
    unwind_on_sigterm()
    interrupted: KeyboardInterrupt | None = None
    gone = False
    try:
        job.start()
        out.print(
            f"load on {run.name}: {users} users (+{spawn_rate:g}/s) for "
            f"{duration:g} s; statistics to {job.prefix}_stats.csv"
        )
        gone = _follow(job)
        if gone:
            out.print(f"testbed {run.name} went down: stopping Locust")
            job.stop()
    except KeyboardInterrupt as exc:
        if not job.launched:
            raise typer.Exit(interrupted_exit_code(exc)) from None
        out.print("interrupted: stopping Locust, keeping what it measured")
        job.stop()
        interrupted = exc
    stats = job.finish()
    for line in summary_lines(stats):
        out.print(line, highlight=False)
    if interrupted is not None:
        err.print(
            f"interrupted: the figures up to the stop are in {job.prefix}_stats.csv",
            highlight=False,
        )
        raise typer.Exit(interrupted_exit_code(interrupted))
    if gone:
        err.print(
            f"testbed {run.name} went down during the load; the figures up to "
            f"then are in {job.prefix}_stats.csv",
            highlight=False,
        )
        raise typer.Exit(EXIT_NO_TESTBED)


def _follow(job: LoadRun) -> bool:
    """Progress lines until Locust ends; True when the testbed went down."""
    next_line = time.monotonic() + PROGRESS_EVERY_S
    while job.running:
        time.sleep(0.2)
        if time.monotonic() < next_line:
            continue
        next_line += PROGRESS_EVERY_S
        if _gone(job.run):
            return True
        seen = job.progress()
        elapsed = time.time() - job.started
        if seen is None:
            out.print(f"[{elapsed:6.1f} s] starting", highlight=False)
        elif seen[0] == 0:  # Locust's first row comes before any call ends
            out.print(f"[{elapsed:6.1f} s] no call finished yet", highlight=False)
        else:
            requests, failures, rps = seen
            out.print(
                f"[{elapsed:6.1f} s] {requests} requests, {failures} failures, "
                f"{rps:.1f} requests/s",
                highlight=False,
            )
    return False


def _gone(run: RunDir) -> bool:
    try:
        return run.load().phase != "up"
    except ControllerError:
        return True
