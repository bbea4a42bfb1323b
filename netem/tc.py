"""tc commands for a plan's shapes, applied to a device holding none of ours.

The plan becomes a Tree (qdiscs, htb classes, u32 filters) first; the
commands here and the readback's expectations are both derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from netem.netem_opts import netem_args
from netem.plan import KernelPlan
from netem.specs import Bandwidth, FaultSpec
from netem.units import num

__all__ = ["Tree", "build_tree", "netem_args", "tc_clear_commands", "tc_commands"]

ROOT_HANDLE = "1:"
# The class of a shape without a rate: 100 Gbit/s, far above what a veth
# carries.
UNSHAPED_KBIT = 100_000_000
UNSHAPED_BURST_KBYTE = 1024
QUANTUM_BYTES = 1514  # one full-size Ethernet frame


@dataclass(frozen=True)
class Qdisc:
    kind: Literal["netem", "tbf", "htb", "bfifo"]
    handle: str  # "1:", "10:"
    parent: str  # "root" or a class id
    args: tuple[str, ...]  # what follows the kind on the command line
    # What the readback compares, by kind:
    netem: tuple[FaultSpec, ...] = ()
    rate: Bandwidth | None = None  # tbf
    default_minor: int = 0  # htb
    limit_bytes: int = 0  # bfifo


@dataclass(frozen=True)
class HtbClass:
    classid: str
    rate_kbit: float
    burst_kbyte: float


@dataclass(frozen=True)
class U32Filter:
    peer: str
    flowid: str


@dataclass(frozen=True)
class Tree:
    root: Qdisc | None = None
    classes: tuple[HtbClass, ...] = ()
    leaves: tuple[Qdisc, ...] = ()  # one qdisc under each class
    filters: tuple[U32Filter, ...] = ()

    @property
    def qdiscs(self) -> tuple[Qdisc, ...]:
        return (self.root, *self.leaves) if self.root else ()


# The tree, by what the plan holds. Ids are hexadecimal, as tc reads them:
# shape k (from 1, in plan order) owns class 1:k and leaf qdisc 10+k-1.
#
#   no shapes        the device keeps its default root qdisc
#
#   one whole-interface shape, netem specs only
#     root 1: netem <netem_args>
#
#   one whole-interface shape, a rate only
#     root 1: tbf rate R burst B latency Q
#
#   anything else (per-peer shapes, or netem and a rate on the whole interface)
#     root 1: htb default D       D: the whole-interface shape's class, else 0,
#     |                           which sends unmatched packets through htb's
#     |                           direct queue: neither slowed nor delayed
#     +-- class 1:1 htb rate R1 ceil R1 burst B1 cburst B1        shape 1
#     |   +-- 10: netem <netem_args>          the shape has netem specs
#     +-- class 1:2 htb rate R2 ceil R2 burst B2 cburst B2        shape 2
#     |   +-- 11: bfifo limit R2*Q2+B2        a rate only: waits at most Q2
#     +-- ...
#     filters at 1:, one per peer: u32 match ip dst A.B.C.D/32 flowid 1:k
#
# A class without a rate of its own gets UNSHAPED_KBIT. Every class is a root
# class with ceil = rate, so none borrows, and the quantum only orders classes
# when the device itself is the bottleneck. Under netem, netem's packet limit
# (1000 by default) bounds the class's queue, not the rate's queue_ms.


def build_tree(plan: KernelPlan) -> Tree:
    """The qdiscs, classes and filters that the plan's shapes need."""
    if not plan.shapes:
        return Tree()
    only = plan.shapes[0]
    if len(plan.shapes) == 1 and not only.peers:
        if only.rate is None:
            return Tree(_netem(ROOT_HANDLE, "root", only.netem))
        if not only.netem:
            return Tree(_tbf(ROOT_HANDLE, "root", only.rate))

    default = next((k for k, s in enumerate(plan.shapes, 1) if not s.peers), 0)
    root = Qdisc(
        "htb", ROOT_HANDLE, "root", ("default", f"{default:x}"), default_minor=default
    )
    classes, leaves, filters = [], [], []
    for k, shape in enumerate(plan.shapes, 1):
        classid, leaf = f"1:{k:x}", f"{0x10 + k - 1:x}:"
        if shape.rate is None:
            classes.append(HtbClass(classid, UNSHAPED_KBIT, UNSHAPED_BURST_KBYTE))
        else:
            rate = shape.rate
            classes.append(HtbClass(classid, rate.rate_kbit, rate.burst_kbyte))
        # A shape without a rate has netem specs.
        if shape.netem or shape.rate is None:
            leaves.append(_netem(leaf, classid, shape.netem))
        else:
            leaves.append(_bfifo(leaf, classid, shape.rate))
        filters += [U32Filter(peer, classid) for peer in shape.peers]
    return Tree(root, tuple(classes), tuple(leaves), tuple(filters))


def tc_commands(plan: KernelPlan, dev: str = "eth0") -> list[list[str]]:
    """Commands that build the plan's tree on a device holding none of ours."""
    tree = build_tree(plan)
    if tree.root is None:
        return []

    # Leaves after their classes, filters last: no packet is steered to a
    # class before its queue exists.
    commands = [_qdisc_add(tree.root, dev)]
    for cls in tree.classes:
        rate, burst = _kbit(cls.rate_kbit), _kbyte(cls.burst_kbyte)
        commands.append(
            [
                *("tc", "class", "add", "dev", dev, "parent", ROOT_HANDLE),
                *("classid", cls.classid, "htb", "rate", rate, "ceil", rate),
                *("burst", burst, "cburst", burst, "quantum", str(QUANTUM_BYTES)),
            ]
        )
    for leaf in tree.leaves:
        commands.append(_qdisc_add(leaf, dev))
    for flt in tree.filters:
        commands.append(
            [
                *("tc", "filter", "add", "dev", dev, "parent", ROOT_HANDLE),
                *("protocol", "ip", "prio", "1", "u32"),
                *("match", "ip", "dst", f"{flt.peer}/32", "flowid", flt.flowid),
            ]
        )
    return commands


def tc_clear_commands(dev: str = "eth0") -> list[list[str]]:
    """Commands that leave the device with its default root qdisc. Deleting
    the default root fails, so a pfifo replaces whatever root is there first:
    both commands succeed whether or not anything of ours was left."""
    return [
        ["tc", "qdisc", "replace", "dev", dev, "root", "pfifo"],
        ["tc", "qdisc", "del", "dev", dev, "root"],
    ]


def _qdisc_add(qdisc: Qdisc, dev: str) -> list[str]:
    where = ["root"] if qdisc.parent == "root" else ["parent", qdisc.parent]
    return [
        *("tc", "qdisc", "add", "dev", dev, *where),
        *("handle", qdisc.handle, qdisc.kind, *qdisc.args),
    ]


def _netem(handle: str, parent: str, specs: tuple[FaultSpec, ...]) -> Qdisc:
    return Qdisc("netem", handle, parent, tuple(netem_args(specs)), netem=specs)


def _tbf(handle: str, parent: str, rate: Bandwidth) -> Qdisc:
    args = (
        *("rate", _kbit(rate.rate_kbit), "burst", _kbyte(rate.burst_kbyte)),
        *("latency", f"{num(rate.queue_ms)}ms"),
    )
    return Qdisc("tbf", handle, parent, args, rate=rate)


def _bfifo(handle: str, parent: str, rate: Bandwidth) -> Qdisc:
    """A queue of the bytes that drain in queue_ms at the rate, plus the
    burst: the limit tbf gives its own queue."""
    rate_bytes = rate.rate_kbit * 1000 / 8
    limit = round(rate_bytes * rate.queue_ms / 1000 + rate.burst_kbyte * 1024)
    return Qdisc("bfifo", handle, parent, ("limit", str(limit)), limit_bytes=limit)


def _kbit(rate_kbit: float) -> str:
    return f"{num(rate_kbit)}kbit"


def _kbyte(size_kbyte: float) -> str:
    # tc's "kb" is 1024 bytes.
    return f"{num(size_kbyte)}kb"
