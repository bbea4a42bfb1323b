"""Prometheus and Grafana as containers from their official images, where
the images are present or can be pulled. Both use the host's network, so
that they reach node containers on their bridge addresses and the
exporters on loopback, as a local binary would."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

import docker
import docker.errors

from controller.monitoring.promconfig import CONFIG_NAME

PROMETHEUS_IMAGE = "prom/prometheus:latest"
GRAFANA_IMAGE = "grafana/grafana:latest"
REPO_ROOT = Path(__file__).resolve().parents[2]
LABEL = "heal.monitoring"


def image(client: docker.DockerClient, name: str) -> bool:
    """True when the image is here, pulling it if it can be had."""
    try:
        client.images.get(name)
        return True
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.pull(name)
        return True
    except docker.errors.APIError:
        return False


def container_name(root: Path, what: str) -> str:
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]
    return f"heal-{what}-{digest}"


def run_prometheus(
    client: docker.DockerClient, root: Path, port: int
) -> dict[str, Any]:
    name = container_name(root, "prometheus")
    _remove(client, name)
    client.containers.run(
        PROMETHEUS_IMAGE,
        name=name,
        detach=True,
        network_mode="host",
        labels={LABEL: str(root.resolve())},
        volumes={
            str(root.resolve()): {"bind": "/etc/heal", "mode": "ro"},
            f"{name}-data": {"bind": "/prometheus", "mode": "rw"},
        },
        command=[
            f"--config.file=/etc/heal/{CONFIG_NAME}",
            "--storage.tsdb.path=/prometheus",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
    )
    return {"how": "docker", "container": name, "url": f"http://127.0.0.1:{port}"}


def run_grafana(
    client: docker.DockerClient, root: Path, prometheus_url: str, port: int
) -> dict[str, Any]:
    name = container_name(root, "grafana")
    _remove(client, name)
    grafana = REPO_ROOT / "grafana"
    client.containers.run(
        GRAFANA_IMAGE,
        name=name,
        detach=True,
        network_mode="host",
        labels={LABEL: str(root.resolve())},
        environment={
            "GF_SERVER_HTTP_PORT": str(port),
            "GF_AUTH_ANONYMOUS_ENABLED": "true",
            "GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer",
            "HEAL_PROMETHEUS_URL": prometheus_url,
        },
        volumes={
            str(grafana / "provisioning"): {
                "bind": "/etc/grafana/provisioning",
                "mode": "ro",
            },
            str(grafana / "dashboards"): {
                "bind": "/var/lib/grafana/dashboards",
                "mode": "ro",
            },
        },
    )
    return {"how": "docker", "container": name, "url": f"http://127.0.0.1:{port}"}


def running(client: docker.DockerClient, name: str) -> bool:
    try:
        return bool(client.containers.get(name).status == "running")
    except docker.errors.NotFound:
        return False


def remove(client: docker.DockerClient, name: str) -> None:
    _remove(client, name)


def _remove(client: docker.DockerClient, name: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        client.containers.get(name).remove(force=True)
