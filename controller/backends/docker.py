"""Nodes as containers on one internal bridge network, through the Docker SDK.

`up` on this backend: place picks a free subnet and gives node i a static
address in it; start records the container names, builds the node image
(at once when cached), makes the network and starts the containers. Every
object carries the testbed's label, and `down` removes by that label.
Node faults and the command runner are in docker_faults, joining nodes'
addresses, image and limits in docker_join.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Network

import docker

from controller.backends import docker_faults as faults
from controller.backends import docker_join as join
from controller.backends import docker_ops as ops
from controller.backends.base import (
    Backend,
    Liveness,
    Placement,
    Runner,
    node_record,
)
from controller.backends.docker_down import remove_testbed
from controller.backends.docker_engine import (
    DockerUnavailable,
    check_testbed_name,
    connect,
    container_name,
    engine_errors,
    label_filter,
    network_name,
)
from controller.backends.docker_host import ensure_neighbour_room
from controller.backends.docker_live import LivenessReader, container_log
from controller.backends.docker_net import choose_subnet, create_network, node_ip
from controller.backends.docker_options import DockerOptions
from controller.backends.docker_start import (
    check_cpus,
    start_container,
    start_containers,
)
from controller.backends.joining import (
    check_joiner_config,
    ensure_joiner_shard,
    next_node_id,
)
from controller.errors import StartError
from controller.image import REPO_ROOT, ensure_image
from controller.plan import TestbedSettings
from controller.rundir import NodeRecord, RunDir, TestbedState
from node.config import NodeConfig

log = logging.getLogger("controller.docker")


class DockerBackend(Backend):
    name = "docker"
    # Measured: at 0.08 (2 s cycles for 50 nodes on 2 cores) hub lists agreed
    # on 70-76 % of containers; at 3 s they agreed on all.
    pace_s = 0.12
    # Run fault commands by nsenter from the host where possible (see
    # docker_faults.NamespaceRunner); False: always the exec API.
    namespace_runners = True

    def __init__(self, options: DockerOptions | None = None) -> None:
        self.options = options or DockerOptions()
        self._client: docker.DockerClient | None = None
        self._subnet: IPv4Network | None = None
        self._reader = LivenessReader()

    @property
    def client(self) -> docker.DockerClient:
        """Connected on first use, so that a missing engine fails with a reason."""
        if self._client is None:
            self._client = connect(pool=ops.WORKERS)
        return self._client

    def place(self, settings: TestbedSettings, run: RunDir) -> list[Placement]:
        check_testbed_name(run.name)
        with engine_errors("placing the testbed"):
            check_cpus(self.client, self.options)
            ops.check_leftovers(self.client, run)
            subnet = choose_subnet(self.client, self.options.subnet, settings.nodes)
        ensure_neighbour_room(settings.nodes)
        self._subnet = subnet
        ips = [node_ip(subnet, i) for i in range(settings.nodes)]
        return [join.placement(ip, i) for i, ip in enumerate(ips)]

    def start(
        self,
        run: RunDir,
        state: TestbedState,
        configs: list[NodeConfig],
        progress: Callable[[int], None],
    ) -> None:
        if self._subnet is None:
            raise StartError("the docker backend must place a testbed before start")
        for record in state.nodes:
            record.container = container_name(state.name, record.id)
        run.save(state)

        image = ensure_image(self.client, repo_root=REPO_ROOT)
        with engine_errors("creating the network"):
            create_network(self.client, state.name, self._subnet)
        log.info(
            "starting %d containers from %s on network %s (%s)",
            len(configs),
            image.tag,
            network_name(state.name),
            self._subnet,
        )
        start_containers(
            self.client,
            run,
            configs,
            image=image.tag,
            subnet=self._subnet,
            options=self.options,
            progress=progress,
        )

    def liveness(
        self, run: RunDir, state: TestbedState, memory: bool = True
    ) -> dict[int, Liveness]:
        with engine_errors("reading container states"):
            return self._reader.read(self.client, state, memory)

    def stop(self, run: RunDir, state: TestbedState, timeout: float) -> list[str]:
        try:
            with engine_errors("removing the testbed"):
                return remove_testbed(self.client, run, state.name, timeout)
        except DockerUnavailable as exc:
            return [f"everything labelled {label_filter(state.name)['label']}: {exc}"]

    def kill(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        name = _container(state, node_id)
        with engine_errors(f"killing {name}"):
            try:
                self.client.api.kill(name)
            except docker.errors.APIError as exc:
                # Gone (404) or not running (409): as good as killed.
                if exc.status_code not in (404, 409):
                    raise

    def log_lines(self, run: RunDir, state: TestbedState, node_id: int) -> list[str]:
        with engine_errors(f"reading the log of node {node_id}"):
            return container_log(self.client, run, state, node_id)

    def pause(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        name = _container(state, node_id)
        with engine_errors(f"pausing {name}"):
            faults.pause(self.client, name)

    def unpause(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        name = _container(state, node_id)
        with engine_errors(f"unpausing {name}"):
            faults.unpause(self.client, name)

    def restart(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        name = _container(state, node_id)
        with engine_errors(f"restarting {name}"):
            faults.restart(self.client, name)

    def add_node(
        self,
        run: RunDir,
        state: TestbedState,
        settings: TestbedSettings,
        config_for: Callable[[Placement], NodeConfig],
    ) -> NodeRecord:
        node_id = next_node_id(state)
        with engine_errors(f"placing node {node_id}"):
            image, options = join.template(self.client, state.name)
            subnet = join.testbed_subnet(self.client, state.name)
            ip = join.free_ip(self.client, state, subnet, node_id)
        placement = join.placement(ip, node_id)
        config = config_for(placement)
        check_joiner_config(config, placement)
        if config.shard is None:  # else it trains on a shard that exists
            ensure_joiner_shard(
                run.data_dir, node_id, [r.id for r in state.nodes], settings.seed
            )

        record = NodeRecord(
            id=node_id,
            address=placement.address,
            metrics=placement.metrics,
            container=container_name(state.name, node_id),
        )
        state.nodes.append(record)
        run.save(state)
        log.info("node %d joins testbed %s at %s", node_id, state.name, ip)
        start_container(self.client, run, config, image=image, ip=ip, options=options)
        return record

    def runner(self, run: RunDir, state: TestbedState, node_id: int) -> Runner | None:
        return self.runners(run, state, [node_id])[node_id]

    def runners(
        self, run: RunDir, state: TestbedState, node_ids: Iterable[int]
    ) -> dict[int, Runner]:
        """Runners in each container's network namespace: by nsenter from
        the host where it can (root), else through the engine's exec API. A
        container that is missing or stopped makes its runner's calls fail
        with RUNNER_FAILED and the reason."""
        names = {i: _container(state, i) for i in node_ids}
        with engine_errors("listing containers"):
            found = ops.containers_by_name(self.client, state.name)
        ids = {i: found[n]["Id"] if n in found else n for i, n in names.items()}
        if self.namespace_runners and faults.namespace_runners_possible():
            with ThreadPoolExecutor(ops.WORKERS) as pool:
                pids = dict(
                    zip(
                        ids,
                        pool.map(
                            lambda c: faults.container_pid(self.client, c), ids.values()
                        ),
                        strict=True,
                    )
                )
            return {
                i: faults.NamespaceRunner(pid, names[i])
                if pid is not None
                else faults.ContainerRunner(self.client, ids[i], names[i])
                for i, pid in pids.items()
            }
        return {
            i: faults.ContainerRunner(self.client, ids[i], n) for i, n in names.items()
        }


def _container(state: TestbedState, node_id: int) -> str:
    record = node_record(state, node_id)
    return record.container or container_name(state.name, node_id)
