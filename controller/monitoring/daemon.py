"""Background processes of monitoring (the exporter, a local Prometheus):
started in their own session so that they outlive the command that started
them, found again by pid and start time, and stopped politely."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import psutil

from controller.backends.process_procs import find_process


def spawn(command: list[str], log: Path, cwd: Path | None = None) -> psutil.Process:
    """Start command detached, its output appended to log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as handle:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )
    return psutil.Process(child.pid)


def find(pid: object, started: object, marker: str) -> psutil.Process | None:
    """The process recorded as (pid, started) if it still runs and its
    command line holds marker (a reused pid does not)."""
    if not isinstance(pid, int):
        return None
    proc = find_process(pid, started if isinstance(started, float) else None)
    if proc is None:
        return None
    with contextlib.suppress(psutil.Error):
        if any(marker in part for part in proc.cmdline()):
            return proc
    return None


def stop(proc: psutil.Process, timeout: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after timeout; True once it has gone."""
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.terminate()
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(psutil.TimeoutExpired):
                proc.wait(5)
    return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
