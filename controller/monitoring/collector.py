"""The testbed's series, served from the latest snapshot. Labels that name
the testbed, protocol and backend come from the discovery file, not from
here, so that one exporter looks like any other target."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from controller.monitoring.snapshot import Snapshot

ACCURACY_STATS = ("mean", "min", "max")


class TestbedCollector(Collector):
    __test__ = False  # a name pytest would otherwise try to collect

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None  # replaced whole, never changed

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        snap = self.snapshot
        yield GaugeMetricFamily("heal_testbed_info", "This testbed", value=1)
        if snap is None:
            return
        yield from _nodes_and_hubs(snap)
        yield from _faults(snap)
        yield from _recovery(snap)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _nodes_and_hubs(snap: Snapshot) -> Iterator[GaugeMetricFamily]:
    nodes = GaugeMetricFamily(
        "heal_testbed_nodes", "Nodes by state: alive, paused, down", labels=["state"]
    )
    for state, count in snap.nodes.items():
        nodes.add_metric([state], count)
    yield nodes
    yield _gauge(
        "heal_testbed_hub_agreement",
        "Share of live nodes that hold the majority hub list",
        snap.agreement,
    )
    yield _gauge("heal_testbed_hubs", "Hubs on the majority hub list", len(snap.hubs))
    yield _gauge(
        "heal_testbed_hub_lists", "Distinct hub lists among nodes", snap.hub_lists
    )
    majority = GaugeMetricFamily(
        "heal_testbed_majority_hub",
        "1 for each hub on the majority list",
        labels=["hub"],
    )
    for hub in snap.hubs:
        majority.add_metric([str(hub)], 1)
    yield majority
    accs = snap.accuracies
    if accs:
        values = (sum(accs) / len(accs), min(accs), max(accs))
        for stat, value in zip(ACCURACY_STATS, values, strict=True):
            yield _gauge(
                f"heal_testbed_{stat}_accuracy_ratio",
                f"The {stat} test accuracy over nodes that answered",
                value,
            )
    if snap.cycle is not None:
        yield _gauge("heal_testbed_cycle", "Median learning cycle", snap.cycle)


def _faults(snap: Snapshot) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    active = GaugeMetricFamily(
        "heal_testbed_faults_active", "Faults in force, by kind", labels=["kind"]
    )
    for kind, count in sorted(snap.faults_by_kind.items()):
        active.add_metric([kind], count)
    yield active
    targets = GaugeMetricFamily(
        "heal_testbed_fault_active",
        "1 for each node a fault in force acts on, with the way it was applied",
        labels=["fault", "kind", "node", "mechanism"],
    )
    for t in snap.fault_targets:
        targets.add_metric([t.fault, t.kind, str(t.node), t.mechanism], 1)
    yield targets
    events = CounterMetricFamily(
        "heal_testbed_fault_events",
        "Faults applied and cleared",
        labels=["kind", "action"],
    )
    for (kind, action), count in sorted(snap.event_counts.items()):
        events.add_metric([kind, action], count)
    yield events
    drift = GaugeMetricFamily(
        "heal_testbed_partition_drift_ratio",
        "Gap in mean accuracy between the sides of a partition in force",
        labels=["fault"],
    )
    for fault, gap in sorted(snap.drift.items()):
        drift.add_metric([fault], gap)
    yield drift


def _recovery(snap: Snapshot) -> Iterator[GaugeMetricFamily]:
    labels = ["fault", "kind", "action"]
    families = {
        "hubs_agree_s": GaugeMetricFamily(
            "heal_testbed_recovery_hubs_agree_seconds",
            "Seconds from a fault (or its clearing) until the hubs agree again",
            labels=labels,
        ),
        "dip": GaugeMetricFamily(
            "heal_testbed_recovery_dip_ratio",
            "Depth of the mean-accuracy dip below the level before the fault",
            labels=labels,
        ),
        "reconverge_s": GaugeMetricFamily(
            "heal_testbed_recovery_reconverge_seconds",
            "Seconds until mean accuracy is back within 0.01 of its level before",
            labels=labels,
        ),
    }
    for rec in snap.recovery:
        for attr, family in families.items():
            value = getattr(rec, attr)
            if value is not None:
                family.add_metric([rec.fault, rec.kind, rec.action], value)
    yield from families.values()
