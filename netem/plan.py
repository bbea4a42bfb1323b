"""What the kernel should hold for one node: shapes (tc) and drops (iptables).

The controller turns the faults active on a node into one KernelPlan; the
executor makes the kernel hold exactly that plan, replacing the previous one.
Plans are validated when made, so that nothing half-valid reaches the kernel.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from netem.errors import PlanError
from netem.netem_opts import check_netem_specs
from netem.specs import Bandwidth, FaultSpec

# Runs one argv (no shell) in the node's network namespace; returns the exit
# code and the combined stdout and stderr.
Runner = Callable[[list[str]], tuple[int, str]]

# A token bucket whose burst cannot hold one full-size frame (MTU 1500 on
# Docker's bridge, plus headers) drops every such frame.
MIN_BURST_BYTES = 1600


@dataclass(frozen=True)
class Shape:
    """Traffic this node sends to `peers` (IPv4 addresses). () means the
    whole interface: beside per-peer shapes, every packet that none of them
    claims, since each packet takes one shape only. A fault meant for every
    link therefore belongs in each per-peer shape too."""

    peers: tuple[str, ...]
    netem: tuple[FaultSpec, ...] = ()  # merged into one netem qdisc
    rate: Bandwidth | None = None

    def __post_init__(self) -> None:
        # Lists are welcome; tuples keep the plan immutable and hashable.
        object.__setattr__(self, "peers", tuple(self.peers))
        object.__setattr__(self, "netem", tuple(self.netem))
        _check_peers(self.peers, "shape")

        if not self.netem and self.rate is None:
            raise PlanError(f"shape for {self.target} has neither netem specs nor rate")
        check_netem_specs(self.netem)
        if self.rate is not None:
            if not isinstance(self.rate, Bandwidth):
                raise PlanError(
                    f"shape rate must be a Bandwidth spec, not {self.rate!r}"
                )
            if self.rate.burst_kbyte * 1024 < MIN_BURST_BYTES:
                raise PlanError(
                    f"bandwidth burst_kbyte={self.rate.burst_kbyte:g} cannot hold a "
                    f"full-size frame; use at least {MIN_BURST_BYTES / 1024:.2f}"
                )

    @property
    def target(self) -> str:
        return ", ".join(self.peers) if self.peers else "the whole interface"


@dataclass(frozen=True)
class Drop:
    """iptables DROP of packets this node sends to ("out") or receives from
    ("in") `peers`. Peers are always listed, so that traffic with the host
    (control messages) is never cut."""

    direction: Literal["out", "in"]
    peers: tuple[str, ...]
    pct: float = 100.0  # below 100: a random share of the packets

    def __post_init__(self) -> None:
        object.__setattr__(self, "peers", tuple(self.peers))
        if self.direction not in ("out", "in"):
            raise PlanError(f"drop direction {self.direction!r}; use 'out' or 'in'")
        if not self.peers:
            raise PlanError("a drop needs peers; dropping everything would cut control")
        _check_peers(self.peers, "drop")
        if not (math.isfinite(self.pct) and 0 < self.pct <= 100):
            raise PlanError(f"drop pct={self.pct}; use a share in (0, 100]")


@dataclass(frozen=True)
class KernelPlan:
    """Everything the kernel should hold for one node; empty means nothing."""

    shapes: tuple[Shape, ...] = ()
    drops: tuple[Drop, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "shapes", tuple(self.shapes))
        object.__setattr__(self, "drops", tuple(self.drops))
        for shape in self.shapes:
            if not isinstance(shape, Shape):
                raise PlanError(f"plan shapes must be Shape, not {shape!r}")
        for drop in self.drops:
            if not isinstance(drop, Drop):
                raise PlanError(f"plan drops must be Drop, not {drop!r}")

        # Each packet is shaped by one class: peer sets must not overlap.
        whole = [shape for shape in self.shapes if not shape.peers]
        if len(whole) > 1:
            raise PlanError("more than one whole-interface shape; merge them into one")
        owner: dict[str, int] = {}
        for index, shape in enumerate(self.shapes):
            for peer in shape.peers:
                if peer in owner:
                    raise PlanError(
                        f"peer {peer} is in shapes {owner[peer] + 1} and {index + 1}; "
                        "a peer's traffic takes one shape: merge their specs"
                    )
                owner[peer] = index

    @property
    def empty(self) -> bool:
        return not self.shapes and not self.drops

    def summary(self) -> str:
        """For log lines: "2 shapes, 1 drops" or "nothing"."""
        if self.empty:
            return "nothing"
        return f"{len(self.shapes)} shapes, {len(self.drops)} drops"


def _check_peers(peers: tuple[str, ...], what: str) -> None:
    for peer in peers:
        if not _is_ipv4(peer):
            raise PlanError(f"{what} peer {peer!r} is not an IPv4 address")
    if len(set(peers)) != len(peers):
        raise PlanError(f"{what} lists a peer twice: {', '.join(peers)}")


def _is_ipv4(peer: object) -> bool:
    if not isinstance(peer, str):
        return False
    try:
        ipaddress.IPv4Address(peer)
    except ValueError:
        return False
    return True
