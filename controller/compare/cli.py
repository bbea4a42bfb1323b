"""`controller compare SCENARIO`: the scenario once per protocol (and
repeat), each on its own fresh testbed, then a side-by-side table and one
plot of every protocol's mean accuracy."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer

from controller.cliutil import err, out
from controller.compare import plan, write
from controller.compare.run import (
    Comparison,
    Options,
    check_ready,
    resolve_backend,
    run_all,
)
from controller.errors import ControllerError, UsageError
from controller.monitoring.cli import MonitoringOpt, PrometheusPortOpt, check_mode
from controller.monitoring.stack import PROMETHEUS_PORT
from controller.rundir import runs_root
from controller.scenario.loader import load_scenario
from controller.startup import interrupted_exit_code, unwind_on_sigterm


def compare(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    protocols: Annotated[
        str,
        typer.Option(help="Comma-separated protocols to run the scenario with."),
    ] = "heal,fedavg,gossip,epidemic",
    repeat: Annotated[
        int,
        typer.Option(
            help="Runs per protocol; run k uses the scenario's seed + k - 1, the "
            "same for every protocol."
        ),
    ] = 1,
    nodes: Annotated[
        int | None,
        typer.Option(help="Nodes, instead of the file's testbed.nodes."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the comparison (default: RUNS/compare/<scenario>-<time>).",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(help="docker or process, instead of the file's testbed.backend."),
    ] = None,
    base_port: Annotated[
        int, typer.Option(help="process backend: first port of each testbed.")
    ] = 47000,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait for each testbed's nodes.")
    ] = None,
    monitoring: MonitoringOpt = "auto",
    prometheus_port: PrometheusPortOpt = PROMETHEUS_PORT,
) -> None:
    """Run FILE once per protocol (and repeat) and put the results side by side.

    Each run gets a fresh testbed named <scenario>-<protocol>[-r<k>], which
    goes down when its scenario ends. The folder gets the variant scenario
    files, runs.csv (one row per run), comparison.csv/.json/.md (final
    accuracy, cycles and seconds to 0.80 and 0.85, messages and bytes per
    cycle beside what the protocol should send, recovery per fault; mean
    and spread over repeats) and accuracy.png, rewritten after every run.
    Under gossip and epidemic, steps aimed at hubs match no node and are
    listed as not run.
    """
    scenario = load_scenario(file)
    names = plan.parse_protocols(protocols)
    plan.check_repeat(repeat)
    if backend not in (None, "docker", "process"):
        raise UsageError(f"--backend {backend!r}: valid: docker, process")
    if nodes is not None and not 2 <= nodes <= 1000:
        raise UsageError(f"--nodes {nodes}: give 2 to 1000")
    if timeout is not None and not 0 < timeout < 86400:
        raise UsageError(f"--timeout {timeout}: give seconds above 0")
    check_mode(monitoring)
    folder = output or runs_root() / "compare" / time.strftime(
        f"{scenario.name}-%Y%m%d-%H%M%S"
    )
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--output {folder}: not a folder; give a new folder")
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"--output {folder}: not empty; give a new folder")
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"--output {folder}: cannot create it ({exc.strerror}); give a "
            "folder that can be written"
        ) from exc

    # Everything is checked before the first testbed starts; a folder made
    # for a comparison that never began goes again.
    try:
        variants = plan.variants(file, scenario, names, repeat, folder, nodes)
        backend = resolve_backend(backend or variants[0].scenario.testbed.backend)
        check_ready(variants, backend, base_port)
    except ControllerError:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    first = variants[0].scenario
    about = {
        "scenario": scenario.name,
        "source": str(file),
        "protocols": names,
        "repeat": repeat,
        "seeds": sorted({v.seed for v in variants}),
        "nodes": first.testbed.nodes,
        "backend": backend,
    }
    out.print(
        f"comparing {', '.join(names)} on {scenario.name} ({first.testbed.nodes} "
        f"nodes, {len(variants)} runs of {first.end_s:g} s each); results in "
        f"{folder}/",
        highlight=False,
    )
    unwind_on_sigterm()  # the testbed in use goes down on the way out
    comparison = Comparison(scenario.name, folder, about)
    options = Options(backend, base_port, timeout, monitoring, prometheus_port)
    try:
        run_all(comparison, variants, options, lambda line: out.print(line))
    except KeyboardInterrupt as exc:
        comparison.write()
        done = len(comparison.runs)
        err.print(
            f"interrupted: {done} of {len(variants)} runs finished, the testbed "
            f"in use is down; what was measured is in {folder}/"
        )
        raise typer.Exit(interrupted_exit_code(exc)) from None
    comparison.write()

    out.print((folder / write.FILES["markdown"]).read_text(), markup=False)
    out.print(f"written to {folder}/: " + ", ".join(write.FILES.values()))
    if comparison.failed:
        out.print(f"[red]{len(comparison.failed)} run(s) failed[/]")
        raise typer.Exit(1)
