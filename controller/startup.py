"""Bringing a testbed up with progress on the terminal: shared by `up` and
by `scenario run`, which starts the testbed its file describes."""

from __future__ import annotations

import signal
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from controller import testbed
from controller.backends.base import Backend
from controller.backends.docker_options import parse_docker_options
from controller.cliutil import err, out
from controller.errors import ControllerError, UsageError
from controller.faults.mechanism import choose
from controller.plan import TestbedSettings
from controller.rundir import RunDir
from netem.capabilities import Capabilities
from netem.specs import REGISTRY

# Default health wait on docker, seconds a node: each container imports torch.
DOCKER_START_S_PER_NODE = 4.0


def bring_up(
    settings: TestbedSettings, backend: Backend, run: RunDir, timeout: float | None
) -> list[testbed.NodeView]:
    # SIGTERM during `up` unwinds like Ctrl-C, so that what started is stopped.
    unwind_on_sigterm()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.elapsed:>5.1f}s"),
        console=err,
        transient=False,
    ) as progress:
        tasks: dict[str, Any] = {}

        def on_progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(f"nodes {what}", total=total)
            progress.update(tasks[what], completed=done)

        return testbed.up(
            settings,
            backend,
            run,
            timeout=health_timeout(timeout, backend, settings.nodes),
            on_phase=lambda msg: err.print(f"[dim]{msg}[/]"),
            on_progress=on_progress,
        )


def report_fault_ways(run: RunDir, backend: Backend) -> None:
    """Probe the kernel once the nodes are up and say how faults will be
    applied, so that nobody learns it from a failed scenario."""
    from controller.faults.api import capabilities

    try:
        caps = capabilities(run, backend)
    except ControllerError as exc:
        err.print(f"[yellow]warning:[/] could not probe the kernel: {exc}")
        return
    if caps is None:
        out.print(
            "link faults: applied in-node (the process backend has no kernel way)"
        )
        return
    out.print(f"link faults: {fault_ways(caps)}")


def fault_ways(caps: Capabilities) -> str:
    """Which link fault kinds the kernel takes and which go in-node, in words."""
    ways: dict[str, list[str]] = {}
    for kind, spec in sorted(REGISTRY.items()):
        if spec.scope != "link":
            continue
        try:
            way = choose(kind, "auto", False, caps)
        except UsageError:
            way = "unavailable"
        ways.setdefault(way, []).append(kind)
    return "; ".join(f"{way}: {', '.join(kinds)}" for way, kinds in ways.items())


def health_timeout(given: float | None, backend: Backend, nodes: int) -> float:
    """--timeout, else a default that allows for every container importing
    torch on its own (measured: 50 containers on 2 cores take 105-140 s)."""
    if given is not None:
        return given
    if backend.name == "docker":
        return max(90.0, DOCKER_START_S_PER_NODE * nodes)
    return 90.0


def choose_backend(
    name: str, *, subnet: str | None, memory: str | None, cpus: float | None
) -> Backend:
    """The backend --backend names; auto asks whether a Docker engine answers."""
    if name not in ("auto", "docker", "process"):
        raise UsageError(f"--backend {name!r}: valid: auto, docker, process")
    options = parse_docker_options(subnet, memory, cpus)
    if name == "auto":
        name, why = testbed.default_backend()
        err.print(f"backend: {name} ({why})", highlight=False)
    flags = {"--subnet": subnet, "--memory": memory, "--cpus": cpus}
    given = [flag for flag, value in flags.items() if value is not None]
    if name == "process" and given:
        raise UsageError(
            f"{', '.join(given)}: only the docker backend takes these; pass "
            "--backend docker (with a Docker engine running) or drop them"
        )
    return testbed.backend_named(name, options)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that one handler serves both
    and can still tell them apart for the exit code."""


def unwind_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that `finally` blocks undo what was
    started or applied."""
    signal.signal(signal.SIGTERM, _interrupt)


def interrupted_exit_code(exc: KeyboardInterrupt) -> int:
    """The shell's convention, 128 + the signal: 143 for SIGTERM, 130 for
    Ctrl-C."""
    signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
    return 128 + signum


def _interrupt(signum: int, frame: object) -> None:
    raise Terminated(f"signal {signum}")
