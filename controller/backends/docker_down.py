"""Removing a testbed: every container, network and volume with its label.

Containers get SIGTERM all at once and `timeout` seconds to exit, so that
`down` takes as long as the slowest node, not the sum over batches; removal
then kills whatever still runs. Each node's log is saved into its run dir
first, so `controller logs` still works afterwards.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import requests

from controller.backends.docker_engine import LABEL_NODE, label_filter, reason
from controller.backends.docker_ops import WORKERS
from controller.rundir import RunDir

log = logging.getLogger("controller.docker")

_ENGINE_ERRORS = (docker.errors.APIError, requests.RequestException)
_RUNNING = ("running", "paused", "restarting")


def remove_testbed(
    client: docker.DockerClient, run: RunDir, testbed: str, timeout: float
) -> list[str]:
    """Remove everything labelled with the testbed; describe what could not be."""
    containers = client.api.containers(all=True, filters=label_filter(testbed))
    _terminate(client, testbed, containers, timeout)
    with ThreadPoolExecutor(WORKERS) as pool:
        removed = pool.map(lambda c: _remove_container(client, run, c), containers)
        failed = [problem for problem in removed if problem]

    for net in client.api.networks(filters=label_filter(testbed)):
        try:
            client.api.remove_network(net["Id"])
        except docker.errors.NotFound:
            pass
        except _ENGINE_ERRORS as exc:
            failed.append(f"network {net['Name']}: {reason(exc)}")
    volumes = client.api.volumes(filters=label_filter(testbed)).get("Volumes")
    for volume in volumes or []:
        try:
            client.api.remove_volume(volume["Name"], force=True)
        except docker.errors.NotFound:
            pass
        except _ENGINE_ERRORS as exc:
            failed.append(f"volume {volume['Name']}: {reason(exc)}")
    return failed


def _terminate(
    client: docker.DockerClient,
    testbed: str,
    containers: list[dict[str, Any]],
    timeout: float,
) -> None:
    """SIGTERM to every running container, then wait until they have exited."""

    def term(summary: dict[str, Any]) -> None:
        try:
            if summary["State"] == "paused":
                client.api.unpause(summary["Id"])
            client.api.kill(summary["Id"], signal="SIGTERM")
        except _ENGINE_ERRORS as exc:
            log.debug("SIGTERM to %s: %s", summary["Names"][0], reason(exc))

    running = [c for c in containers if c["State"] in _RUNNING]
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(term, running))
    deadline = time.monotonic() + timeout
    where = {**label_filter(testbed), "status": "running"}
    while running and time.monotonic() < deadline:
        time.sleep(0.25)
        running = client.api.containers(filters=where)
    if running:
        log.info("%d containers still ran after %.0f s; killing", len(running), timeout)


def _remove_container(
    client: docker.DockerClient, run: RunDir, summary: dict[str, Any]
) -> str | None:
    name = summary["Names"][0].lstrip("/")
    try:
        _save_log(client, run, summary)
        client.api.remove_container(summary["Id"], v=True, force=True)
    except docker.errors.NotFound:
        return None
    except _ENGINE_ERRORS as exc:
        return f"container {name}: {reason(exc)}"
    log.debug("removed container %s", name)
    return None


def _save_log(
    client: docker.DockerClient, run: RunDir, summary: dict[str, Any]
) -> None:
    label = (summary.get("Labels") or {}).get(LABEL_NODE, "")
    if not label.isdigit() or not run.node_dir(int(label)).is_dir():
        return
    text = client.api.logs(summary["Id"], stdout=True, stderr=True)
    run.node_log(int(label)).write_bytes(text)


def saved_log(run: RunDir, name: str, node_id: int) -> list[str]:
    """The log that removal saved, for a container that is gone."""
    saved = run.node_log(node_id)
    if not saved.is_file():
        return [f"(container {name} is gone and left no saved log)"]
    lines = saved.read_text(errors="replace").splitlines()
    return [*lines, f"(container {name} is gone; above is its log as saved then)"]
