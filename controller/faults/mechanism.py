"""Which way a fault is applied: in the kernel of the node's network
namespace where the kernel can, else in the node's own transport."""

from __future__ import annotations

from controller.errors import UsageError
from netem.capabilities import Capabilities
from netem.specs import NETEM_KINDS, spec_class

INNODE = "innode"
NETEM = "kernel:netem"
SHAPER = "kernel:tbf"  # tbf on the whole interface, htb with u32 per peer
IPTABLES = "kernel:iptables"

# Message-level equivalents in the node's transport (see node/faults.py).
INNODE_KINDS = frozenset(
    {
        "delay",
        "loss",
        "burst_loss",
        "duplicate",
        "reorder",
        "bandwidth",
        "ingress_loss",
        "partition",
    }
)


def _kernel_way(
    kind: str, per_link: bool, caps: Capabilities
) -> tuple[str | None, str]:
    """The kernel mechanism for a kind, or None and what the kernel lacks."""
    if kind in ("partition", "ingress_loss") or (kind == "loss" and not caps.netem):
        need = ["iptables"] + ([] if kind == "partition" else ["statistic"])
        missing = [n for n in need if not getattr(caps, n)]
        if missing:
            return None, " and ".join(missing)
        return IPTABLES, ""
    if kind == "bandwidth":
        need = ["htb", "u32"] if per_link else ["tbf"]
        missing = [n for n in need if not getattr(caps, n)]
        return (None, " and ".join(missing)) if missing else (SHAPER, "")
    if kind in NETEM_KINDS:
        need = ["netem"] + (["htb", "u32"] if per_link else [])
        missing = [n for n in need if not getattr(caps, n)]
        return (None, " and ".join(missing)) if missing else (NETEM, "")
    raise UsageError(f"{kind!r} is not a link fault")


def choose(
    kind: str,
    via: str,
    per_link: bool,
    caps: Capabilities | None,
    correlated: bool = False,
) -> str:
    """The mechanism for one link fault. caps is None where nodes have no
    network namespace of their own (the process backend). Only netem knows
    correlation (correlated: correlation_pct > 0)."""
    way = _choose(kind, via, per_link, caps)
    if correlated and way != NETEM:
        raise UsageError(
            f"{kind}: correlation_pct needs tc netem, which "
            + ("this kernel lacks" if caps is not None else "the process backend lacks")
            + f" ({way} would ignore it); drop correlation_pct"
        )
    return way


def _choose(kind: str, via: str, per_link: bool, caps: Capabilities | None) -> str:
    spec_class(kind)  # unknown kinds fail here, naming the valid ones
    innode_ok = kind in INNODE_KINDS
    if caps is None:
        if via == "kernel":
            raise UsageError(
                f"via: kernel: {kind} needs a network namespace per node, which "
                "the process backend does not have; use via: innode or auto"
            )
        if not innode_ok:
            raise UsageError(
                f"{kind} has no in-node equivalent and the process backend has "
                "no kernel way; use the docker backend on a kernel with netem"
            )
        return INNODE

    way, missing = _kernel_way(kind, per_link, caps)
    if via == "kernel" and way is None:
        raise UsageError(
            f"via: kernel: {kind} needs {missing}, which this kernel lacks; "
            "use via: auto or innode"
        )
    if via == "innode" and not innode_ok:
        raise UsageError(f"via: innode: {kind} has no in-node equivalent")
    if via == "innode" or way is None:
        if not innode_ok:
            raise UsageError(
                f"{kind} needs {missing} in the kernel (lacking here) and has "
                "no in-node equivalent"
            )
        return INNODE
    return way
