"""`python -m controller`: start, inspect and stop a testbed."""

from __future__ import annotations

import json
import logging
import time
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from controller import testbed
from controller.cliutil import Commands, RunDirOpt, err, out
from controller.compare.cli import compare
from controller.errors import UsageError
from controller.fault_cli import fault_app, probe
from controller.load.cli import load
from controller.monitoring.cli import (
    MonitoringOpt,
    PrometheusPortOpt,
    check_mode,
    exporter_cmd,
    start_monitoring,
    stop_monitoring,
)
from controller.monitoring.cli import app as monitoring_app
from controller.monitoring.stack import PROMETHEUS_PORT
from controller.plan import TestbedSettings
from controller.report.cli import report
from controller.rundir import resolve, runs_root
from controller.scenario.run_cli import app as scenario_app
from controller.startup import (
    DOCKER_START_S_PER_NODE,
    bring_up,
    choose_backend,
    report_fault_ways,
)
from node.config import PROTOCOLS

MAX_TIMEOUT_S = 86400.0

app = Commands(
    add_completion=False,
    no_args_is_help=True,
    help="A network-emulation testbed for decentralized learning (HEAL). "
    "Start nodes with `up`, watch them with `status`, stop them "
    "with `down`. Exit codes: 0 ok, 1 failed, 2 bad input, 3 no testbed, "
    "4 conflict (ports or name in use).",
)


def _parse_sets(items: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE, e.g. --set c=10")
        values[key.strip().replace("-", "_")] = value.strip()
    return values


@app.command()
def up(
    nodes: Annotated[
        int, typer.Option("--nodes", "-n", help="Number of nodes (>= 2).")
    ],
    backend: Annotated[
        str,
        typer.Option(
            help="Where nodes run: docker, process, or auto (docker when an "
            "engine answers, else process)."
        ),
    ] = "auto",
    name: Annotated[
        str | None, typer.Option(help="Testbed name (run directory under runs/).")
    ] = None,
    dataset: Annotated[str, typer.Option(help="mnist5k or digits.")] = "mnist5k",
    partition: Annotated[str, typer.Option(help="iid or dirichlet.")] = "iid",
    alpha: Annotated[float, typer.Option(help="Dirichlet concentration.")] = 0.5,
    seed: Annotated[int, typer.Option(help="Seed for data, overlay, training.")] = 0,
    model: Annotated[str, typer.Option(help="mlp or lenet5.")] = "mlp",
    protocol: Annotated[
        str,
        typer.Option(
            help="Learning protocol: heal, or a baseline: fedavg (one server), "
            "gossip, epidemic."
        ),
    ] = "heal",
    server_id: Annotated[
        int | None, typer.Option(help="fedavg: the server's node id (default 0).")
    ] = None,
    c: Annotated[int | None, typer.Option("--c", help="Elevator cache size.")] = None,
    h: Annotated[int | None, typer.Option("--h", help="Hub slots.")] = None,
    s: Annotated[
        int | None, typer.Option("--s", help="Hubs a client pushes to.")
    ] = None,
    cycle_period: Annotated[
        float | None,
        typer.Option(help="Minimum learning cycle, seconds (default: paced)."),
    ] = None,
    overlay_period: Annotated[
        float | None, typer.Option(help="Elevator cycle, seconds (default: 2 x cycle).")
    ] = None,
    delta: Annotated[
        float | None, typer.Option(help="Hub window, seconds (default: cycle / 2).")
    ] = None,
    local_steps: Annotated[int | None, typer.Option(help="Steps per cycle.")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="Any node setting, KEY=VALUE (repeatable)."),
    ] = None,
    base_port: Annotated[
        int, typer.Option(help="First port; node i uses base+2i and base+2i+1.")
    ] = 47000,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds to wait for every node to be healthy (default: 90, "
            f"and on docker at least {DOCKER_START_S_PER_NODE:g} s a node)."
        ),
    ] = None,
    subnet: Annotated[
        str | None,
        typer.Option(help="docker: the network's IPv4 range (default: a free one)."),
    ] = None,
    memory: Annotated[
        str | None, typer.Option(help="docker: memory limit a node, e.g. 512m, 1g.")
    ] = None,
    cpus: Annotated[
        float | None, typer.Option(help="docker: CPUs a node, e.g. 0.5 (no limit).")
    ] = None,
    monitoring: MonitoringOpt = "auto",
    prometheus_port: PrometheusPortOpt = PROMETHEUS_PORT,
) -> None:
    """Start a testbed of NODES nodes and wait until every one answers.

    Cycle lengths left unset are paced to the machine: the learning cycle is
    max(1 s, k x nodes per core), k = 0.08 s for processes and 0.12 s for
    containers, so 50 processes on 2 cores cycle every 2 s.
    Every node setting (see `python -m node --help`) can be given with --set.
    """
    _check_protocol(protocol, server_id, nodes)
    # NaN fails the range check too.
    if timeout is not None and not 0 < timeout < MAX_TIMEOUT_S:
        raise UsageError(
            f"--timeout {timeout:g}: give the seconds to wait for health, above 0 "
            f"and below {MAX_TIMEOUT_S:g} (a day)"
        )
    node: dict[str, Any] = {"model": model, "protocol": protocol}
    shortcuts = {
        "server_id": server_id,
        "c": c,
        "h": h,
        "s": s,
        "cycle_period_s": cycle_period,
        "overlay_period_s": overlay_period,
        "delta_s": delta,
        "local_steps": local_steps,
        "lr": lr,
    }
    node.update({k: v for k, v in shortcuts.items() if v is not None})
    node.update(_parse_sets(sets or []))
    try:
        settings = TestbedSettings.model_validate(
            {
                "nodes": nodes,
                "dataset": dataset,
                "partition": partition,
                "alpha": alpha,
                "seed": seed,
                "base_port": base_port,
                "node": node,
            }
        )
    except ValidationError as exc:
        raise UsageError(_flag_errors(exc)) from exc
    check_mode(monitoring)
    chosen = choose_backend(backend, subnet=subnet, memory=memory, cpus=cpus)
    run = testbed.default_run_dir(runs_root(), name)
    started = time.monotonic()
    views = bring_up(settings, chosen, run, timeout)
    out.print(
        f"testbed [bold]{run.name}[/] up: {len(views)} nodes healthy on the "
        f"{chosen.name} backend in {time.monotonic() - started:.1f} s "
        f"(run dir {run.path})"
    )
    report_fault_ways(run, chosen)
    start_monitoring(run, monitoring, prometheus_port)
    out.print(
        "next: `controller status`, `controller wait --accuracy 0.85`, "
        "`controller down`"
    )


def _check_protocol(protocol: str, server_id: int | None, nodes: int) -> None:
    if protocol not in PROTOCOLS:
        raise UsageError(
            f"--protocol {protocol!r}: not a protocol; valid: {', '.join(PROTOCOLS)}"
        )
    if server_id is None:
        return
    if protocol != "fedavg":
        raise UsageError(
            f"--server-id applies to --protocol fedavg only, not {protocol}"
        )
    if not 0 <= server_id < nodes:
        raise UsageError(f"--server-id {server_id}: no such node; valid: 0-{nodes - 1}")


def _flag_errors(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        message = str(e["msg"]).removeprefix("Value error, ")
        if loc:
            message = f"--{loc[-1].replace('_', '-')}: {message}"
        parts.append(message)
    return "; ".join(parts)


@app.command()
def status(
    run_dir: RunDirOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON array, one object per node.")
    ] = False,
) -> None:
    """Show every node: role, cycle, accuracy, peers, hub list agreement."""
    run = resolve(run_dir)
    if run.load().phase == "down" and not as_json:
        out.print(f"testbed {run.name} is down; start one with `controller up`")
        return
    views = testbed.collect(run, with_logs=True)
    if as_json:
        out.print_json(json.dumps([v.as_json() for v in views]))
        return
    protocols = sorted({v.protocol for v in views if v.protocol})
    table = Table(title=f"testbed {run.name} ({', '.join(protocols) or '-'})")
    for column in (
        "node",
        "alive",
        "role",
        "cycle",
        "accuracy",
        "peers",
        "hubs",
        "agree",
        "mem MiB",
    ):
        table.add_column(column, justify="right")
    for v in views:
        table.add_row(
            str(v.id),
            "yes" if v.alive else f"[red]exit {v.exit_code}[/]",
            v.role or "-",
            _fmt(v.cycle),
            _fmt(v.accuracy, "{:.3f}"),
            _fmt(v.peers),
            ",".join(map(str, v.hubs)) or "-",
            "yes" if v.hubs_agree else "no",
            _fmt(v.memory_mib, "{:.0f}"),
        )
    out.print(table)
    out.print(_summary(views))
    _print_last_logs(views)


def _print_last_logs(views: list[testbed.NodeView]) -> None:
    """The last log lines of every node that is not alive, under the table."""
    for v in views:
        if v.alive or v.last_log is None:
            continue
        exited = "exited" if v.exit_code is None else f"exited with code {v.exit_code}"
        out.print(f"node {v.id} {exited}; its last log lines:", highlight=False)
        for line in v.last_log or ["(empty log)"]:
            out.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)


def _fmt(value: object, pattern: str = "{}") -> str:
    return "-" if value is None else pattern.format(value)


def _summary(views: list[testbed.NodeView]) -> str:
    alive = [v for v in views if v.alive]
    accs = [v.accuracy for v in alive if v.accuracy is not None]
    mean = sum(accs) / len(accs) if accs else float("nan")
    return (
        f"{len(alive)}/{len(views)} alive, mean accuracy {mean:.3f}, hubs "
        f"{testbed.majority_hubs(views)} agreed by {testbed.agreement(views):.0%}"
    )


@app.command()
def wait(
    accuracy: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Target mean test accuracy.")
    ] = 0.85,
    agreement: Annotated[float, typer.Option(help="Target hub agreement.")] = 0.0,
    timeout: Annotated[float, typer.Option(help="Give up after seconds.")] = 600.0,
    run_dir: RunDirOpt = None,
) -> None:
    """Wait until the mean accuracy (and hub agreement) reach a target."""
    run = resolve(run_dir)
    started = time.monotonic()
    while True:
        views = testbed.collect(run)
        elapsed = time.monotonic() - started
        err.print(f"[{elapsed:6.1f}s] {_summary(views)}")
        if not any(v.alive for v in views):
            err.print("no node of the testbed is alive; see `controller status`")
            raise typer.Exit(1)
        accs = [v.accuracy for v in views if v.alive and v.accuracy is not None]
        mean = sum(accs) / len(accs) if accs else 0.0
        if accs and mean >= accuracy and testbed.agreement(views) >= agreement:
            out.print(f"reached mean accuracy {mean:.3f} in {elapsed:.1f} s")
            return
        if elapsed > timeout:
            err.print(f"timed out after {timeout:.0f} s")
            raise typer.Exit(1)
        time.sleep(5)


@app.command()
def down(
    run_dir: RunDirOpt = None,
    timeout: Annotated[
        float, typer.Option(min=0.0, help="Seconds of grace before SIGKILL.")
    ] = 10.0,
) -> None:
    """Stop every node of the testbed and leave nothing running."""
    run = resolve(run_dir)
    leftovers = testbed.down(run, timeout)
    if leftovers:
        stop_monitoring(run)
        err.print("[red]could not stop:[/] " + ", ".join(leftovers))
        raise typer.Exit(1)
    out.print(f"testbed {run.name} is down")
    stop_monitoring(run)


@app.command()
def logs(
    node: Annotated[int, typer.Argument(help="Node id.")],
    tail: Annotated[int, typer.Option(help="Lines from the end (0: all).")] = 50,
    run_dir: RunDirOpt = None,
) -> None:
    """Print a node's log."""
    run = resolve(run_dir)
    state = run.load()
    if not 0 <= node < len(state.nodes):
        raise UsageError(
            f"NODE {node}: this testbed has nodes 0-{len(state.nodes) - 1}"
        )
    lines = testbed.backend_named(state.backend).log_lines(run, state, node)
    for line in lines[-tail:] if tail else lines:
        out.print(line, markup=False, highlight=False)


app.add_typer(fault_app, name="fault")
app.add_typer(scenario_app, name="scenario")
app.command("probe")(probe)
app.command("report")(report)
app.command("load")(load)
app.command("compare")(compare)
app.add_typer(monitoring_app, name="monitoring")
app.command("exporter", hidden=True)(exporter_cmd)

image_app = typer.Typer(no_args_is_help=True, help="The node image (docker backend).")
app.add_typer(image_app, name="image")


@image_app.command("build")
def image_build(
    force: Annotated[
        bool, typer.Option(help="Rebuild even when the inputs are unchanged.")
    ] = False,
) -> None:
    """Build the node image, unless one with the same inputs exists."""
    from controller.image import build_image_command

    code = build_image_command(force)
    if code:
        raise typer.Exit(code)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    app()
