"""A testbed's bridge network: its subnet, node addresses, and creation.

The network is `internal`: the engine gives it no route out (its iptables
rules drop forwarding between the bridge and any other interface), while
the host still reaches every container through the bridge's own address.
Nodes get static addresses so that configs can name peers before any
container exists: the gateway takes the subnet's first host address and
node i the (i + 2)th.
"""

from __future__ import annotations

import ipaddress
import socket
from ipaddress import IPv4Network
from typing import Any

import docker
import psutil

from controller.backends.docker_engine import LABEL_TESTBED, network_name
from controller.errors import ConflictError, UsageError

DEFAULT_SUBNET = IPv4Network("172.28.0.0/16")
_FALLBACKS = [IPv4Network(f"172.{b}.0.0/16") for b in range(29, 32)] + [
    IPv4Network(f"10.{b}.0.0/16") for b in range(200, 255)
]


def taken_subnets(client: docker.DockerClient) -> list[tuple[IPv4Network, str]]:
    """IPv4 ranges in use: every engine network's, and the host's interfaces'."""
    taken = []
    for net in client.api.networks():
        for pool in (net.get("IPAM") or {}).get("Config") or []:
            try:
                subnet = IPv4Network(pool.get("Subnet", ""), strict=False)
            except ValueError:
                continue  # IPv6 or empty
            taken.append((subnet, f"docker network {net['Name']}"))
    for name, addresses in psutil.net_if_addrs().items():
        for addr in addresses:
            if addr.family == socket.AF_INET and addr.netmask:
                iface = ipaddress.IPv4Interface(f"{addr.address}/{addr.netmask}")
                taken.append((iface.network, f"host interface {name}"))
    return taken


def choose_subnet(
    client: docker.DockerClient, wanted: IPv4Network | None, nodes: int
) -> IPv4Network:
    """The wanted subnet if free, else the default or the first free fallback."""
    taken = taken_subnets(client)
    if wanted is not None:
        if wanted.num_addresses - 3 < nodes:
            raise UsageError(
                f"--subnet {wanted} holds {wanted.num_addresses - 3} node "
                f"addresses; {nodes} nodes need a /{_prefix_for(nodes)} or larger"
            )
        clash = [what for net, what in taken if net.overlaps(wanted)]
        if clash:
            free = _first_free([DEFAULT_SUBNET, *_FALLBACKS], taken)
            hint = f"pass --subnet {free} or " if free else ""
            raise ConflictError(
                f"--subnet {wanted} overlaps {', '.join(clash)}; {hint}leave "
                "--subnet out to pick a free range"
            )
        return wanted
    free = _first_free([DEFAULT_SUBNET, *_FALLBACKS], taken)
    if free is None:
        raise ConflictError(
            f"no free range among {DEFAULT_SUBNET}, {_FALLBACKS[0]} ... "
            f"{_FALLBACKS[-1]}; pass a free private range with --subnet"
        )
    return free


def node_ip(subnet: IPv4Network, node_id: int) -> str:
    return str(subnet.network_address + 2 + node_id)


def create_network(
    client: docker.DockerClient, testbed: str, subnet: IPv4Network
) -> Any:
    pool = docker.types.IPAMPool(
        subnet=str(subnet), gateway=str(subnet.network_address + 1)
    )
    try:
        return client.networks.create(
            network_name(testbed),
            driver="bridge",
            internal=True,
            ipam=docker.types.IPAMConfig(pool_configs=[pool]),
            labels={LABEL_TESTBED: testbed},
            check_duplicate=True,
        )
    except docker.errors.APIError as exc:
        raise ConflictError(
            f"cannot create network {network_name(testbed)} on {subnet}: "
            f"{exc.explanation or exc}; pass another --subnet, or run "
            "`controller down` for a testbed of the same name"
        ) from exc


def _first_free(
    candidates: list[IPv4Network], taken: list[tuple[IPv4Network, str]]
) -> IPv4Network | None:
    for candidate in candidates:
        if not any(net.overlaps(candidate) for net, _ in taken):
            return candidate
    return None


def _prefix_for(nodes: int) -> int:
    prefix = 29
    while 2 ** (32 - prefix) - 3 < nodes:
        prefix -= 1
    return prefix
