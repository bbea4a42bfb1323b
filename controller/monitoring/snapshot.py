"""One look at a testbed: what its exporter serves until the next look.

Made from the backend's liveness, the nodes' status replies and the book
of faults in force; the recovery figures are worked out elsewhere
(recovery.py) and added to it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from controller.backends.base import Liveness
from controller.faults.book import FaultBook
from controller.testbed import NodeView, agreement, majority_hubs
from netem.specs import REGISTRY


@dataclass(frozen=True)
class FaultTarget:
    fault: str
    kind: str
    node: int
    mechanism: str


@dataclass(frozen=True)
class Recovery:
    fault: str
    kind: str
    action: str
    hubs_agree_s: float | None
    dip: float | None
    reconverge_s: float | None


@dataclass
class Snapshot:
    epoch: float
    nodes: dict[str, int]  # state -> count: alive, paused, down
    agreement: float
    hubs: tuple[int, ...]
    hub_lists: int
    answering: int  # nodes that answered their status request
    accuracies: list[float]
    cycle: int | None
    faults_by_kind: dict[str, int]
    fault_targets: list[FaultTarget]
    drift: dict[str, float]  # partition fault id -> accuracy gap between sides
    recovery: list[Recovery] = field(default_factory=list)
    event_counts: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def mean_accuracy(self) -> float | None:
        return statistics.fmean(self.accuracies) if self.accuracies else None

    def observation(self) -> dict[str, object]:
        """The fields of an `observe` record of the event log."""
        accs = self.accuracies
        return {
            "alive": self.nodes["alive"] + self.nodes["paused"],
            "healthy": self.answering,
            "mean_accuracy": _r(self.mean_accuracy),
            "min_accuracy": _r(min(accs)) if accs else None,
            "max_accuracy": _r(max(accs)) if accs else None,
            "agreement": round(self.agreement, 3),
            "hubs": list(self.hubs),
            "cycle": self.cycle,
        }


def take(
    epoch: float,
    views: list[NodeView],
    live: dict[int, Liveness],
    book: FaultBook,
) -> Snapshot:
    answering = [v for v in views if v.healthy]
    accuracies = [v.accuracy for v in answering if v.accuracy is not None]
    cycles = [v.cycle for v in answering if v.cycle is not None]
    paused = sum(1 for x in live.values() if x.alive and x.paused)
    running = sum(1 for x in live.values() if x.alive)
    by_kind = dict.fromkeys(REGISTRY, 0)
    by_kind.update(Counter(f.kind for f in book.faults))
    return Snapshot(
        epoch=epoch,
        nodes={
            "alive": running - paused,
            "paused": paused,
            "down": len(live) - running,
        },
        agreement=agreement(views),
        hubs=tuple(majority_hubs(views)),
        hub_lists=len({tuple(v.hubs) for v in answering if v.hubs}),
        answering=len(answering),
        accuracies=accuracies,
        cycle=int(statistics.median(cycles)) if cycles else None,
        faults_by_kind=by_kind,
        fault_targets=_targets(book),
        drift=_drift(book, views),
    )


def _targets(book: FaultBook) -> list[FaultTarget]:
    result = []
    for fault in book.faults:
        how = {n: way for way, nodes in fault.mechanisms.items() for n in nodes}
        for node in fault.targets:
            result.append(FaultTarget(fault.id, fault.kind, node, how.get(node, "-")))
    return result


def _drift(book: FaultBook, views: list[NodeView]) -> dict[str, float]:
    """Largest gap in mean accuracy between the sides of each partition."""
    accuracy = {v.id: v.accuracy for v in views if v.accuracy is not None}
    drift = {}
    for fault in book.faults:
        if not fault.groups:
            continue
        means = [
            statistics.fmean(accs)
            for group in fault.groups
            if (accs := [accuracy[n] for n in group if n in accuracy])
        ]
        if len(means) >= 2:
            drift[fault.id] = max(means) - min(means)
    return drift


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
