"""Monitoring on the command line: what `up` and `down` do for it, the
exporter's own command, and `controller monitoring status|start|stop`."""

from __future__ import annotations

import logging
from typing import Annotated, get_args

import typer

from controller.cliutil import Commands, RunDirOpt, err, out
from controller.errors import ConflictError, ControllerError, UsageError
from controller.monitoring import exporter, stack
from controller.monitoring.paths import monitoring_dir, observations_file
from controller.rundir import RunDir, resolve, runs_root

MODES = ("auto", "docker", "local", "off")

MonitoringOpt = Annotated[
    str,
    typer.Option(
        "--monitoring",
        envvar="HEAL_MONITORING",
        help="Prometheus (and Grafana) for this testbed: auto (containers from "
        "the official images where Docker has them, else a local prometheus "
        "binary), docker, local, or off.",
    ),
]
PrometheusPortOpt = Annotated[
    int,
    typer.Option(
        min=1,
        max=65535,
        help="Port for a Prometheus that monitoring starts (the next free one "
        "if taken).",
    ),
]


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise UsageError(f"--monitoring {mode!r}: valid: {', '.join(MODES)}")


def start_monitoring(run: RunDir, mode: str, port: int) -> None:
    """Start the exporter and the stack and print where to look; a missing
    Prometheus is said and the testbed carries on without it."""
    if mode == "off":
        return
    try:
        address = exporter.start(run)
    except ControllerError as exc:
        err.print(f"[yellow]warning:[/] testbed exporter: {exc}")
        return
    assert mode in get_args(stack.How)
    try:
        running = stack.ensure(monitoring_dir(run), mode, port)  # type: ignore[arg-type]
    except stack.MonitoringUnavailable as exc:
        err.print(f"[yellow]monitoring:[/] {exc}", highlight=False)
        out.print(f"testbed metrics: http://{address}/metrics", highlight=False)
        return
    except ControllerError as exc:
        err.print(f"[yellow]warning:[/] monitoring: {exc}", highlight=False)
        return
    how = (running.prometheus or {}).get("how", "?")
    out.print(f"prometheus ({how}): {running.prometheus_url}", highlight=False)
    if running.grafana_url:
        out.print(f"grafana: {running.grafana_url}", highlight=False)
    for note in running.notes:
        out.print(note, highlight=False)
    out.print(f"testbed metrics: http://{address}/metrics", highlight=False)


def stop_monitoring(run: RunDir) -> None:
    """What `down` does: the exporter stops and the testbed leaves service
    discovery; Prometheus stays up with the history for `report`."""
    exporter.stop(run)
    if not observations_file(run).exists():
        return  # started with --monitoring off: no series of it to keep
    running = stack.load(monitoring_dir(run))
    if running.prometheus and stack.alive(running.prometheus):
        out.print(
            f"prometheus at {running.prometheus_url} keeps the testbed's series "
            "for `controller report`; `controller monitoring stop` stops it",
            highlight=False,
        )


app = Commands(no_args_is_help=True, help="The Prometheus and Grafana of testbeds.")


@app.command("status")
def status_cmd() -> None:
    """Say what monitoring runs under the runs root and where."""
    root = runs_root().resolve() / "monitoring"
    running = stack.load(root)
    for what, part in (
        ("prometheus", running.prometheus),
        ("grafana", running.grafana),
    ):
        if not part:
            out.print(f"{what}: not started", highlight=False)
            continue
        state = "running" if stack.alive(part) else "stopped"
        out.print(f"{what} ({part.get('how')}): {part['url']} {state}", highlight=False)


@app.command("start")
def start_cmd(
    how: Annotated[str, typer.Option(help="auto, docker or local.")] = "auto",
    prometheus_port: PrometheusPortOpt = stack.PROMETHEUS_PORT,
) -> None:
    """Start Prometheus (and Grafana) for every testbed under the runs root."""
    if how not in get_args(stack.How):
        raise UsageError(f"--how {how!r}: valid: auto, docker, local")
    running = stack.ensure(runs_root().resolve() / "monitoring", how, prometheus_port)  # type: ignore[arg-type]
    out.print(f"prometheus: {running.prometheus_url}", highlight=False)
    out.print(f"grafana: {running.grafana_url or 'not available'}", highlight=False)


@app.command("stop")
def stop_cmd() -> None:
    """Stop Prometheus and Grafana; their stored series stay on disk."""
    stopped = stack.stop(runs_root().resolve() / "monitoring")
    out.print("stopped: " + (", ".join(stopped) or "nothing was running"))


def exporter_cmd(
    run_dir: RunDirOpt = None,
    period: Annotated[
        float, typer.Option(min=0.5, help="Seconds between looks at the testbed.")
    ] = exporter.PERIOD_S,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free one).")] = 0,
) -> None:
    """Serve a testbed's own series (nodes alive, faults, hub agreement,
    recovery) to Prometheus until the testbed is down. `up` starts it."""
    from controller.monitoring.serve import serve

    run = resolve(run_dir)
    found = exporter.running(run)
    if found is not None:
        raise ConflictError(
            f"testbed {run.name} has its exporter already (pid {found[1]}, "
            f"http://{found[0]}/metrics); two would take each other's "
            "discovery file away"
        )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    serve(run, host, port, period)
