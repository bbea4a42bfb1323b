"""up, status, down: the testbed's life cycle, whatever backend runs it."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from controller.backends.base import Backend, Liveness
from controller.control import ControlClient, Reply
from controller.datasets import DatasetError, prepare_run_data
from controller.errors import ConflictError, StartError, UsageError
from controller.plan import TestbedSettings, node_configs
from controller.rundir import NodeRecord, RunDir, TestbedState, check_name

if TYPE_CHECKING:
    from controller.backends.docker_options import DockerOptions

log = logging.getLogger("controller")

LAST_LOG_LINES = 5  # of each dead node, in `status`


def backend_named(name: str, docker: DockerOptions | None = None) -> Backend:
    """The backend called name; docker holds the docker backend's options."""
    if name == "process":
        from controller.backends.process import ProcessBackend

        return ProcessBackend()
    if name == "docker":
        from controller.backends.docker import DockerBackend

        return DockerBackend(docker)
    raise UsageError(f"--backend {name!r}: not available; valid: docker, process")


def default_backend(timeout: float = 2.0) -> tuple[str, str]:
    """docker when an engine answers a ping within timeout, else process; and
    why, in words for the user."""
    try:
        from controller.backends.docker_engine import engine_problem
    except ImportError as exc:
        return "process", f"the docker package is not installed ({exc.name})"
    problem = engine_problem(timeout)
    if problem is None:
        return "docker", "a Docker engine answers"
    return "process", f"no Docker engine answers at {problem}"


@dataclass
class NodeView:
    """What `status` shows for one node."""

    id: int
    alive: bool
    healthy: bool
    role: str | None
    cycle: int | None
    overlay_cycle: int | None
    accuracy: float | None
    loss: float | None
    hubs: list[int]
    peers: int | None
    exit_code: int | None
    memory_mib: float | None
    error: str | None
    hubs_agree: bool = False
    last_log: list[str] | None = None  # a dead node's last log lines
    protocol: str | None = None  # the learning protocol it says it runs
    # Counters since the node started, by message type.
    messages_sent: dict[str, int] = field(default_factory=dict)
    bytes_sent: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def views(
    state: TestbedState, replies: dict[int, Reply], live: dict[int, Liveness]
) -> list[NodeView]:
    result = []
    for record in state.nodes:
        reply, alive = replies.get(record.id), live[record.id]
        status = reply.status if reply else None
        result.append(
            NodeView(
                id=record.id,
                alive=alive.alive,
                healthy=status is not None,
                role=status.role if status else None,
                cycle=status.cycle if status else None,
                overlay_cycle=status.overlay_cycle if status else None,
                accuracy=status.accuracy if status and status.accuracy >= 0 else None,
                loss=status.loss if status and status.loss >= 0 else None,
                hubs=sorted(status.hubs) if status else [],
                peers=len(status.cache) if status else None,
                exit_code=alive.exit_code,
                memory_mib=alive.memory_mib,
                error=_error(status, alive, reply),
                protocol=status.protocol if status else None,
                messages_sent=dict(status.messages_sent) if status else {},
                bytes_sent=dict(status.bytes_sent) if status else {},
            )
        )
    agreed = majority_hubs(result)
    for view in result:
        view.hubs_agree = bool(agreed) and view.hubs == agreed
    return result


def _error(status: object | None, alive: Liveness, reply: Reply | None) -> str | None:
    if status is not None or not alive.alive:
        return None
    if alive.paused:
        return "paused"
    return reply.error if reply else None


def majority_hubs(nodes: list[NodeView]) -> list[int]:
    """The most common hub list among nodes that answered; empty under a
    protocol without hubs (gossip, epidemic), whose agreement is then 0."""
    lists = Counter(tuple(v.hubs) for v in nodes if v.healthy and v.hubs)
    return list(lists.most_common(1)[0][0]) if lists else []


def agreement(nodes: list[NodeView]) -> float:
    """Share of live nodes whose hub list equals the most common one."""
    live = [v for v in nodes if v.alive]
    return sum(v.hubs_agree for v in live) / len(live) if live else 0.0


def collect(
    run: RunDir,
    backend: Backend | None = None,
    *,
    with_logs: bool = False,
    memory: bool = True,
) -> list[NodeView]:
    """Every node's view; with_logs adds the last log lines of dead nodes.
    Paused nodes are not asked: they would only time out."""
    state = run.load()
    backend = backend or backend_named(state.backend)
    live = backend.liveness(run, state, memory)
    addresses = {
        r.id: r.address
        for r in state.nodes
        if live[r.id].alive and not live[r.id].paused
    }
    with ControlClient(run.token()) as client:
        replies = client.status(addresses, timeout=5.0)
    result = views(state, replies, live)
    for view in result:
        if with_logs and not view.alive:
            view.last_log = backend.log_lines(run, state, view.id)[-LAST_LOG_LINES:]
    return result


def up(
    settings: TestbedSettings,
    backend: Backend,
    run: RunDir,
    *,
    timeout: float,
    on_phase: Callable[[str], None],
    on_progress: Callable[[str, int, int], None],
) -> list[NodeView]:
    """Prepare data, start every node and wait until all answer. On any
    failure everything started is stopped again and StartError raised."""
    if run.state_file.exists() and run.load().phase in ("starting", "up"):
        raise ConflictError(
            f"a testbed is already up in {run.path}; run `controller down` "
            "first or choose another --name"
        )
    placements = backend.place(settings, run)
    run.create()
    run.new_token()
    # Faults of an earlier testbed of this name died with its nodes.
    (run.path / "faults.json").unlink(missing_ok=True)

    on_phase(f"preparing {settings.dataset} shards for {settings.nodes} nodes")
    try:
        prepare_run_data(
            run.data_dir,
            dataset=settings.dataset,
            n_nodes=settings.nodes,
            partition=settings.partition,  # type: ignore[arg-type]
            alpha=settings.alpha,
            seed=settings.seed,
        )
    except DatasetError as exc:
        raise UsageError(str(exc)) from exc
    configs = node_configs(
        settings,
        addresses=[p.address for p in placements],
        data_dir=run.data_dir.resolve(),
        token_file=run.token_file.resolve(),
        bind=[(p.bind_host, p.port, p.metrics_port) for p in placements],
        pace_s=backend.pace_s,
    )

    state = TestbedState(
        name=run.name,
        backend=backend.name,  # type: ignore[arg-type]
        created=time.time(),
        settings=settings.model_dump(mode="json"),
        nodes=[
            NodeRecord(id=i, address=p.address, metrics=p.metrics)
            for i, p in enumerate(placements)
        ],
    )
    run.save(state)
    run.mark_current()
    try:
        started = 0

        def one_started(k: int) -> None:
            nonlocal started
            started += k
            on_progress("started", started, settings.nodes)

        backend.start(run, state, configs, one_started)
        nodes = _wait_healthy(run, state, backend, timeout, on_progress)
    except BaseException:
        state.phase = "failed"
        run.save(state)
        leftovers = backend.stop(run, state, timeout=10)
        if leftovers:
            log.error("could not stop: %s", ", ".join(leftovers))
        raise
    state.phase = "up"
    run.save(state)
    return nodes


def _wait_healthy(
    run: RunDir,
    state: TestbedState,
    backend: Backend,
    timeout: float,
    on_progress: Callable[[str, int, int], None],
) -> list[NodeView]:
    """Poll until every node has answered a Status call once."""
    deadline = time.monotonic() + timeout
    addresses = {r.id: r.address for r in state.nodes}
    answered: dict[int, Reply] = {}
    last: dict[int, Reply] = {}
    with ControlClient(run.token()) as client:
        while True:
            live = backend.liveness(run, state, memory=False)
            dead = [i for i, x in live.items() if not x.alive]
            if dead:
                raise StartError(_describe_dead(run, state, backend, dead, live))
            pending = {i: a for i, a in addresses.items() if i not in answered}
            last = client.status(pending, timeout=3.0)
            answered.update({i: r for i, r in last.items() if r.status is not None})
            on_progress("healthy", len(answered), len(addresses))
            if len(answered) == len(addresses):
                return views(state, answered, live)
            if time.monotonic() > deadline:
                sick = [r for i, r in last.items() if i not in answered]
                detail = "; ".join(f"node {r.node_id}: {r.error}" for r in sick[:5])
                raise StartError(
                    f"{len(sick)} of {len(addresses)} nodes not healthy after "
                    f"{timeout:.0f} s ({detail}); raise --timeout or see "
                    "`controller logs NODE`"
                )
            time.sleep(1.0)


def _describe_dead(
    run: RunDir,
    state: TestbedState,
    backend: Backend,
    dead: list[int],
    live: dict[int, Liveness],
) -> str:
    first = dead[0]
    tail = "\n    ".join(backend.log_lines(run, state, first)[-8:]) or "(empty log)"
    return (
        f"{len(dead)} node(s) died at start ({', '.join(map(str, dead[:10]))}); "
        f"node {first} exited with code {live[first].exit_code}. Its last log "
        f"lines:\n    {tail}"
    )


def down(run: RunDir, timeout: float = 10.0) -> list[str]:
    state = run.load()
    backend = backend_named(state.backend)
    leftovers = backend.stop(run, state, timeout)
    if not leftovers:
        state.phase, state.stopped = "down", time.time()
    run.save(state)
    if not leftovers:
        # Faults lived in the nodes and their namespaces, now gone.
        (run.path / "faults.json").unlink(missing_ok=True)
    return leftovers


def default_run_dir(root: Path, name: str | None) -> RunDir:
    if name is None:
        name = time.strftime("tb-%Y%m%d-%H%M%S")
    check_name(name)
    return RunDir((root / name).resolve())
