"""Creating and starting a testbed's containers, in parallel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from ipaddress import IPv4Network

import docker
import requests

from controller.backends.docker_engine import reason
from controller.backends.docker_net import node_ip
from controller.backends.docker_ops import WORKERS
from controller.backends.docker_options import DockerOptions
from controller.backends.docker_spec import create_kwargs
from controller.errors import StartError, UsageError
from controller.rundir import RunDir
from node.config import NodeConfig

log = logging.getLogger("controller.docker")


def check_cpus(client: docker.DockerClient, options: DockerOptions) -> None:
    """UsageError when --cpus asks for more CPUs than the engine has."""
    cpus = int(client.info().get("NCPU", 0))
    wanted = options.nano_cpus
    if wanted is not None and cpus and wanted > cpus * 10**9:
        raise UsageError(
            f"--cpus {wanted / 1e9:g}: the Docker engine has {cpus} CPUs; "
            f"valid: above 0 and at most {cpus}"
        )


def start_containers(
    client: docker.DockerClient,
    run: RunDir,
    configs: list[NodeConfig],
    *,
    image: str,
    subnet: IPv4Network,
    options: DockerOptions,
    progress: Callable[[int], None],
) -> None:
    """Create and start one container a node; progress(1) as each one starts.
    On the first failure the rest is cancelled and StartError raised."""

    def start_one(config: NodeConfig) -> None:
        ip = node_ip(subnet, config.node_id)
        start_container(client, run, config, image=image, ip=ip, options=options)

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(start_one, config) for config in configs]
        try:
            for future in as_completed(futures):
                future.result()
                progress(1)
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def start_container(
    client: docker.DockerClient,
    run: RunDir,
    config: NodeConfig,
    *,
    image: str,
    ip: str,
    options: DockerOptions,
) -> None:
    """Create and start one node's container at its static address ip."""
    endpoint = client.api.create_endpoint_config(ipv4_address=ip)
    kwargs = create_kwargs(run, config, image=image, options=options, endpoint=endpoint)
    try:
        client.containers.create(**kwargs).start()
    except (docker.errors.APIError, requests.RequestException) as exc:
        raise StartError(
            f"container {kwargs['name']} did not start: {reason(exc)}"
        ) from exc
    log.debug("started %s at %s", kwargs["name"], ip)
