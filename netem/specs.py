"""Fault specs: validated, immutable parameters, units in the field names.

A spec says what a fault does, not to whom: targets (node selectors, peer
sets, partition groups) are the controller's business. Kinds are registered
under the name that scenario files use, so a new kind is one small class.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

Pct = Annotated[float, Field(ge=0, le=100)]
PositivePct = Annotated[float, Field(gt=0, le=100)]
Millis = Annotated[float, Field(ge=0, le=600_000)]


class FaultSpec(BaseModel):
    """Base of every fault kind."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    kind: ClassVar[str]
    # "link": shapes or drops messages between nodes; "node": acts on the
    # node's process or container.
    scope: ClassVar[Literal["link", "node"]]
    # Link faults that may be limited to chosen peers (a `peers` selector).
    per_link: ClassVar[bool] = False


class Delay(FaultSpec):
    kind = "delay"
    scope = "link"
    per_link = True

    delay_ms: Annotated[float, Field(gt=0, le=600_000)]
    jitter_ms: Millis = 0
    correlation_pct: Pct = 0
    # netem's tables; "uniform" is netem's own default for jitter.
    distribution: Literal["uniform", "normal", "pareto", "paretonormal"] = "uniform"


class Loss(FaultSpec):
    """Random loss of what the node sends."""

    kind = "loss"
    scope = "link"
    per_link = True

    loss_pct: PositivePct
    correlation_pct: Pct = 0


class BurstLoss(FaultSpec):
    """Gilbert-Elliott loss: a good and a bad state with their own loss
    rates; p and r are the per-packet chances of moving good->bad and
    bad->good (netem `loss gemodel p r 1-h 1-k`)."""

    kind = "burst_loss"
    scope = "link"
    per_link = True

    p_pct: PositivePct
    r_pct: PositivePct = 100
    bad_loss_pct: Pct = 100  # 1-h
    good_loss_pct: Pct = 0  # 1-k


class Duplicate(FaultSpec):
    kind = "duplicate"
    scope = "link"
    per_link = True

    duplicate_pct: PositivePct
    correlation_pct: Pct = 0


class Corrupt(FaultSpec):
    kind = "corrupt"
    scope = "link"
    per_link = True

    corrupt_pct: PositivePct
    correlation_pct: Pct = 0


class Reorder(FaultSpec):
    """reorder_pct of packets go at once, the rest wait delay_ms (netem needs
    a delay to reorder against)."""

    kind = "reorder"
    scope = "link"
    per_link = True

    reorder_pct: PositivePct
    delay_ms: Annotated[float, Field(gt=0, le=600_000)] = 10
    correlation_pct: Pct = 0


class Bandwidth(FaultSpec):
    kind = "bandwidth"
    scope = "link"
    per_link = True

    rate_kbit: Annotated[float, Field(ge=8, le=10_000_000)]
    burst_kbyte: Annotated[float, Field(gt=0, le=1_000_000)] = 32
    # How long a packet may wait in the token bucket before it is dropped.
    queue_ms: Annotated[float, Field(gt=0, le=60_000)] = 400


class IngressLoss(FaultSpec):
    """Random loss of what the node receives."""

    kind = "ingress_loss"
    scope = "link"
    per_link = True

    loss_pct: PositivePct


class Partition(FaultSpec):
    """Nodes in different groups cannot reach each other; a node in several
    groups reaches all of them; a node in none is not affected. With one_way,
    only messages from the first group to the others are lost."""

    kind = "partition"
    scope = "link"

    one_way: bool = False


class Crash(FaultSpec):
    kind = "crash"
    scope = "node"


class Pause(FaultSpec):
    kind = "pause"
    scope = "node"


class Restart(FaultSpec):
    kind = "restart"
    scope = "node"


class Churn(FaultSpec):
    """Nodes leave and fresh nodes join, each a Poisson process."""

    kind = "churn"
    scope = "node"

    leave_per_min: Annotated[float, Field(ge=0, le=600)]
    join_per_min: Annotated[float, Field(ge=0, le=600)] | None = None  # = leave
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


# Shaping kinds that tc netem expresses; these are merged into one netem
# qdisc per link.
NETEM_KINDS = ("delay", "loss", "burst_loss", "duplicate", "corrupt", "reorder")

REGISTRY: dict[str, type[FaultSpec]] = {
    cls.kind: cls
    for cls in (
        Delay,
        Loss,
        BurstLoss,
        Duplicate,
        Corrupt,
        Reorder,
        Bandwidth,
        IngressLoss,
        Partition,
        Crash,
        Pause,
        Restart,
        Churn,
    )
}


def spec_class(kind: str) -> type[FaultSpec]:
    """The spec class of a kind; KeyError names the valid kinds."""
    try:
        return REGISTRY[kind]
    except KeyError:
        valid = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown fault kind {kind!r}; valid kinds: {valid}") from None
