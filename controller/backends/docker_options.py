"""The docker backend's options from `up`: subnet, memory and CPU limits."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from controller.errors import UsageError

DEFAULT_MEMORY = "512m"
# A node with torch, grpc and numpy imported idles at about 150 MiB.
MIN_MEMORY_BYTES = 128 * 2**20

_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*([bkmg]?)(?:i?b)?", re.IGNORECASE)


@dataclass(frozen=True)
class DockerOptions:
    subnet: ipaddress.IPv4Network | None = None  # None: pick a free one
    memory_bytes: int = 512 * 2**20
    nano_cpus: int | None = None  # None: no CPU limit


def parse_docker_options(
    subnet: str | None, memory: str | None, cpus: float | None
) -> DockerOptions:
    """Validate `up`'s --subnet, --memory and --cpus; UsageError names the flag."""
    return DockerOptions(
        subnet=parse_subnet(subnet) if subnet is not None else None,
        memory_bytes=parse_memory(memory or DEFAULT_MEMORY),
        nano_cpus=_nano_cpus(cpus) if cpus is not None else None,
    )


def parse_subnet(text: str) -> ipaddress.IPv4Network:
    try:
        subnet = ipaddress.IPv4Network(text.strip(), strict=True)
    except ValueError as exc:
        raise UsageError(
            f"--subnet {text!r}: {exc}; valid: an IPv4 network in CIDR form "
            "such as 172.28.0.0/16"
        ) from exc
    # Addresses in a public range would shadow real hosts on this machine.
    if not subnet.is_private or subnet.prefixlen > 29:
        raise UsageError(
            f"--subnet {text}: valid: a private IPv4 range (10/8, 172.16/12, "
            "192.168/16) of /29 or larger, such as 172.28.0.0/16"
        )
    return subnet


def parse_memory(text: str) -> int:
    match = _MEMORY.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"--memory {text!r}: valid: a size such as 512m, 1g or 768MiB")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size < MIN_MEMORY_BYTES:
        raise UsageError(
            f"--memory {text}: a node needs about 150 MiB; valid: 128m or more"
        )
    return size


def _nano_cpus(cpus: float) -> int:
    if not cpus > 0:
        raise UsageError(f"--cpus {cpus}: valid: a number above 0, such as 0.5")
    return round(cpus * 1e9)
