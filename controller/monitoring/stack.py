"""The monitoring stack beside the runs: one Prometheus (and Grafana, where
its image can be had) for every testbed under a runs root. Containers from
the official images where Docker has or can pull them; else a local
Prometheus binary; else a message that says how to get one."""

from __future__ import annotations

import contextlib
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import docker
import docker.errors

from controller.errors import ControllerError
from controller.monitoring import daemon, prom_docker, prom_local
from controller.monitoring.paths import read_json, stack_file, write_json
from controller.monitoring.promconfig import write_config

How = Literal["auto", "docker", "local"]
PROMETHEUS_PORT = 9090
GRAFANA_PORT = 3000
HOW_TO_GET = (
    "install Debian's prometheus package (`apt-get install prometheus`), or "
    f"make the images {prom_docker.PROMETHEUS_IMAGE} and "
    f"{prom_docker.GRAFANA_IMAGE} available to Docker, or run "
    "`docker compose up -d` with compose.yaml"
)

NO_GRAFANA = (
    f"grafana: no image {prom_docker.GRAFANA_IMAGE} for Docker here; point any "
    "Grafana at grafana/provisioning (see compose.yaml)"
)


class MonitoringUnavailable(ControllerError):
    """No way to run Prometheus here; the message says how to get one."""


@dataclass
class Stack:
    prometheus: dict[str, Any] | None = None
    grafana: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)  # why something is missing

    @property
    def prometheus_url(self) -> str | None:
        return self.prometheus["url"] if self.prometheus else None

    @property
    def grafana_url(self) -> str | None:
        return self.grafana["url"] if self.grafana else None


def ensure(root: Path, how: How = "auto", port: int = PROMETHEUS_PORT) -> Stack:
    """Prometheus (and Grafana) running for root: the ones already there,
    with their configuration reloaded, or new ones."""
    write_config(root)
    known = load(root)
    if known.prometheus and alive(known.prometheus):
        _reload(known.prometheus["url"])
        if not known.grafana:
            known.notes.append(NO_GRAFANA)
        return known
    engine = _engine() if how != "local" else None
    stack = Stack()
    if engine is not None and prom_docker.image(engine, prom_docker.PROMETHEUS_IMAGE):
        stack.prometheus = prom_docker.run_prometheus(
            engine, root, prom_local.free_port(port)
        )
        _wait_ready(stack.prometheus["url"])
    elif how == "docker":
        raise MonitoringUnavailable(
            f"--monitoring docker: no Docker engine answers or the image "
            f"{prom_docker.PROMETHEUS_IMAGE} cannot be had; {HOW_TO_GET}"
        )
    elif prom_local.binary() is not None:
        stack.prometheus = prom_local.start(root, prom_local.free_port(port))
    else:
        raise MonitoringUnavailable(f"no Prometheus could be started: {HOW_TO_GET}")
    if engine is not None and prom_docker.image(engine, prom_docker.GRAFANA_IMAGE):
        stack.grafana = prom_docker.run_grafana(
            engine, root, stack.prometheus["url"], prom_local.free_port(GRAFANA_PORT)
        )
    else:
        stack.notes.append(NO_GRAFANA)
    save(root, stack)
    return stack


def load(root: Path) -> Stack:
    info = read_json(stack_file(root))
    if not isinstance(info, dict):
        return Stack(None, None)
    return Stack(_part(info.get("prometheus")), _part(info.get("grafana")))


def _part(value: object) -> dict[str, Any] | None:
    """A started part as saved; a damaged record counts as none."""
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        return value
    return None


def save(root: Path, stack: Stack) -> None:
    write_json(
        stack_file(root),
        {
            "prometheus_url": stack.prometheus_url,
            "grafana_url": stack.grafana_url,
            "prometheus": stack.prometheus,
            "grafana": stack.grafana,
        },
    )


def alive(part: dict[str, Any]) -> bool:
    if part.get("how") == "local":
        return prom_local.ready(part["url"]) and _local_proc(part) is not None
    engine = _engine()
    return engine is not None and prom_docker.running(engine, part["container"])


def stop(root: Path) -> list[str]:
    """Stop what runs; the stored series stay. Returns what was stopped."""
    stack, stopped = load(root), []
    for what, part in (("prometheus", stack.prometheus), ("grafana", stack.grafana)):
        if not part:
            continue
        if part.get("how") == "local":
            proc = _local_proc(part)
            if proc is not None and daemon.stop(proc):
                stopped.append(f"{what} (pid {proc.pid})")
        elif (engine := _engine()) is not None:
            if prom_docker.running(engine, part["container"]):
                stopped.append(f"{what} (container {part['container']})")
            prom_docker.remove(engine, part["container"])
    stack_file(root).unlink(missing_ok=True)
    return stopped


def _local_proc(part: dict[str, Any]) -> Any:
    return daemon.find(part.get("pid"), part.get("started"), "--config.file=")


def _engine() -> docker.DockerClient | None:
    try:
        client = docker.from_env(timeout=5)
        client.ping()
        return client
    except docker.errors.DockerException:
        return None


def _wait_ready(url: str, timeout: float = prom_local.READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not prom_local.ready(url, timeout=1.0):
        if time.monotonic() > deadline:
            raise ControllerError(f"Prometheus at {url} did not become ready")
        time.sleep(0.5)


def _reload(url: str) -> None:
    """Ask a running Prometheus to read its configuration again."""
    request = urllib.request.Request(f"{url}/-/reload", method="POST")
    with contextlib.suppress(OSError):  # it re-reads discovery files anyway
        urllib.request.urlopen(request, timeout=5).close()
