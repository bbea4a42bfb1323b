"""Nodes as local processes on loopback, forked from one launcher process."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from controller.backends.base import Backend, Liveness, Placement
from controller.errors import ConflictError, StartError
from controller.plan import TestbedSettings, ports
from controller.rundir import RunDir, TestbedState
from node.config import NodeConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _process(pid: int | None, started: float | None) -> psutil.Process | None:
    """The process with that pid, unless the pid now belongs to another one."""
    if pid is None:
        return None
    try:
        proc = psutil.Process(pid)
        if started is not None and abs(proc.create_time() - started) > 1.0:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.NoSuchProcess:
        return None


class ProcessBackend(Backend):
    name = "process"

    def place(self, settings: TestbedSettings, run: RunDir) -> list[Placement]:
        placements = []
        taken = []
        for i in range(settings.nodes):
            port, metrics_port = ports(settings, i)
            taken += [
                p for p in (port, metrics_port) if not port_free(settings.host, p)
            ]
            placements.append(
                Placement(
                    settings.host,
                    port,
                    metrics_port,
                    f"{settings.host}:{port}",
                    f"{settings.host}:{metrics_port}",
                )
            )
        if taken:
            shown = ", ".join(map(str, taken[:8])) + (", ..." if len(taken) > 8 else "")
            raise ConflictError(
                f"ports in use on {settings.host}: {shown}. The process backend "
                f"needs ports {settings.base_port}-"
                f"{settings.base_port + 2 * settings.nodes - 1}; choose another "
                "range with --base-port, or stop what holds them (a testbed "
                "of yours? see `controller status`, `controller down`)"
            )
        return placements

    def start(
        self,
        run: RunDir,
        state: TestbedState,
        configs: list[NodeConfig],
        progress: Callable[[int], None],
    ) -> None:
        dirs = [run.node_dir(c.node_id) for c in configs]
        for config, node_dir in zip(configs, dirs, strict=True):
            node_dir.mkdir(parents=True, exist_ok=True)
            (node_dir / "config.json").write_text(config.model_dump_json(indent=2))
            for stale in ("pid", "exit", "node.log"):
                (node_dir / stale).unlink(missing_ok=True)

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        with open(run.path / "launcher.log", "ab") as log:
            launcher = subprocess.Popen(
                [sys.executable, "-m", "node.launcher", *map(str, dirs)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,  # its own process group, for `down`
            )
        state.launcher_pid = launcher.pid
        state.launcher_started = psutil.Process(launcher.pid).create_time()
        run.save(state)

        # The launcher imports torch once (a few seconds), then forks quickly.
        deadline = time.monotonic() + 120
        pending = {c.node_id: d for c, d in zip(configs, dirs, strict=True)}
        while pending:
            for node_id, node_dir in list(pending.items()):
                pid = _read_pid(node_dir)
                if pid is not None:
                    record = state.nodes[node_id]
                    record.pid = pid
                    proc = _process(pid, None)
                    record.pid_started = proc.create_time() if proc else None
                    del pending[node_id]
                    progress(1)
            if launcher.poll() is not None and pending:
                raise StartError(
                    f"the node launcher exited with code {launcher.returncode} "
                    f"before starting {len(pending)} nodes; see "
                    f"{run.path / 'launcher.log'}"
                )
            if time.monotonic() > deadline:
                raise StartError("the node launcher did not start every node in 120 s")
            time.sleep(0.05)
        run.save(state)

    def liveness(self, run: RunDir, state: TestbedState) -> dict[int, Liveness]:
        result = {}
        for record in state.nodes:
            # A controller killed during `up` may not have copied the pids.
            pid = record.pid or _read_pid(run.node_dir(record.id))
            proc = _process(pid, record.pid_started)
            if proc is not None:
                try:
                    pss = proc.memory_full_info().pss / 2**20
                except (psutil.AccessDenied, psutil.NoSuchProcess, AttributeError):
                    pss = None
                result[record.id] = Liveness(True, None, pss)
                continue
            exited = run.exit_status(record.id)
            code = int(exited["code"]) if exited else None  # type: ignore[call-overload]
            result[record.id] = Liveness(False, code)
        return result

    def kill(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        proc = _process(state.nodes[node_id].pid, state.nodes[node_id].pid_started)
        if proc is not None:
            proc.kill()

    def stop(self, run: RunDir, state: TestbedState, timeout: float) -> list[str]:
        procs = self._all_processes(run, state)
        for proc in procs:
            _signal(proc, signal.SIGTERM)
        _, alive = psutil.wait_procs(procs, timeout=timeout)
        for proc in alive:
            _signal(proc, signal.SIGKILL)
        _, alive = psutil.wait_procs(alive, timeout=5)
        # A zombie has ended; only its parent (perhaps not us) can reap it.
        alive = [p for p in alive if _process(p.pid, None) is not None]
        return [f"process {p.pid} ({' '.join(_cmdline(p))[:60]})" for p in alive]

    def _all_processes(self, run: RunDir, state: TestbedState) -> list[psutil.Process]:
        procs = []
        launcher = _process(state.launcher_pid, state.launcher_started)
        if launcher is not None:
            procs.append(launcher)
            with contextlib.suppress(psutil.NoSuchProcess):
                procs += launcher.children(recursive=True)
        # Children of a launcher that was killed were re-parented: find them
        # by their pid files, which `start` may not have copied into state.
        for record in state.nodes:
            pid = record.pid or _read_pid(run.node_dir(record.id))
            proc = _process(pid, record.pid_started)
            if proc is not None and _is_launcher_child(proc, run) and proc not in procs:
                procs.append(proc)
        return procs

    def log_lines(self, run: RunDir, state: TestbedState, node_id: int) -> list[str]:
        try:
            return run.node_log(node_id).read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []


def _read_pid(node_dir: Path) -> int | None:
    try:
        return int((node_dir / "pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def _is_launcher_child(proc: psutil.Process, run: RunDir) -> bool:
    """A forked node keeps the launcher's command line, which names its dir."""
    return any(str(run.path) in arg for arg in _cmdline(proc))


def _signal(proc: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.send_signal(sig)
