"""Nodes as local processes on loopback, forked from one launcher process.

Node faults: kill is SIGKILL, pause SIGSTOP and unpause SIGCONT. restart
and add_node start a fresh launcher for that one node (see process_procs),
so each pays the launcher's few seconds of imports.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import psutil

from controller.backends import process_procs as procs
from controller.backends.base import (
    Backend,
    Liveness,
    Placement,
    Runner,
    node_record,
)
from controller.backends.joining import (
    check_joiner_config,
    ensure_joiner_shard,
    next_node_id,
)
from controller.backends.process_place import (
    place_all,
    place_joiner,
    port_free,
)
from controller.errors import ConflictError, StartError
from controller.plan import TestbedSettings
from controller.rundir import NodeRecord, RunDir, TestbedState
from node.config import NodeConfig

__all__ = ["ProcessBackend", "port_free"]

# How long a node that restart stops gets to exit on SIGTERM.
RESTART_GRACE_S = 5.0
KILL_WAIT_S = 5.0  # for the kernel to end a SIGKILLed node


class ProcessBackend(Backend):
    name = "process"

    def place(self, settings: TestbedSettings, run: RunDir) -> list[Placement]:
        return place_all(settings)

    def start(
        self,
        run: RunDir,
        state: TestbedState,
        configs: list[NodeConfig],
        progress: Callable[[int], None],
    ) -> None:
        dirs = [run.node_dir(c.node_id) for c in configs]
        for config in configs:
            _write_node_dir(run, config)

        launcher = procs.spawn_launcher(run, dirs)
        state.launcher_pid = launcher.pid
        state.launcher_started = psutil.Process(launcher.pid).create_time()
        run.save(state)

        deadline = time.monotonic() + procs.FORK_TIMEOUT_S
        for config, node_dir in zip(configs, dirs, strict=True):
            try:
                proc = procs.wait_for_pid(run, launcher, node_dir, deadline)
            except StartError:
                run.save(state)  # the pids found so far, for `down`
                raise
            record = node_record(state, config.node_id)
            record.pid, record.pid_started = proc.pid, proc.create_time()
            progress(1)
        run.save(state)

    def liveness(
        self, run: RunDir, state: TestbedState, memory: bool = True
    ) -> dict[int, Liveness]:
        result = {}
        for record in state.nodes:
            proc = procs.node_process(run, record)
            try:
                if proc is not None:
                    result[record.id] = _alive(proc, memory)
                    continue
            except psutil.NoSuchProcess:
                pass  # it ended between the two looks
            exited = run.exit_status(record.id)
            code = int(exited["code"]) if exited else None  # type: ignore[call-overload]
            result[record.id] = Liveness(False, code)
        return result

    def kill(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        proc = procs.node_process(run, node_record(state, node_id))
        if proc is not None:
            procs.send_signal(proc, signal.SIGKILL)
            procs.wait_ended(proc, KILL_WAIT_S)

    def pause(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        procs.send_signal(_running(run, state, node_id), signal.SIGSTOP)

    def unpause(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        proc = procs.node_process(run, node_record(state, node_id))
        if proc is not None:
            procs.send_signal(proc, signal.SIGCONT)

    def restart(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        record = node_record(state, node_id)
        proc = procs.node_process(run, record)
        if proc is not None:
            procs.end_process(proc, RESTART_GRACE_S)
        self._launch(run, state, record)

    def add_node(
        self,
        run: RunDir,
        state: TestbedState,
        settings: TestbedSettings,
        config_for: Callable[[Placement], NodeConfig],
    ) -> NodeRecord:
        placement = place_joiner(settings, state, next_node_id(state))
        config = config_for(placement)
        check_joiner_config(config, placement)
        donors = [r.id for r in state.nodes]
        if config.shard is None:  # else it trains on a shard that exists
            ensure_joiner_shard(config.data_dir, config.node_id, donors, settings.seed)
        _write_node_dir(run, config)

        record = NodeRecord(
            id=config.node_id, address=placement.address, metrics=placement.metrics
        )
        state.nodes.append(record)
        run.save(state)
        self._launch(run, state, record)
        return record

    def stop(self, run: RunDir, state: TestbedState, timeout: float) -> list[str]:
        found = procs.testbed_processes(run, state)
        for proc in found:
            procs.send_signal(proc, signal.SIGTERM)
            # A stopped (paused) node handles SIGTERM only once it runs again.
            procs.send_signal(proc, signal.SIGCONT)
        _, alive = psutil.wait_procs(found, timeout=timeout)
        for proc in alive:
            procs.send_signal(proc, signal.SIGKILL)
        _, alive = psutil.wait_procs(alive, timeout=5)
        # A zombie has ended; only its parent (perhaps not us) can reap it.
        alive = [p for p in alive if procs.find_process(p.pid, None) is not None]
        return [f"process {p.pid} ({' '.join(procs.cmdline(p))[:60]})" for p in alive]

    def log_lines(self, run: RunDir, state: TestbedState, node_id: int) -> list[str]:
        try:
            return run.node_log(node_id).read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def runner(self, run: RunDir, state: TestbedState, node_id: int) -> Runner | None:
        """None: every node shares the host's network namespace."""
        node_record(state, node_id)
        return None

    def _launch(self, run: RunDir, state: TestbedState, record: NodeRecord) -> None:
        """Start one node from a launcher of its own; its pids go into state."""
        node_dir = run.node_dir(record.id)
        for stale in ("pid", "exit"):
            (node_dir / stale).unlink(missing_ok=True)
        launcher = procs.spawn_launcher(run, [node_dir])
        started = psutil.Process(launcher.pid).create_time()
        state.extra_launchers.append((launcher.pid, started))
        run.save(state)

        deadline = time.monotonic() + procs.FORK_TIMEOUT_S
        proc = procs.wait_for_pid(run, launcher, node_dir, deadline)
        record.pid, record.pid_started = proc.pid, proc.create_time()
        run.save(state)


def _running(run: RunDir, state: TestbedState, node_id: int) -> psutil.Process:
    proc = procs.node_process(run, node_record(state, node_id))
    if proc is None:
        raise ConflictError(
            f"cannot pause node {node_id}: it is not running (see `controller "
            "status`); `restart` starts it again"
        )
    return proc


def _alive(proc: psutil.Process, memory: bool) -> Liveness:
    pss = None
    try:
        if memory:
            pss = proc.memory_full_info().pss / 2**20
    except (psutil.AccessDenied, AttributeError):
        pass
    return Liveness(True, None, pss, paused=proc.status() == psutil.STATUS_STOPPED)


def _write_node_dir(run: RunDir, config: NodeConfig) -> None:
    node_dir = run.node_dir(config.node_id)
    node_dir.mkdir(parents=True, exist_ok=True)
    (node_dir / "config.json").write_text(config.model_dump_json(indent=2))
    for stale in ("pid", "exit", "node.log"):
        (node_dir / stale).unlink(missing_ok=True)
