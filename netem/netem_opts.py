"""The options of one netem qdisc, from the netem-kind specs of one link.

netem has one delay, one loss model and one setting for each other option,
so a link holds at most one spec of each kind and not both loss models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from netem.errors import PlanError
from netem.specs import (
    NETEM_KINDS,
    BurstLoss,
    Corrupt,
    Delay,
    Duplicate,
    FaultSpec,
    Loss,
    Reorder,
)
from netem.units import num

S = TypeVar("S", bound=FaultSpec)


def check_netem_specs(specs: Sequence[FaultSpec]) -> None:
    """Raise PlanError unless the specs fit in one netem qdisc."""
    for spec in specs:
        if not isinstance(spec, FaultSpec):
            raise PlanError(f"netem options must be fault specs, not {spec!r}")
    kinds = [spec.kind for spec in specs]
    for kind in kinds:
        if kind not in NETEM_KINDS:
            raise PlanError(
                f"{kind!r} is not a netem option; netem takes {', '.join(NETEM_KINDS)}"
            )
        if kinds.count(kind) > 1:
            raise PlanError(f"two {kind!r} specs on one link; netem holds one")
    if "loss" in kinds and "burst_loss" in kinds:
        raise PlanError(
            "loss and burst_loss on one link; netem has one loss model: keep one"
        )

    delay = _one(specs, Delay)
    if delay is not None and delay.jitter_ms == 0:
        if delay.correlation_pct:
            raise PlanError("delay correlation_pct needs jitter_ms > 0")
        if delay.distribution != "uniform":
            raise PlanError(
                f"delay distribution {delay.distribution!r} needs jitter_ms > 0"
            )

    # Reorder's own delay_ms only stands in for a missing Delay; one given on
    # purpose that differs from the Delay's would be silently ignored.
    reorder = _one(specs, Reorder)
    if (
        reorder is not None
        and delay is not None
        and "delay_ms" in reorder.model_fields_set
        and reorder.delay_ms != delay.delay_ms
    ):
        raise PlanError(
            f"reorder delay_ms={reorder.delay_ms:g} and delay delay_ms="
            f"{delay.delay_ms:g} on one link; netem has one delay: leave "
            "reorder's delay_ms unset to reorder against the delay"
        )


def netem_args(specs: Sequence[FaultSpec]) -> list[str]:
    """What follows `netem` on a tc command line, e.g.
    ["delay", "100ms", "10ms", "25%", "distribution", "normal", "loss", "5%"].
    Reorder uses the gap-free form: each packet has reorder_pct chance of
    going at once, the others wait the delay."""
    check_netem_specs(specs)
    args: list[str] = []

    delay, reorder = _one(specs, Delay), _one(specs, Reorder)
    if delay is not None:
        args += ["delay", _ms(delay.delay_ms)]
        if delay.jitter_ms:
            args.append(_ms(delay.jitter_ms))
            if delay.correlation_pct:
                args.append(_pct(delay.correlation_pct))
            # netem draws jitter uniformly unless given a table.
            if delay.distribution != "uniform":
                args += ["distribution", delay.distribution]
    elif reorder is not None:
        args += ["delay", _ms(reorder.delay_ms)]

    loss = _one(specs, Loss)
    if loss is not None:
        args += ["loss", _pct(loss.loss_pct), *_corr(loss.correlation_pct)]
    burst = _one(specs, BurstLoss)
    if burst is not None:
        args += ["loss", "gemodel", _pct(burst.p_pct), _pct(burst.r_pct)]
        args += [_pct(burst.bad_loss_pct), _pct(burst.good_loss_pct)]
    duplicate = _one(specs, Duplicate)
    if duplicate is not None:
        args += ["duplicate", _pct(duplicate.duplicate_pct)]
        args += _corr(duplicate.correlation_pct)
    corrupt = _one(specs, Corrupt)
    if corrupt is not None:
        args += ["corrupt", _pct(corrupt.corrupt_pct), *_corr(corrupt.correlation_pct)]
    if reorder is not None:
        args += ["reorder", _pct(reorder.reorder_pct)]
        args += _corr(reorder.correlation_pct)
    return args


def _one(specs: Sequence[FaultSpec], cls: type[S]) -> S | None:
    return next((spec for spec in specs if isinstance(spec, cls)), None)


def _ms(value: float) -> str:
    return f"{num(value)}ms"


def _pct(value: float) -> str:
    return f"{num(value)}%"


def _corr(correlation_pct: float) -> list[str]:
    return [_pct(correlation_pct)] if correlation_pct else []
