"""Start and stop a testbed's exporter (serve.py) as a background process."""

from __future__ import annotations

import sys
import time

from controller.errors import ControllerError
from controller.monitoring import daemon, discovery
from controller.monitoring.paths import monitor_file, read_json
from controller.rundir import RunDir

PERIOD_S = 5.0
START_TIMEOUT_S = 30.0
MODULE = "controller"


def running(run: RunDir) -> tuple[str, int] | None:
    """(address, pid) of the testbed's exporter while it runs."""
    info = read_json(monitor_file(run)) or {}
    proc = daemon.find(info.get("pid"), info.get("started"), str(run.path))
    if proc is None:
        return None
    return str(info.get("address")), proc.pid


def start(run: RunDir, period_s: float = PERIOD_S) -> str:
    """Start the exporter unless it runs; return its address (host:port)."""
    found = running(run)
    if found is not None:
        return found[0]
    monitor_file(run).unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        MODULE,
        "exporter",
        "--run-dir",
        str(run.path),
        "--period",
        f"{period_s:g}",
    ]
    proc = daemon.spawn(command, run.path / "monitor" / "exporter.log")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        info = read_json(monitor_file(run))
        if info and info.get("pid") == proc.pid:
            return str(info["address"])
        if not proc.is_running() or proc.status() == "zombie":
            break
        time.sleep(0.2)
    daemon.stop(proc)
    raise ControllerError(
        f"the exporter did not start; see {run.path / 'monitor' / 'exporter.log'}"
    )


def stop(run: RunDir) -> None:
    """Stop the exporter and take the testbed out of service discovery."""
    found = running(run)
    if found is not None:
        proc = daemon.find(found[1], None, str(run.path))
        if proc is not None:
            daemon.stop(proc)
    monitor_file(run).unlink(missing_ok=True)
    discovery.remove(run)
