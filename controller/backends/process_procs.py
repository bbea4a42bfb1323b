"""The process backend's processes: launching launchers, finding every
process of a testbed, and signalling them.

Node processes are forked by launchers (node.launcher): one for the nodes
`up` started, and one more for each node restarted or added since. Each
launcher leads its own session, and its pid goes into state at once. A
forked node keeps its launcher's command line, which names node dirs of the
run, so `down` also finds by command line what no state file recorded (the
controller died between starting a launcher and saving its pid).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from controller.errors import StartError
from controller.rundir import NodeRecord, RunDir, TestbedState

REPO_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER_MODULE = "node.launcher"
# The launcher imports torch once (a few seconds) before it forks.
FORK_TIMEOUT_S = 120.0


def find_process(pid: int | None, started: float | None) -> psutil.Process | None:
    """The process with that pid, unless it has ended or the pid now belongs
    to another one."""
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


def read_pid(node_dir: Path) -> int | None:
    try:
        return int((node_dir / "pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def node_process(run: RunDir, record: NodeRecord) -> psutil.Process | None:
    """The node's process while it runs (or is paused), else None."""
    proc = find_process(record.pid, record.pid_started)
    if proc is None:
        # A controller killed during `up` or `restart` may not have copied
        # the launcher's newest pid into state. Without a create time to
        # compare, that pid may have been reused: check the command line.
        proc = find_process(read_pid(run.node_dir(record.id)), None)
    return proc if proc is not None and _runs_node_of(proc, run) else None


def cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def wait_ended(proc: psutil.Process, timeout: float) -> bool:
    """Wait until the process has ended (a zombie counts: only its parent
    can reap it); True when it did within timeout seconds. The kernel takes
    a moment to tear a process down after SIGKILL, and whoever looks at
    once must not see it running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.01)
    return False


def send_signal(proc: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.send_signal(sig)


def end_process(proc: psutil.Process, grace: float) -> None:
    """SIGTERM (woken first if paused), SIGKILL after grace seconds; returns
    once the process is gone, reaped by its parent."""
    send_signal(proc, signal.SIGTERM)
    send_signal(proc, signal.SIGCONT)
    try:
        proc.wait(grace)
    except psutil.TimeoutExpired:
        send_signal(proc, signal.SIGKILL)
        proc.wait(10)


def spawn_launcher(run: RunDir, node_dirs: list[Path]) -> subprocess.Popen[bytes]:
    """A launcher for node_dirs, in its own session, logging to the run dir."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    dirs = [str(d.resolve()) for d in node_dirs]
    with open(run.path / "launcher.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", LAUNCHER_MODULE, *dirs],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,  # its own process group, for `down`
        )


def wait_for_pid(
    run: RunDir, launcher: subprocess.Popen[bytes], node_dir: Path, deadline: float
) -> psutil.Process:
    """The node process once the launcher has forked it and written its pid;
    deadline is on time.monotonic()."""
    while True:
        pid = read_pid(node_dir)
        proc = find_process(pid, None)
        if proc is not None:
            return proc
        if pid is not None:  # forked and already gone: it died at start
            log = node_dir / "node.log"
            try:
                last = log.read_text(errors="replace").splitlines()[-5:]
            except OSError:
                last = []
            raise StartError(
                f"node {int(node_dir.name)} exited as it started; see {log}"
                + "".join(f"\n    {line}" for line in last)
            )
        if launcher.poll() is not None:
            raise StartError(
                f"the node launcher for {node_dir.name} exited with code "
                f"{launcher.returncode}; see {run.path / 'launcher.log'} and "
                f"{node_dir / 'node.log'}"
            )
        if time.monotonic() > deadline:
            raise StartError(f"the node launcher did not start {node_dir} in time")
        time.sleep(0.05)


def testbed_processes(run: RunDir, state: TestbedState) -> list[psutil.Process]:
    """Every launcher and node process of the testbed that still runs."""
    found: dict[int, psutil.Process] = {}
    recorded = [(state.launcher_pid, state.launcher_started), *state.extra_launchers]
    for pid, started in recorded:
        launcher = find_process(pid, started)
        if launcher is None:
            continue
        found[launcher.pid] = launcher
        with contextlib.suppress(psutil.NoSuchProcess):
            found.update((c.pid, c) for c in launcher.children(recursive=True))
    for record in state.nodes:
        proc = node_process(run, record)
        if proc is not None:
            found.setdefault(proc.pid, proc)
    for proc in _by_command_line(run):
        found.setdefault(proc.pid, proc)
    return list(found.values())


def _by_command_line(run: RunDir) -> list[psutil.Process]:
    """Launchers and forked nodes whose command line names a node dir of run."""
    matches = []
    for proc in psutil.process_iter():
        if proc.pid != os.getpid() and _runs_node_of(proc, run):
            matches.append(proc)
    return [p for p in matches if find_process(p.pid, None) is not None]


def _runs_node_of(proc: psutil.Process, run: RunDir) -> bool:
    argv = cmdline(proc)
    if LAUNCHER_MODULE not in argv:
        return False
    nodes = run.path.resolve() / "nodes"
    return any(Path(arg).parent == nodes for arg in argv if os.path.isabs(arg))
