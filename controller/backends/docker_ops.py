"""Reading a testbed's objects from the engine, found by their label."""

from __future__ import annotations

from typing import Any

import docker
import requests

from controller.backends.docker_engine import label_filter
from controller.errors import ConflictError
from controller.rundir import RunDir

# Parallel engine requests; the client's connection pool is at least as big.
WORKERS = 16
_ENGINE_ERRORS = (docker.errors.APIError, requests.RequestException)


def containers_by_name(client: docker.DockerClient, testbed: str) -> dict[str, Any]:
    """The engine's summary of every container of the testbed, by name."""
    found = client.api.containers(all=True, filters=label_filter(testbed))
    return {c["Names"][0].lstrip("/"): c for c in found}


def check_leftovers(client: docker.DockerClient, run: RunDir) -> None:
    """ConflictError when objects of a testbed of this name are still there."""
    containers = containers_by_name(client, run.name)
    networks = client.api.networks(filters=label_filter(run.name))
    if containers or networks:
        raise ConflictError(
            f"the Docker engine still holds {len(containers)} containers and "
            f"{len(networks)} networks of a testbed named {run.name!r}; remove "
            f"them with `controller down --run-dir {run.path}` (or `docker rm "
            f"-f` on those labelled {label_filter(run.name)['label']}), or "
            "choose another --name"
        )


def exit_code(client: docker.DockerClient, container_id: str) -> int | None:
    try:
        state = client.api.inspect_container(container_id)["State"]
    except docker.errors.NotFound:
        return None
    return int(state["ExitCode"]) if state["Status"] in ("exited", "dead") else None


def memory_mib(client: docker.DockerClient, container_id: str) -> float | None:
    """Memory in use, less the page cache the kernel can drop, as `docker stats`
    counts it; None when the engine has no figure."""
    try:
        stats = client.api.stats(container_id, stream=False, one_shot=True)
    except _ENGINE_ERRORS:
        return None
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is None:
        return None
    detail = memory.get("stats") or {}
    # cgroup v2 names it inactive_file, v1 total_inactive_file; older: cache.
    for key in ("inactive_file", "total_inactive_file", "cache"):
        if key in detail:
            return float(max(0, usage - detail[key])) / 2**20
    return float(usage) / 2**20
