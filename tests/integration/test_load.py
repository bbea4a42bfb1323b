"""Locust against a real testbed for a few seconds: calls are counted per
node, a node killed during the run fails its calls and only its calls, and
a partition cuts the generator off from the side it does not stand on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from controller import testbed
from controller.faults.api import Faults
from controller.faults.events import read_events
from controller.load.run import LoadParams, LoadRun, locust_missing
from controller.load.stats import LoadStats, progress, read_stats
from controller.monitoring.paths import all_load_targets, nodes_targets, write_json
from controller.rundir import RunDir
from controller.scenario.loader import load_scenario
from controller.scenario.runner import ScenarioRunner
from tests.integration.conftest import poll, start_testbed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(locust_missing() is not None, reason="no locust"),
]

NODES = 4


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunDir]:
    run, _ = start_testbed(tmp_path_factory.mktemp("load"), NODES)
    try:
        yield run
    finally:
        assert not testbed.down(run)


def by_node(stats: LoadStats) -> dict[int, tuple[int, int]]:
    """(requests, failures) of each node, both RPCs together."""
    counts: dict[int, tuple[int, int]] = {}
    for row in stats.rows:
        assert row.node is not None
        done, failed = counts.get(row.node, (0, 0))
        counts[row.node] = (done + row.requests, failed + row.failures)
    return counts


def wait_for_calls(job: LoadRun, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while (job.progress() or (0, 0, 0.0))[0] == 0:
        assert job.running and time.monotonic() < deadline, "no calls recorded"
        time.sleep(0.2)


def test_calls_are_counted_and_a_killed_node_fails_alone(run: RunDir) -> None:
    job = LoadRun(run, LoadParams(users=8, spawn_rate=8, duration_s=9))
    job.start()
    wait_for_calls(job)  # Locust writes its history every few seconds
    faults = Faults(run)
    crash = faults.apply("crash", {}, [3])
    assert crash is not None
    try:
        stats = job.finish()
    finally:
        faults.clear([crash.id])
    counts = by_node(stats)
    assert set(counts) == set(range(NODES))
    assert stats.total.requests == sum(n for n, _ in counts.values()) > 0
    done, failed = counts[3]
    assert 0 < failed < done, "node 3 answered before the kill and failed after"
    for node in (0, 1, 2):
        assert counts[node][1] <= 0.02 * counts[node][0], (node, counts[node])
    assert stats.total.failures == sum(f for _, f in counts.values())

    assert job.prefix is not None
    for suffix in ("_stats.csv", "_stats_history.csv", ".log", ".json"):
        assert job.prefix.with_name(job.prefix.name + suffix).exists(), suffix
    assert not all_load_targets(run)  # not monitored: no target written


def test_a_partition_cuts_the_generator_off_from_the_far_side(run: RunDir) -> None:
    poll(run, lambda views: all(v.healthy for v in views), 30)
    faults = Faults(run)
    cut = faults.apply("partition", {}, groups=[[0, 1], [2, 3]])
    assert cut is not None
    try:
        # More users than gevent's default pool of 10 threads: calls held
        # by the partition must not hold up calls to the near side.
        params = LoadParams(users=40, spawn_rate=40, duration_s=6, as_node=0)
        job = LoadRun(run, params)
        job.start()
        stats = job.finish()
    finally:
        faults.clear([cut.id])
    predict = {row.node: row for row in stats.rows if row.rpc == "Predict"}
    assert set(predict) == set(range(NODES))
    for near in (0, 1):
        row = predict[near]
        assert row.failures == 0 and row.requests > 0
        assert row.p50_ms is not None and row.p50_ms < 500, row
    for far in (2, 3):
        row = predict[far]
        assert row.failures == row.requests > 0
        assert row.p50_ms is not None and row.p50_ms >= 1500  # held to the deadline
    # Status is control traffic, which link faults leave alone.
    status = [row for row in stats.rows if row.rpc == "Status"]
    assert status and all(row.failures == 0 for row in status)


def test_a_scenario_load_step_runs_beside_later_steps(
    run: RunDir, tmp_path: Path
) -> None:
    poll(run, lambda views: all(v.healthy for v in views), 30)
    path = tmp_path / "load.yaml"
    path.write_text(
        "name: load-step\ntestbed: {nodes: 4}\nduration_s: 9\n"
        "observe_period_s: 0.5\nsteps:\n"
        "  - {at: 0, id: serve, do: load, users: 4, spawn_rate: 4, duration_s: 6}\n"
        "  - {at: 2, id: cut, do: crash, on: '1', for: 2}\n"
    )
    runner = ScenarioRunner(
        load_scenario(path), run, testbed.backend_named("process"), lambda _: None
    )
    outcome = runner.execute()
    assert outcome.failed_steps == []
    assert [r["fault_id"] for r in outcome.recoveries] == ["cut"]

    events = read_events(run.path / "events.jsonl")
    events = events[
        max(i for i, e in enumerate(events) if e["event"] == "scenario_started") :
    ]
    order = [e["event"] for e in events if e["event"].startswith(("load", "fault"))]
    # The crash fires while the load goes on: the step did not block.
    assert order.index("load_started") < order.index("fault_applied")
    assert order.index("fault_applied") < order.index("load_finished")
    (finished,) = [e for e in events if e["event"] == "load_finished"]
    assert finished["step"] == "serve" and finished["requests"] > 0
    assert 0 < finished["failures"] < finished["requests"]  # node 1 while down


def test_the_load_command_shows_progress_and_a_summary(run: RunDir) -> None:
    poll(run, lambda views: all(v.healthy for v in views), 30)
    before = set((run.path / "load").glob("*_stats.csv"))
    done = subprocess.run(
        [sys.executable, "-m", "controller", "load", "--users", "4",
         "--spawn-rate", "4", "--duration", "7", str(run.path)],
        capture_output=True, text=True, timeout=90,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"load on {run.name}: 4 users (+4/s) for 7 s")
    # Progress every 5 s: "starting" until Locust's history has a total.
    assert any(line.startswith("[") for line in lines[1:-1]), lines
    (written,) = set((run.path / "load").glob("*_stats.csv")) - before
    total = read_stats(written).total
    assert lines[-1].startswith(f"{total.requests} requests, 0 failures (0.00%)")
    assert total.requests > 0


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)]
)
def test_a_signal_stops_locust_and_keeps_its_figures(
    run: RunDir, signum: int, code: int
) -> None:
    poll(run, lambda views: all(v.healthy for v in views), 30)
    folder = run.path / "load"
    before = set(folder.glob("*.json"))
    histories = set(folder.glob("*_stats_history.csv"))
    marker = nodes_targets(run)
    write_json(marker, [])  # as if monitored: the generator lists itself
    command = [sys.executable, "-m", "controller", "load", "--users", "4",
               "--spawn-rate", "4", "--duration", "120", str(run.path)]  # fmt: skip
    # A signal to the command alone, as `kill PID` sends it: Locust hears
    # nothing unless the command passes it on.
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not all_load_targets(run) or not (
            set(folder.glob("*_stats_history.csv")) - histories
        ):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        (target,) = all_load_targets(run)
        locust_pid = int(target.name.removeprefix(run.name + ".").split(".")[0])
        (history,) = set(folder.glob("*_stats_history.csv")) - histories
        while (progress(history) or (0, 0, 0.0))[0] == 0:
            assert time.monotonic() < deadline, "no calls recorded"
            time.sleep(0.2)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=45)
    finally:
        if proc.poll() is None:
            proc.kill()
        marker.unlink(missing_ok=True)
    assert proc.returncode == code, stderr
    assert "interrupted: the figures up to the stop are in" in stderr
    assert not psutil.pid_exists(locust_pid)
    assert not all_load_targets(run)
    (meta,) = set(folder.glob("*.json")) - before
    assert json.loads(meta.read_text())["summary"]["total"]["requests"] > 0


def test_the_load_stops_with_exit_3_when_the_testbed_goes_down(
    tmp_path: Path,
) -> None:
    own, _ = start_testbed(tmp_path, 2)
    command = [sys.executable, "-m", "controller", "load", "--users", "2",
               "--duration", "120", str(own.path)]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        histories: list[Path] = []
        while not histories or (progress(histories[0]) or (0, 0, 0.0))[0] == 0:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
            histories = list((own.path / "load").glob("*_stats_history.csv"))
        assert not testbed.down(own)
        out, err = proc.communicate(timeout=45)
    finally:
        if proc.poll() is None:
            proc.kill()
        testbed.down(own)
    assert proc.returncode == 3, out + err
    assert f"testbed {own.name} went down during the load" in err, err
    assert "requests" in out  # the summary of what it measured
