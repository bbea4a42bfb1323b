"""What `status` needs from the engine: alive or exit code, memory, logs."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import docker

from controller.backends import docker_ops as ops
from controller.backends.base import Liveness
from controller.backends.docker_down import saved_log
from controller.backends.docker_engine import container_name
from controller.rundir import RunDir, TestbedState

# Memory figures are reused for this long: `up` polls liveness every second.
MEMORY_MAX_AGE_S = 5.0
_RUNNING = ("running", "paused", "restarting")


class LivenessReader:
    """Container states from one list request; memory from stats, in parallel
    and at most once per MEMORY_MAX_AGE_S for each container."""

    def __init__(self) -> None:
        self._memory: dict[str, tuple[float, float | None]] = {}

    def read(
        self, client: docker.DockerClient, state: TestbedState, with_memory: bool = True
    ) -> dict[int, Liveness]:
        found = ops.containers_by_name(client, state.name)
        running = {n: c["Id"] for n, c in found.items() if c["State"] in _RUNNING}
        memory = (
            self._memory_of(client, running)
            if with_memory
            else dict.fromkeys(running, None)
        )
        result = {}
        for record in state.nodes:
            name = record.container or container_name(state.name, record.id)
            if name in running:
                paused = found[name]["State"] == "paused"
                result[record.id] = Liveness(True, None, memory[name], paused)
            elif name in found:
                code = ops.exit_code(client, found[name]["Id"])
                result[record.id] = Liveness(False, code)
            else:
                result[record.id] = Liveness(False)
        return result

    def _memory_of(
        self, client: docker.DockerClient, running: dict[str, str]
    ) -> dict[str, float | None]:
        now = time.monotonic()
        never = (now - MEMORY_MAX_AGE_S, None)
        stale = [
            n
            for n in running
            if now - self._memory.get(n, never)[0] >= MEMORY_MAX_AGE_S
        ]
        with ThreadPoolExecutor(ops.WORKERS) as pool:
            figures = pool.map(lambda n: ops.memory_mib(client, running[n]), stale)
            for name, mib in zip(stale, figures, strict=True):
                self._memory[name] = (now, mib)
        return {n: self._memory[n][1] for n in running}


def container_log(
    client: docker.DockerClient, run: RunDir, state: TestbedState, node_id: int
) -> list[str]:
    """The container's log; the one saved at removal once the container is gone."""
    name = container_name(state.name, node_id)
    try:
        raw = client.api.logs(name, stdout=True, stderr=True)
        oom = client.api.inspect_container(name)["State"]["OOMKilled"]
    except docker.errors.NotFound:
        return saved_log(run, name, node_id)
    lines = raw.decode(errors="replace").splitlines()
    if oom:
        lines.append(
            f"({name} was killed for exceeding its memory limit; raise --memory)"
        )
    return lines
