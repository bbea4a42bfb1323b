"""`controller scenario run` on real node processes: the testbed comes up from
the file's header, steps fire on time, and the event log records applied and
undone faults, observations and the recovery after the hubs are killed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import yaml

from controller import testbed
from controller.faults.events import read_events
from controller.rundir import RunDir
from tests.integration.conftest import fast_testbed, free_base_port

pytestmark = pytest.mark.integration

NODES = 10


def scenario(name: str) -> dict[str, object]:
    return {
        "name": name,
        "seed": 3,
        "testbed": fast_testbed(NODES),
        "duration_s": 34,
        "observe_period_s": 0.5,
        "steps": [
            {"at": 12, "id": "kill-hubs", "do": "crash", "on": "hubs"},
            {"at": 20, "do": "partition", "groups": ["0-4", "rest"], "for": 4},
            {"at": 26, "id": "slow", "do": "delay", "delay_ms": 50, "on": "all"},
        ],
    }


def test_scenario_runs_its_timeline_and_logs_recovery(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario("sc-test")))
    runs = tmp_path / "runs"
    env = {**os.environ, "HEAL_RUNS": str(runs)}
    port = str(free_base_port(NODES + 2))

    done = subprocess.run(
        [sys.executable, "-m", "controller", "scenario", "run", str(path),
         "--base-port", port],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    left_up = testbed.down(RunDir(runs / "sc-test"))  # faults cleared at the end
    assert left_up == [], left_up
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kill-hubs: crash" in done.stdout, done.stdout
    assert "end: restarting the crashed nodes" in done.stdout, done.stdout

    events = read_events(runs / "sc-test" / "events.jsonl")
    kinds = [e["event"] for e in events]
    assert kinds[0] == "scenario_started" and kinds[-1] == "scenario_finished"
    assert kinds.count("observe") >= 40

    crash = next(
        e for e in events if e["event"] == "fault_applied" and e["kind"] == "crash"
    )
    before = [
        e for e in events if e["event"] == "observe" and e["epoch"] < crash["epoch"]
    ]
    assert 11.5 <= crash["elapsed_s"] <= 14, crash
    assert crash["targets"] == before[-1]["hubs"], (crash, before[-1])
    recovery = next(
        e for e in events if e["event"] == "recovery" and e["fault_id"] == "kill-hubs"
    )
    assert recovery["hubs_agree_overlay_cycles"] is not None, recovery
    assert recovery["hubs_agree_overlay_cycles"] <= 4, recovery
    assert not set(recovery["hubs_after"]) & set(crash["targets"]), recovery

    partition = next(
        e
        for e in events
        if e.get("kind") == "partition" and e["event"] == "fault_applied"
    )
    healed = next(
        e
        for e in events
        if e.get("kind") == "partition" and e["event"] == "fault_cleared"
    )
    first, rest = partition["groups"]
    assert set(first) <= {0, 1, 2, 3, 4} and set(rest) <= set(range(5, NODES)), (
        partition
    )
    assert not set(first + rest) & set(crash["targets"])  # only live nodes
    assert 3.5 <= healed["epoch"] - partition["epoch"] <= 6, (partition, healed)
    slow = [
        e
        for e in events
        if e.get("fault_id") == "slow" and e["event"].startswith("fault_")
    ]
    assert [e["event"] for e in slow] == ["fault_applied", "fault_cleared"], slow

    # The report recomputes the recovery from the observations alone; it
    # must land within an observation of what the runner timed live.
    made = subprocess.run(
        [sys.executable, "-m", "controller", "report", str(runs / "sc-test"),
         "--source", "log"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    folder = runs / "sc-test" / "report"
    for png in ("accuracy.png", "hubs.png", "alive.png"):
        assert (folder / png).stat().st_size > 10_000, png
    summary = json.loads((folder / "summary.json").read_text())
    mine = next(f for f in summary["recovery"] if f["label"] == "kill-hubs")
    # The same moment, from the epoch instead of the runner's clock.
    assert mine["at_s"] == pytest.approx(recovery["at_s"], abs=0.002), (mine, recovery)
    assert mine["hubs_after"] == recovery["hubs_after"], (mine, recovery)
    assert abs(mine["hubs_agree_s"] - recovery["hubs_agree_s"]) <= 0.5 + 0.05, (
        mine,
        recovery,
    )
    assert mine["pre_accuracy"] == pytest.approx(recovery["pre_accuracy"], abs=1e-4)

    left = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(runs) in " ".join(p.info["cmdline"] or [])
    ]
    assert not left, left
