"""Per-node series, which only a metrics store holds: each node's accuracy,
loss and cycle, and its message counters, sampled on one grid of times
(seconds since the run started, as everywhere in the report)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NodeSample:
    t_s: float
    node: int
    accuracy: float | None  # None before the node's first evaluation
    loss: float | None
    cycle: int | None


@dataclass(frozen=True)
class MessageSample:
    """A reading of heal_transport_messages_sent_total: a counter."""

    t_s: float
    node: int
    type: str
    sent_total: float


@dataclass
class PerNode:
    step_s: float
    samples: list[NodeSample] = field(default_factory=list)
    messages: list[MessageSample] = field(default_factory=list)
    # t_s -> node -> the hubs it sees; only for observations made from the
    # nodes' own series, when the testbed's series are missing.
    hub_views: dict[float, dict[int, tuple[int, ...]]] = field(default_factory=dict)

    def by_time(self) -> dict[float, list[NodeSample]]:
        grouped: dict[float, list[NodeSample]] = defaultdict(list)
        for s in self.samples:
            grouped[s.t_s].append(s)
        return dict(sorted(grouped.items()))

    def median_cycles(self) -> dict[float, float]:
        """The median learning cycle of the nodes sampled at each time."""
        found = {}
        for t, samples in self.by_time().items():
            cycles = [s.cycle for s in samples if s.cycle is not None]
            if cycles:
                found[t] = float(statistics.median(cycles))
        return found
