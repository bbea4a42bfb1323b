"""Reaching the Docker engine, and the names and labels a testbed's objects carry.

Every container, network and volume of a testbed carries the label
`heal.testbed=<name>`, so that `down` finds all of them even when the state
file missed some (the controller died in the middle of `up`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import requests

from controller.errors import ControllerError
from controller.rundir import check_name

LABEL_TESTBED = "heal.testbed"
LABEL_NODE = "heal.node"
LABEL_ROLE = "heal.role"

# Where a node finds its files inside its container.
DATA_IN = "/data"
CONFIG_IN = "/run/heal/config.json"
TOKEN_IN = "/run/heal/token"
GRPC_PORT = 50051
METRICS_PORT = 9100

# Docker names: [a-zA-Z0-9][a-zA-Z0-9_.-]*; prefixes and suffixes are ours.


class DockerUnavailable(ControllerError):
    """No Docker engine answers, or it failed on a request."""


@contextmanager
def engine_errors(doing: str) -> Iterator[None]:
    """Engine failures as errors that say what the controller was doing."""
    try:
        yield
    except (docker.errors.APIError, requests.RequestException) as exc:
        raise DockerUnavailable(
            f"the Docker engine failed while {doing}: {reason(exc)}"
        ) from exc


def reason(exc: Exception) -> str:
    """The engine's own explanation where it gave one."""
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        return str(exc.explanation)
    return str(exc)


def engine_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def connect(timeout: float = 60.0, pool: int = 32) -> docker.DockerClient:
    """A client whose engine has answered a ping; timeout bounds each request."""
    try:
        client = docker.from_env(timeout=int(max(1, timeout)), max_pool_size=pool)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise DockerUnavailable(
            f"no Docker engine answers at {engine_host()} ({exc}); start one "
            "(scripts/ensure-docker) or use --backend process"
        ) from exc
    return client


def engine_problem(timeout: float) -> str | None:
    """None when an engine answers a ping within timeout, else why not."""
    try:
        client = docker.from_env(timeout=int(max(1, timeout)))
        try:
            client.ping()
        finally:
            client.close()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        return f"{engine_host()}: {type(exc).__name__}"
    return None


def check_testbed_name(name: str) -> None:
    check_name(name)


def network_name(testbed: str) -> str:
    return f"heal-{testbed}"


def container_name(testbed: str, node_id: int) -> str:
    return f"heal-{testbed}-n{node_id:03d}"


def label_filter(testbed: str) -> dict[str, str]:
    """The engine's list filter for every object of one testbed."""
    return {"label": f"{LABEL_TESTBED}={testbed}"}
