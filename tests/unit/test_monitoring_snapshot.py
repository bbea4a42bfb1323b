"""What the testbed exporter serves, from a hand-made testbed view."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from controller.backends.base import Liveness
from controller.faults.book import ActiveFault, FaultBook
from controller.monitoring.collector import TestbedCollector
from controller.monitoring.snapshot import Recovery, take
from controller.testbed import NodeView
from netem.specs import REGISTRY


def view(node: int, accuracy: float | None, hubs: list[int], alive: bool = True):
    return NodeView(
        id=node,
        alive=alive,
        healthy=alive and accuracy is not None,
        role=None,
        cycle=10 + node if alive else None,
        overlay_cycle=None,
        accuracy=accuracy,
        loss=None,
        hubs=hubs,
        peers=None,
        exit_code=None,
        memory_mib=None,
        error=None,
        hubs_agree=hubs == [0, 1],
    )


def fault(fault_id: str, kind: str, targets: list[int], **extra: object):
    fields = {"id": fault_id, "kind": kind, "targets": targets, "applied_at": 1.0}
    return ActiveFault.model_validate({**fields, **extra})


def sample() -> tuple[list[NodeView], dict[int, Liveness], FaultBook]:
    views = [
        view(0, 0.90, [0, 1]),
        view(1, 0.80, [0, 1]),
        view(2, 0.70, [0, 1]),
        view(3, 0.60, [2]),
        view(4, None, [], alive=False),
        view(5, None, []),  # paused: alive, no answer
    ]
    live = {i: Liveness(alive=i != 4, paused=i == 5) for i in range(6)}
    book = FaultBook(
        faults=[
            fault(
                "partition-1",
                "partition",
                [0, 1, 2, 3],
                groups=[[0, 1], [2, 3]],
                mechanisms={"innode": [0, 1], "kernel:iptables": [2, 3]},
            ),
            fault("crash-2", "crash", [4], mechanisms={"process:crash": [4]}),
        ]
    )
    return views, live, book


def test_snapshot_counts_nodes_hubs_faults_and_partition_drift() -> None:
    views, live, book = sample()
    snap = take(100.0, views, live, book)
    assert snap.nodes == {"alive": 4, "paused": 1, "down": 1}
    assert snap.hubs == (0, 1)
    assert snap.hub_lists == 2
    assert snap.agreement == 3 / 5  # nodes 0-2 of the five running
    assert snap.cycle == 11  # median of 10..13
    assert set(snap.faults_by_kind) == set(REGISTRY)
    assert snap.faults_by_kind["partition"] == 1 and snap.faults_by_kind["delay"] == 0
    # sides: mean(0.9, 0.8) = 0.85 and mean(0.7, 0.6) = 0.65
    assert abs(snap.drift["partition-1"] - 0.2) < 1e-9
    ways = {(t.fault, t.node): t.mechanism for t in snap.fault_targets}
    assert ways[("partition-1", 0)] == "innode"
    assert ways[("partition-1", 3)] == "kernel:iptables"
    assert ways[("crash-2", 4)] == "process:crash"
    record = snap.observation()
    assert record["alive"] == 5 and record["healthy"] == 4
    assert record["min_accuracy"] == 0.6 and record["max_accuracy"] == 0.9


def samples(snap_text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    result = {}
    for family in text_string_to_metric_families(snap_text.decode()):
        for s in family.samples:
            result[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return result


def test_collector_serves_the_snapshot() -> None:
    views, live, book = sample()
    snap = take(100.0, views, live, book)
    snap.event_counts = {("crash", "applied"): 1}
    snap.recovery = [Recovery("crash-2", "crash", "applied", 3.5, 0.02, None)]
    collector = TestbedCollector()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    assert samples(generate_latest(registry)) == {("heal_testbed_info", ()): 1.0}

    collector.snapshot = snap
    got = samples(generate_latest(registry))
    assert got[("heal_testbed_nodes", (("state", "down"),))] == 1
    assert got[("heal_testbed_hubs", ())] == 2
    assert ("heal_testbed_majority_hub", (("hub", "1"),)) in got
    assert ("heal_testbed_majority_hub", (("hub", "2"),)) not in got
    assert abs(got[("heal_testbed_mean_accuracy_ratio", ())] - 0.75) < 1e-9
    assert got[("heal_testbed_faults_active", (("kind", "crash"),))] == 1
    key = (
        ("fault", "partition-1"),
        ("kind", "partition"),
        ("mechanism", "kernel:iptables"),
        ("node", "2"),
    )
    assert got[("heal_testbed_fault_active", key)] == 1
    events = (("action", "applied"), ("kind", "crash"))
    assert got[("heal_testbed_fault_events_total", events)] == 1
    rec = (("action", "applied"), ("fault", "crash-2"), ("kind", "crash"))
    assert got[("heal_testbed_recovery_hubs_agree_seconds", rec)] == 3.5
    assert got[("heal_testbed_recovery_dip_ratio", rec)] == 0.02
    assert ("heal_testbed_recovery_reconverge_seconds", rec) not in got  # unknown
    drift = got[("heal_testbed_partition_drift_ratio", (("fault", "partition-1"),))]
    assert abs(drift - 0.2) < 1e-9
