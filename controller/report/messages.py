"""Messages per learning cycle: what the whole testbed sends to get one
cycle done, by message type, step by step.

In each step, the messages are the sum over nodes of the increase of each
node's counter since its previous reading, and the cycles the increase of
the median cycle of the nodes. A counter that went down was restarted with
its node and counts from zero (as Prometheus' increase() takes it); a
node's first reading has nothing before it and counts nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

from controller.report.pernode import MessageSample, PerNode


@dataclass(frozen=True)
class PerCycle:
    t_s: float  # the end of the step
    type: str
    sent: float  # by all nodes during the step
    cycles: float | None  # increase of the median cycle during the step
    per_cycle: float | None  # None when no cycle went by


def sent_in_steps(messages: list[MessageSample]) -> dict[tuple[float, str], float]:
    """(t_s, type) -> messages of that type sent by all nodes in the step
    that ends at t_s."""
    readings: dict[tuple[int, str], list[MessageSample]] = defaultdict(list)
    for m in messages:
        readings[(m.node, m.type)].append(m)
    sent: dict[tuple[float, str], float] = defaultdict(float)
    for (_, kind), rs in readings.items():
        rs.sort(key=lambda m: m.t_s)
        for before, now in pairwise(rs):
            grew = now.sent_total - before.sent_total
            sent[(now.t_s, kind)] += grew if grew >= 0 else now.sent_total
    return dict(sent)


def per_cycle(per_node: PerNode) -> list[PerCycle]:
    medians = per_node.median_cycles()
    times = sorted(medians)
    cycles = {now: medians[now] - medians[before] for before, now in pairwise(times)}
    rows = []
    for (t, kind), sent in sorted(sent_in_steps(per_node.messages).items()):
        went = cycles.get(t)
        rate = sent / went if went is not None and went > 0 else None
        rows.append(PerCycle(t, kind, sent, went, rate))
    return rows


def mean_per_cycle(rows: list[PerCycle]) -> dict[str, float]:
    """Per type, all messages over all cycles of the steps where cycles
    went by: the run's average, which single steps scatter around."""
    sent: dict[str, list[float]] = defaultdict(list)
    went: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r.per_cycle is not None and r.cycles is not None:
            sent[r.type].append(r.sent)
            went[r.type].append(r.cycles)
    return {
        kind: round(sum(sent[kind]) / sum(went[kind]), 3)
        for kind in sorted(sent)
        if sum(went[kind]) > 0
    }


def types_seen(rows: list[PerCycle]) -> list[str]:
    """Types that were sent at all, busiest first."""
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        totals[r.type] += r.sent
    return [k for k, v in sorted(totals.items(), key=lambda kv: -kv[1]) if v > 0]
