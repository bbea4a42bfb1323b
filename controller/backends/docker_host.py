"""A host kernel limit that a testbed of many containers runs into.

Each container keeps a neighbour (ARP) entry for every peer it talks to,
and the kernel's neighbour table is shared by all network namespaces. Fifty
nodes that all talk to each other need about 2,500 entries; by default the
kernel evicts entries above 512 (gc_thresh2) and refuses new ones above 1024
(gc_thresh3), logging "neighbor table overflow". Past that, addresses stop
resolving: the host cannot reach containers, nor containers each other.
"""

from __future__ import annotations

import logging
from pathlib import Path

from controller.errors import ControllerError

NEIGH = Path("/proc/sys/net/ipv4/neigh/default")
HEADROOM = 256  # entries for everything else on the host

log = logging.getLogger("controller.docker")


class HostLimitError(ControllerError):
    """The host's kernel cannot hold what the testbed needs."""


def entries_needed(nodes: int) -> int:
    """Every container resolving every other one, and the host all of them."""
    return nodes * (nodes + 1) + HEADROOM


def ensure_neighbour_room(nodes: int, neigh: Path = NEIGH) -> None:
    """Raise gc_thresh2 and gc_thresh3 where they are too low for nodes."""
    needed = entries_needed(nodes)
    try:
        soft = int((neigh / "gc_thresh2").read_text())
        hard = int((neigh / "gc_thresh3").read_text())
    except (OSError, ValueError):
        # Not Linux, or not the host's namespace: nothing to check from here.
        log.debug("cannot read %s; neighbour table limits left unchecked", neigh)
        return
    if soft >= needed:
        return

    new_hard = max(hard, 2 * needed)
    try:
        (neigh / "gc_thresh3").write_text(f"{new_hard}\n")
        (neigh / "gc_thresh2").write_text(f"{needed}\n")
    except OSError as exc:
        raise HostLimitError(
            f"{nodes} containers need about {needed} neighbour (ARP) entries, "
            f"but net.ipv4.neigh.default.gc_thresh2 is {soft} and cannot be "
            f"raised from here ({exc.strerror}); as root run `sysctl -w "
            f"net.ipv4.neigh.default.gc_thresh3={new_hard} "
            f"net.ipv4.neigh.default.gc_thresh2={needed}`, or start fewer nodes"
        ) from exc
    log.info(
        "raised net.ipv4.neigh.default.gc_thresh2/3 from %d/%d to %d/%d: "
        "%d containers that talk to each other need that many ARP entries",
        soft,
        hard,
        needed,
        new_hard,
        nodes,
    )
