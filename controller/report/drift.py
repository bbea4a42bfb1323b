"""How far the sides of a partition drift apart: the gap in mean accuracy
between its groups while it is in force, from the nodes' own series.

At each sampled moment from the fault's application to its heal, a side's
accuracy is the mean over its nodes that have evaluated; the gap is the
best side's less the worst side's (two sides or more). The figures are the
largest gap, and the gap and each side's mean at the last sample before
the heal (none when the partition held to the end of the run).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from controller.report.model import FaultWindow
from controller.report.pernode import NodeSample, PerNode


@dataclass(frozen=True)
class Drift:
    max_gap: float | None
    max_gap_at_s: float | None  # when it was widest, since the fault began
    gap_at_heal: float | None
    sides_at_heal: tuple[float | None, ...]  # one mean per group, in order


def side_means(
    samples: list[NodeSample], groups: tuple[tuple[int, ...], ...]
) -> tuple[float | None, ...]:
    accs = {s.node: s.accuracy for s in samples if s.accuracy is not None}
    means = []
    for group in groups:
        found = [accs[n] for n in group if n in accs]
        means.append(statistics.fmean(found) if found else None)
    return tuple(means)


def gap(means: tuple[float | None, ...]) -> float | None:
    known = [m for m in means if m is not None]
    return max(known) - min(known) if len(known) >= 2 else None


def drift(fault: FaultWindow, per_node: PerNode, end_s: float) -> Drift | None:
    """None for faults that are not partitions between groups."""
    if fault.kind != "partition" or not fault.groups:
        return None
    until = end_s if fault.cleared_s is None else fault.cleared_s
    widest: tuple[float, float] | None = None  # (gap, t_s)
    last: tuple[float | None, ...] = ()
    for t, samples in per_node.by_time().items():
        if not fault.applied_s <= t <= until:
            continue
        means = side_means(samples, fault.groups)
        last = means
        g = gap(means)
        if g is not None and (widest is None or g > widest[0]):
            widest = (g, t)

    healed = fault.cleared_s is not None and bool(last)
    return Drift(
        max_gap=None if widest is None else _r(widest[0]),
        max_gap_at_s=None if widest is None else _r(widest[1] - fault.applied_s),
        gap_at_heal=_r(gap(last)) if healed else None,
        sides_at_heal=tuple(_r(m) for m in last) if healed else (),
    )


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
