"""`controller scenario run FILE`: bring the scenario's testbed up if it is
not, run the timeline, print it as it goes, and write the event log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from controller import testbed
from controller.cliutil import out
from controller.errors import UsageError
from controller.monitoring.cli import (
    MonitoringOpt,
    PrometheusPortOpt,
    check_mode,
    start_monitoring,
    stop_monitoring,
)
from controller.monitoring.stack import PROMETHEUS_PORT
from controller.plan import TestbedSettings
from controller.rundir import RunDir, check_name, runs_root
from controller.scenario.cli import app, count_steps
from controller.scenario.loader import load_scenario
from controller.scenario.runner import ScenarioRunner
from controller.scenario.schema import Scenario
from controller.startup import (
    bring_up,
    choose_backend,
    report_fault_ways,
    unwind_on_sigterm,
)


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    name: Annotated[
        str | None,
        typer.Option(help="Testbed to run on (default: the scenario's name)."),
    ] = None,
    keep_faults: Annotated[
        bool, typer.Option(help="Leave the faults in force at the end.")
    ] = False,
    down: Annotated[
        bool, typer.Option(help="Stop the testbed when the scenario ends.")
    ] = False,
    backend: Annotated[
        str | None,
        typer.Option(help="docker or process, instead of the file's testbed.backend."),
    ] = None,
    base_port: Annotated[
        int, typer.Option(help="process backend: first port, if it starts one.")
    ] = 47000,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait for nodes, if it starts them.")
    ] = None,
    monitoring: MonitoringOpt = "auto",
    prometheus_port: PrometheusPortOpt = PROMETHEUS_PORT,
) -> None:
    """Run FILE's timeline on its testbed, starting the testbed if needed.

    Steps print as they fire; every applied and undone fault, a status
    sample every observe_period_s and the recovery after each fault go to
    RUN_DIR/events.jsonl. Faults still in force at the end are cleared.
    """
    scenario = load_scenario(file)
    if backend not in (None, "docker", "process"):
        raise UsageError(f"--backend {backend!r}: valid: docker, process")
    if timeout is not None and not 0 < timeout < 86400:
        raise UsageError(f"--timeout {timeout}: give seconds above 0")
    check_mode(monitoring)
    unwind_on_sigterm()  # faults in force are cleared on the way out
    run_dir = testbed_for(scenario, name or scenario.name, backend, base_port, timeout)
    start_monitoring(run_dir, monitoring, prometheus_port)
    running_on = testbed.backend_named(run_dir.load().backend)
    out.print(
        f"scenario [bold]{scenario.name}[/]: {count_steps(len(scenario.steps))} over "
        f"{scenario.end_s:g} s on testbed {run_dir.name} "
        f"(events: {run_dir.path / 'events.jsonl'})"
    )
    try:
        outcome = ScenarioRunner(
            scenario,
            run_dir,
            running_on,
            lambda line: out.print(line, highlight=False),
            # Nodes that are stopped anyway need not be restarted first.
            keep_faults=keep_faults or down,
        ).execute()
    finally:
        if down:
            left = testbed.down(run_dir)
            stop_monitoring(run_dir)
            out.print("testbed down" + (f"; left behind: {left}" if left else ""))
    if outcome.failed_steps:
        out.print(f"[red]failed steps:[/] {', '.join(outcome.failed_steps)}")
        raise typer.Exit(1)


def settings_for(scenario: Scenario, base_port: int) -> TestbedSettings:
    """The testbed the header describes at base_port; a bad port is a
    UsageError naming --base-port."""
    try:
        return scenario.settings(base_port=base_port)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        raise UsageError(f"--base-port {base_port}: {problems}") from exc


def testbed_for(
    scenario: Scenario,
    name: str,
    backend_name: str | None,
    base_port: int,
    timeout: float | None,
) -> RunDir:
    """The running testbed of that name, or a new one as the header says."""
    check_name(name)
    run_dir = RunDir((runs_root() / name).resolve())
    wanted = scenario.testbed.nodes
    if run_dir.state_file.exists():
        state = run_dir.load()
        if state.phase == "up":
            live = testbed.backend_named(state.backend).liveness(
                run_dir, state, memory=False
            )
            alive = sum(v.alive for v in live.values())
            if alive < len(state.nodes) or len(state.nodes) != wanted:
                raise UsageError(
                    f"testbed {name} is up with {alive} of {len(state.nodes)} nodes "
                    f"alive; {scenario.name} wants {wanted} fresh nodes. Stop it "
                    f"(`controller down --run-dir {run_dir.path}`) or pass --name"
                )
            out.print(f"using the running testbed {name} ({wanted} nodes)")
            return run_dir
    settings = settings_for(scenario, base_port)
    backend = choose_backend(
        backend_name or scenario.testbed.backend, subnet=None, memory=None, cpus=None
    )
    out.print(f"starting testbed {name}: {wanted} nodes on the {backend.name} backend")
    bring_up(settings, backend, run_dir, timeout)
    report_fault_ways(run_dir, backend)
    return run_dir
