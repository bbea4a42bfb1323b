"""Discovery files, the Prometheus configuration, recovery from records,
and what happens when no Prometheus can be had."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from controller.backends.base import Liveness
from controller.monitoring import discovery, prom_local, recovery, stack
from controller.monitoring.paths import exporter_targets, nodes_targets
from controller.monitoring.promconfig import write_config
from controller.rundir import NodeRecord, RunDir, TestbedState


def state(nodes: int = 3) -> TestbedState:
    return TestbedState(
        name="tb1",
        backend="process",
        created=1000.0,
        settings={"node": {"protocol": "heal"}},
        nodes=[
            NodeRecord(
                id=i,
                address=f"127.0.0.{i + 1}:500{i}",
                metrics=f"127.0.0.{i + 1}:600{i}",
            )
            for i in range(nodes)
        ],
    )


def test_node_targets_follow_the_running_nodes(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "tb1")
    live = {i: Liveness(alive=True) for i in range(3)}
    assert discovery.write_nodes(run, state(), live)
    groups = json.loads(nodes_targets(run).read_text())
    assert [g["targets"] for g in groups] == [
        ["127.0.0.1:6000"],
        ["127.0.0.2:6001"],
        ["127.0.0.3:6002"],
    ]
    assert groups[1]["labels"] == {
        "testbed": "tb1",
        "protocol": "heal",
        "backend": "process",
        "node": "1",
    }
    assert not discovery.write_nodes(run, state(), live)  # unchanged: not rewritten

    live[1] = Liveness(alive=False, exit_code=-9)
    live[2] = Liveness(alive=True, paused=True)  # paused stays: its scrape fails
    assert discovery.write_nodes(run, state(), live)
    nodes = [g["labels"]["node"] for g in json.loads(nodes_targets(run).read_text())]
    assert nodes == ["0", "2"]

    discovery.write_exporter(run, state(), "127.0.0.1:9999")
    assert json.loads(exporter_targets(run).read_text())[0]["targets"] == [
        "127.0.0.1:9999"
    ]
    discovery.remove(run)
    assert not nodes_targets(run).exists() and not exporter_targets(run).exists()


def test_refresh_leaves_unmonitored_testbeds_alone(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "tb1")
    discovery.refresh(run)  # no state, no targets file: nothing, no error
    assert not nodes_targets(run).exists()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool installed")
def test_prometheus_accepts_the_configuration_and_discovery_files(
    tmp_path: Path,
) -> None:
    run = RunDir(tmp_path / "tb1")
    discovery.write_nodes(run, state(), {i: Liveness(alive=True) for i in range(3)})
    discovery.write_exporter(run, state(), "127.0.0.1:9999")
    config = write_config(tmp_path / "monitoring")
    result = subprocess.run(
        ["promtool", "check", "config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # A broken discovery file is what promtool must catch, so the check bites.
    nodes_targets(run).write_text('[{"targets": "not a list"}]')
    bad = subprocess.run(
        ["promtool", "check", "config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0


def observe(epoch: float, accuracy: float, hubs: list[int], agreement: float) -> dict:
    return {
        "epoch": epoch,
        "event": "observe",
        "alive": 4,
        "mean_accuracy": accuracy,
        "agreement": agreement,
        "hubs": hubs,
        "cycle": int(epoch),
    }


def test_recovery_from_the_exporters_observations() -> None:
    records = [
        {
            "epoch": 1010.0,
            "event": "fault_applied",
            "kind": "crash",
            "fault_id": "crash-1",
            "targets": [0],
        },
        {
            "epoch": 1011.0,
            "event": "observe",
            "mean_accuracy": 0.1,
        },  # a runner's: ignored
    ]
    observations = [observe(1000.0 + t, 0.9, [0, 1], 1.0) for t in (0, 3, 6, 9)]
    observations += [
        observe(1012.0, 0.85, [0, 1], 0.5),  # hub 0 crashed: not agreed
        observe(1015.0, 0.87, [1, 2], 1.0),  # agreed 5 s after the crash
        observe(1018.0, 0.895, [1, 2], 1.0),  # back within 0.01 after 8 s
    ]
    (fig,) = recovery.figures(records, observations, 1000.0, Path("x"))
    assert (fig.fault, fig.kind, fig.action) == ("crash-1", "crash", "applied")
    assert fig.hubs_agree_s == pytest.approx(5.0)
    assert fig.dip == pytest.approx(0.05)
    assert fig.reconverge_s == pytest.approx(8.0)
    assert recovery.event_counts(records) == {("crash", "applied"): 1}
    assert recovery.figures(records, [], 1000.0, Path("x")) == []


def test_without_any_prometheus_the_message_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prom_local, "binary", lambda: None)
    monkeypatch.setattr(stack, "_engine", lambda: None)
    with pytest.raises(stack.MonitoringUnavailable, match="apt-get install prometheus"):
        stack.ensure(tmp_path / "monitoring", "auto")
    with pytest.raises(stack.MonitoringUnavailable, match="--monitoring docker"):
        stack.ensure(tmp_path / "monitoring", "docker")
    assert not (tmp_path / "monitoring" / "stack.json").exists()


@pytest.mark.parametrize(
    "saved",
    ["[1, 2]", '{"prometheus": {"how": "local", "pid": 1}}', '{"prometheus": 3}'],
)
def test_a_damaged_stack_record_counts_as_nothing_started(
    tmp_path: Path, saved: str
) -> None:
    root = tmp_path / "monitoring"
    root.mkdir()
    (root / "stack.json").write_text(saved)
    running = stack.load(root)
    assert running.prometheus is None and running.prometheus_url is None


def test_a_saved_stack_reads_back(tmp_path: Path) -> None:
    root = tmp_path / "monitoring"
    root.mkdir()
    part = {"how": "local", "url": "http://127.0.0.1:9090", "pid": 1}
    stack.save(root, stack.Stack(part, None))
    assert stack.load(root).prometheus_url == "http://127.0.0.1:9090"
