"""What per-node series add to a report: partition drift, messages per
learning cycle, and the tables and plot only Prometheus makes possible.

The series are hand-made so that every figure is known by construction; a
FakePrometheus serves them for the end-to-end part.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from matplotlib import image

from controller.report import messages
from controller.report.build import NODE_FILES, write_report
from controller.report.drift import drift
from controller.report.model import FaultWindow
from controller.report.pernode import MessageSample, NodeSample, PerNode
from controller.report.sources import load
from tests.unit.test_report_events import SyntheticLog
from tests.unit.test_report_prometheus import (
    EPOCH,
    FakePrometheus,
    four_nodes,
    state_dir,
)

SIDES = ((0, 1), (2, 3))


def split(applied_s: float, cleared_s: float | None) -> FaultWindow:
    return FaultWindow(
        fault_id="split",
        kind="partition",
        step="split",
        applied_s=applied_s,
        cleared_s=cleared_s,
        targets=(),
        mechanisms={},
        groups=SIDES,
    )


def diverging(until: int = 60) -> PerNode:
    """Nodes 0 and 1 learn on, nodes 2 and 3 stay at 0.6 from 20 s to 40 s:
    the gap grows by 0.01 a second, 0.2 at 40 s, and closes at once after."""
    per_node = PerNode(5.0)
    for t in range(0, until + 1, 5):
        for n in range(4):
            acc = 0.6 + 0.01 * max(0, min(t, 40) - 20) if n < 2 else 0.6
            if t > 40:
                acc = 0.8
            per_node.samples.append(NodeSample(float(t), n, acc, 1 - acc, t))
    return per_node


def test_drift_is_the_gap_between_the_sides_means_while_the_partition_held():
    found = drift(split(20.0, 40.0), diverging(), end_s=60.0)
    assert found is not None
    assert found.max_gap == pytest.approx(0.2)
    assert found.max_gap_at_s == 20.0  # 40 s, since the fault began at 20 s
    assert found.gap_at_heal == pytest.approx(0.2)
    assert found.sides_at_heal == pytest.approx((0.8, 0.6))


def test_a_partition_in_force_at_the_end_has_no_heal_figures():
    found = drift(split(20.0, None), diverging(35), end_s=35.0)
    assert found is not None
    assert found.max_gap == pytest.approx(0.15)
    assert found.gap_at_heal is None and found.sides_at_heal == ()


def test_drift_ignores_a_side_with_no_evaluated_node_and_non_partitions():
    per_node = PerNode(5.0, [NodeSample(25.0, 0, 0.7, 0.3, 1)])
    per_node.samples.append(NodeSample(25.0, 2, None, None, 1))
    found = drift(split(20.0, 30.0), per_node, end_s=30.0)
    assert found is not None and found.max_gap is None
    assert found.sides_at_heal == (0.7, None)
    crash = FaultWindow("k", "crash", "k", 1.0, None, (0,), {})
    assert drift(crash, per_node, 30.0) is None


def counters(per_node: PerNode, readings: dict[int, list[float]]) -> None:
    """Push counters of nodes, one reading a step of 5 s."""
    for node, values in readings.items():
        per_node.messages += [
            MessageSample(5.0 * k, node, "push", v) for k, v in enumerate(values)
        ]


def test_messages_per_cycle_sum_counter_increases_and_survive_a_restart():
    per_node = PerNode(5.0)
    for k in range(4):  # the median cycle goes 0, 5, 10, 20
        cycle = [0, 5, 10, 20][k]
        per_node.samples += [NodeSample(5.0 * k, n, 0.5, 0.5, cycle) for n in (0, 1)]
    # Node 1 restarts after 5 s: its counter falls to 4, which counts as 4.
    counters(per_node, {0: [0, 10, 20, 40], 1: [0, 10, 4, 24]})
    rows = messages.per_cycle(per_node)
    assert [(r.t_s, r.sent, r.cycles) for r in rows] == [
        (5.0, 20, 5),
        (10.0, 14, 5),
        (15.0, 40, 10),
    ]
    assert [r.per_cycle for r in rows] == [4.0, 2.8, 4.0]
    assert messages.mean_per_cycle(rows) == {"push": round(74 / 20, 3)}


def test_a_step_with_no_cycle_has_no_rate_and_is_left_out_of_the_mean():
    per_node = PerNode(5.0)
    per_node.samples += [NodeSample(5.0 * k, 0, 0.5, 0.5, 3) for k in range(3)]
    counters(per_node, {0: [0, 5, 9]})
    rows = messages.per_cycle(per_node)
    assert [r.per_cycle for r in rows] == [None, None]
    assert messages.mean_per_cycle(rows) == {}


@pytest.fixture
def fake():
    with FakePrometheus() as server:
        yield server


def partitioned_log(path: Path) -> Path:
    """A scenario run from EPOCH to 60 s: nodes 0, 1 | 2, 3 split 20-40 s."""
    log = SyntheticLog(start=EPOCH)
    log.started(nodes=4)
    log.applied(20.0, "split", "partition", [], groups=[list(s) for s in SIDES])
    log.cleared(40.0, "split", "partition", "heal")
    log.finished(60.0)
    return log.write(path)


def test_a_report_from_prometheus_has_node_tables_drift_and_messages(tmp_path, fake):
    four_nodes(fake)  # accuracy 0.5 + (t + n) / 100: sides 0.505 and 0.525 apart
    for n in range(4):
        sent = {EPOCH + 5 * k: 3.0 * k for k in range(13)}  # 3 a step, 5 cycles
        fake.add("sent", {"node": str(n), "type": "push"}, sent)
    run = state_dir(tmp_path)
    log = partitioned_log(run.path / "events.jsonl")

    loaded = load(run, log, "prometheus", fake.url, 5.0)
    assert loaded.said[0].startswith(f"source: Prometheus at {fake.url}")
    written = write_report(loaded.run, tmp_path / "report")

    for name in NODE_FILES.values():
        assert (written.folder / name).stat().st_size > 0, name
    assert image.imread(written.folder / NODE_FILES["messages_plot"]).shape[0] > 100
    with open(written.folder / "nodes.csv", newline="") as handle:
        nodes = list(csv.DictReader(handle))
    assert len(nodes) == 13 * 4 == written.rows["nodes"]
    assert float(nodes[-1]["accuracy"]) == pytest.approx(0.5 + (60 + 3) / 100)

    summary = json.loads((written.folder / "summary.json").read_text())
    assert summary["per_node_series"] is True
    assert summary["messages_per_cycle"] == {"push": pytest.approx(4 * 3 / 5)}
    (partition,) = [f for f in summary["recovery"] if f["label"] == "split"]
    assert partition["drift_max"] == pytest.approx(0.02)
    assert partition["sides_at_heal"] == pytest.approx([0.905, 0.925])
    assert "Partition drift" in (written.folder / "summary.md").read_text()


def test_a_scenario_runs_own_finer_observations_win_over_prometheus(tmp_path, fake):
    four_nodes(fake)  # a point every 5 s
    run = state_dir(tmp_path)
    log = SyntheticLog(start=EPOCH)
    log.started(nodes=4)
    for k in range(121):  # every 0.5 s, as a scenario run observes
        log.observe(k / 2, 0.6 + k / 1000, cycle=k)
    log.applied(20.0, "split", "partition", [], groups=[list(s) for s in SIDES])
    log.cleared(40.0, "split", "partition", "heal")
    log.finished(60.0)

    loaded = load(run, log.write(run.path / "events.jsonl"), "prometheus", fake.url)
    assert loaded.said[0].startswith(f"source: Prometheus at {fake.url}")
    assert "observations and recovery from the event log" in loaded.said[1]
    assert len(loaded.run.observations) == 121
    assert loaded.run.per_node.samples  # drift and node tables still come
    written = write_report(loaded.run, tmp_path / "report")
    summary = json.loads((written.folder / "summary.json").read_text())
    (partition,) = [f for f in summary["recovery"] if f["label"] == "split"]
    assert partition["drift_max"] == pytest.approx(0.02)
