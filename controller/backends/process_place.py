"""Where nodes of the process backend listen: loopback ports, two a node."""

from __future__ import annotations

import errno
import socket

from controller.backends.base import Placement
from controller.errors import ConflictError
from controller.plan import TestbedSettings, ports
from controller.rundir import TestbedState


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def placement(host: str, port: int, node_id: int) -> Placement:
    """gRPC on port, metrics on the port after it."""
    return Placement(
        host, port, port + 1, f"{host}:{port}", f"{host}:{port + 1}", node_id
    )


def place_all(settings: TestbedSettings) -> list[Placement]:
    """Node i at ports(settings, i); ConflictError when any port is taken."""
    placements = []
    taken = []
    for i in range(settings.nodes):
        port, metrics_port = ports(settings, i)
        taken += [p for p in (port, metrics_port) if not port_free(settings.host, p)]
        placements.append(placement(settings.host, port, i))
    if taken:
        shown = ", ".join(map(str, taken[:8])) + (", ..." if len(taken) > 8 else "")
        raise ConflictError(
            f"ports in use on {settings.host}: {shown}. The process backend "
            f"needs ports {settings.base_port}-"
            f"{settings.base_port + 2 * settings.nodes - 1}; choose another "
            "range with --base-port, or stop what holds them (a testbed "
            "of yours? see `controller status`, `controller down`)"
        )
    return placements


def place_joiner(
    settings: TestbedSettings, state: TestbedState, node_id: int
) -> Placement:
    """A node that joins: its own place in the range if free, else the next
    free pair of ports above it that no node of the testbed holds."""
    used = set()
    for record in state.nodes:
        used |= {int(record.address.rsplit(":", 1)[1])}
        used |= {int(record.metrics.rsplit(":", 1)[1])}
    first = ports(settings, node_id)[0]
    for port in range(first, 65535, 2):
        pair = {port, port + 1}
        if not used & pair and all(port_free(settings.host, p) for p in pair):
            return placement(settings.host, port, node_id)
    raise ConflictError(
        f"no free pair of ports on {settings.host} from {first} up for node "
        f"{node_id}; stop what holds them"
    )
