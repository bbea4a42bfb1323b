"""A Prometheus from a binary on this machine (Debian's `prometheus`
package), run in the background with its storage beside the runs."""

from __future__ import annotations

import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from controller.errors import ControllerError
from controller.monitoring import daemon
from controller.monitoring.promconfig import CONFIG_NAME

BINARY = "prometheus"
READY_TIMEOUT_S = 30.0
RETENTION = "30d"


def binary() -> str | None:
    return shutil.which(BINARY)


def ready(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=timeout) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def free_port(first: int, tries: int = 10) -> int:
    """The first of tries ports from first that nothing listens on."""
    for port in range(first, first + tries):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise ControllerError(
        f"ports {first}-{first + tries - 1} are all in use; pass "
        "--prometheus-port with a free one"
    )


def running(root: Path, info: dict[str, Any]) -> Any:
    return daemon.find(info.get("pid"), info.get("started"), str(root / CONFIG_NAME))


def start(root: Path, port: int) -> dict[str, Any]:
    """Start Prometheus on 127.0.0.1:port; what to record in stack.json."""
    path = binary()
    if path is None:
        raise ControllerError("no prometheus binary on PATH")
    url = f"http://127.0.0.1:{port}"
    command = [
        path,
        f"--config.file={root / CONFIG_NAME}",
        f"--storage.tsdb.path={root / 'data'}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",  # POST /-/reload after config changes
    ]
    proc = daemon.spawn(command, root / "prometheus.log")
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready(url, timeout=1.0):
            return {
                "how": "local",
                "pid": proc.pid,
                "started": proc.create_time(),
                "url": url,
            }
        if not proc.is_running() or proc.status() == "zombie":
            break
        time.sleep(0.3)
    daemon.stop(proc)
    raise ControllerError(
        f"prometheus did not become ready on {url}; see {root / 'prometheus.log'}"
    )
