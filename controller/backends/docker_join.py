"""A container that joins a running testbed: its address, image and limits.

The joiner runs the image the testbed's other containers run (not whatever
image the tree would build now, which may differ) with their memory and CPU
limits, at the next free static address of the testbed's network.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import docker

from controller.backends.base import Placement
from controller.backends.docker_engine import (
    GRPC_PORT,
    LABEL_ROLE,
    METRICS_PORT,
    label_filter,
    network_name,
)
from controller.backends.docker_net import node_ip
from controller.backends.docker_options import DockerOptions
from controller.errors import StartError
from controller.rundir import TestbedState


def testbed_subnet(client: docker.DockerClient, testbed: str) -> IPv4Network:
    try:
        net = client.api.inspect_network(network_name(testbed))
    except docker.errors.NotFound as exc:
        raise StartError(
            f"network {network_name(testbed)} is gone: is testbed {testbed} up?"
        ) from exc
    return IPv4Network(net["IPAM"]["Config"][0]["Subnet"])


def free_ip(
    client: docker.DockerClient, state: TestbedState, subnet: IPv4Network, node_id: int
) -> str:
    """node_id's own address in the subnet if free, else the next free one.
    Stopped containers keep their addresses: taken are those of every node
    in state, and of every endpoint on the network."""
    taken = {IPv4Address(r.address.rsplit(":", 1)[0]) for r in state.nodes}
    net = client.api.inspect_network(network_name(state.name))
    for endpoint in (net.get("Containers") or {}).values():
        if endpoint.get("IPv4Address"):
            taken.add(IPv4Address(endpoint["IPv4Address"].split("/")[0]))
    candidate = IPv4Address(node_ip(subnet, node_id))
    while candidate in subnet and candidate != subnet.broadcast_address:
        if candidate not in taken:
            return str(candidate)
        candidate += 1
    raise StartError(f"no free address left in {subnet} for node {node_id}")


def template(client: docker.DockerClient, testbed: str) -> tuple[str, DockerOptions]:
    """The image id and the limits of the testbed's node containers."""
    where = {"label": [label_filter(testbed)["label"], f"{LABEL_ROLE}=node"]}
    summaries = client.api.containers(all=True, filters=where)
    if not summaries:
        raise StartError(
            f"testbed {testbed} has no node container left to take the image "
            "and limits from; start a testbed with `controller up`"
        )
    info: dict[str, Any] = client.api.inspect_container(summaries[0]["Id"])
    host = info["HostConfig"]
    options = DockerOptions(
        memory_bytes=int(host.get("Memory") or DockerOptions.memory_bytes),
        nano_cpus=int(host["NanoCpus"]) if host.get("NanoCpus") else None,
    )
    return str(info["Image"]), options


def placement(ip: str, node_id: int) -> Placement:
    """A node listening on every address of its container, reached at ip."""
    return Placement(
        "0.0.0.0",
        GRPC_PORT,
        METRICS_PORT,
        f"{ip}:{GRPC_PORT}",
        f"{ip}:{METRICS_PORT}",
        node_id,
    )
