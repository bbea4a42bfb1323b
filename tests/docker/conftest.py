"""Docker end-to-end tests: real node containers on a testbed network.

Every test names its own testbed and removes everything carrying that
testbed's label when it ends, whatever happened.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from controller.backends.docker_down import remove_testbed
from controller.backends.docker_engine import engine_problem, label_filter
from controller.rundir import RunDir
from tests.integration.conftest import FAST as PROCESS_FAST

# The integration tests' short cycles, with a cache and hub count that fit
# a handful of nodes.
FAST = {**PROCESS_FAST, "c": 4, "h": 1, "standby": 1}


@pytest.fixture(scope="session")
def engine() -> Iterator[docker.DockerClient]:
    problem = engine_problem(timeout=2.0)
    if problem is not None:
        pytest.skip(f"no Docker engine answers ({problem}); scripts/ensure-docker")
    client = docker.from_env(timeout=120)
    yield client
    client.close()


def unique_name(kind: str) -> str:
    """A name no other test or run on this machine uses at the same time."""
    return f"t-{kind}-{os.getpid()}"


def labelled(client: docker.DockerClient, name: str) -> dict[str, list[str]]:
    """Names of every container, network and volume labelled with the testbed."""
    where = label_filter(name)
    return {
        "containers": [c.name for c in client.containers.list(all=True, filters=where)],
        "networks": [n.name for n in client.networks.list(filters=where)],
        "volumes": [v.name for v in client.volumes.list(filters=where)],
    }


def nothing_left(client: docker.DockerClient, name: str) -> bool:
    return not any(labelled(client, name).values())


def sweep(client: docker.DockerClient, run_path: Path, name: str) -> None:
    """Remove by label whatever a failed test left behind."""
    leftovers = remove_testbed(client, RunDir(run_path), name, timeout=5)
    assert not leftovers, leftovers
