"""Monitoring on a real testbed: a real Prometheus (the local binary) finds
the nodes and the exporter through the discovery files, follows crashes and
restarts, and holds the series the dashboards draw."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller import testbed
from controller.faults.api import Faults
from controller.load.run import LoadParams, LoadRun, locust_missing
from controller.monitoring import exporter, prom_local, stack
from controller.monitoring.paths import (
    all_load_targets,
    exporter_targets,
    monitoring_dir,
    nodes_targets,
)
from controller.monitoring.prom_local import free_port
from controller.report.build import write_report
from controller.report.sources import load
from controller.report.window import window_for
from controller.rundir import RunDir
from tests.integration.conftest import free_base_port, start_testbed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="no prometheus"),
]

NODES = 5
DASHBOARDS = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"


class Monitored:
    def __init__(self, run: RunDir, url: str) -> None:
        self.run, self.url = run, url
        self.started = time.time()

    def api(self, path: str, **params: object) -> Any:
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        with urllib.request.urlopen(
            f"{self.url}/api/v1/{path}?{query}", timeout=10
        ) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]

    def targets(self) -> list[dict[str, str]]:
        return [
            t["labels"] | {"health": t["health"]}
            for t in self.api("targets")["activeTargets"]
        ]

    def series(self, expr: str, window_s: float | None = None) -> list[dict[str, Any]]:
        end = time.time()
        start = end - (window_s or end - self.started + 5)
        return self.api("query_range", query=expr, start=start, end=end, step=2)[
            "result"
        ]

    def wait(self, what: str, ok: Any, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while not ok():
            assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
            time.sleep(1.0)


@pytest.fixture(scope="module")
def mon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitored]:
    run, _ = start_testbed(tmp_path_factory.mktemp("mon"), NODES)
    root = monitoring_dir(run)
    try:
        exporter.start(run, period_s=2.0)
        running = stack.ensure(root, "local", free_port(19090, tries=200))
        assert running.prometheus and running.prometheus["how"] == "local"
        yield Monitored(run, running.prometheus["url"])
    finally:
        testbed.down(run)
        exporter.stop(run)
        stack.stop(root)


def node_targets(mon: Monitored) -> dict[str, str]:
    return {t["node"]: t["health"] for t in mon.targets() if t["job"] == "heal-nodes"}


def test_prometheus_finds_every_node_and_the_exporter_with_their_labels(
    mon: Monitored,
) -> None:
    mon.wait(
        "all nodes up",
        lambda: (
            sorted(node_targets(mon).items()) == [(str(i), "up") for i in range(NODES)]
        ),
    )
    jobs = {t["job"]: t for t in mon.targets()}
    assert jobs["heal-testbed"]["testbed"] == mon.run.name
    mon.wait("a scrape of the exporter", lambda: mon.series("heal_testbed_nodes", 20))
    (cycle, *_) = mon.series(f'heal_cycle{{testbed="{mon.run.name}",node="2"}}', 30)
    assert (
        cycle["metric"]["protocol"] == "heal"
        and cycle["metric"]["backend"] == "process"
    )


def test_discovery_follows_a_crash_and_the_restart(mon: Monitored) -> None:
    faults = Faults(mon.run)
    crash = faults.apply("crash", {}, [4])
    assert crash is not None
    # The fault itself rewrites the file: no wait for the exporter's loop.
    listed = [
        g["labels"]["node"] for g in json.loads(nodes_targets(mon.run).read_text())
    ]
    assert "4" not in listed and len(listed) == NODES - 1
    mon.wait("node 4 dropped by Prometheus", lambda: "4" not in node_targets(mon))
    down = f'heal_testbed_nodes{{testbed="{mon.run.name}",state="down"}} == 1'
    mon.wait("the exporter counting node 4 down", lambda: mon.series(down, 30))
    faults.clear([crash.id])
    mon.wait("node 4 back", lambda: node_targets(mon).get("4") == "up")


def test_faults_in_force_are_series_with_their_mechanism(mon: Monitored) -> None:
    faults = Faults(mon.run)
    cut = faults.apply("partition", {}, groups=[[0, 1], [2, 3, 4]])
    delay = faults.apply("delay", {"delay_ms": 20}, [0])
    assert cut is not None and delay is not None
    name = mon.run.name
    try:
        mon.wait(
            "the partition as a series",
            lambda: mon.series(
                f'heal_testbed_fault_active{{testbed="{name}",kind="partition",mechanism="innode"}}',
                20,
            ),
        )
        mon.wait(
            "drift between the sides",
            lambda: mon.series(
                f'heal_testbed_partition_drift_ratio{{testbed="{name}"}}', 20
            ),
        )
        time.sleep(6)  # keep the cut for another scrape or two of both series
        active = mon.series(f'sum(heal_testbed_faults_active{{testbed="{name}"}})', 10)
        assert max(float(v) for _, v in active[0]["values"]) == 2
    finally:
        faults.clear([cut.id, delay.id])
    mon.wait(
        "cleared faults counted",
        lambda: mon.series(
            f'heal_testbed_fault_events_total{{testbed="{name}",action="cleared"}}', 20
        ),
    )
    mon.wait(
        "recovery after the partition",
        lambda: mon.series(
            f'heal_testbed_recovery_hubs_agree_seconds{{testbed="{name}"}}', 20
        ),
        timeout=60,
    )


def run_load(mon: Monitored) -> None:
    """A short load, long enough for a few scrapes of the generator, which
    Prometheus finds while it runs and loses when it ends."""
    job = LoadRun(mon.run, LoadParams(users=4, spawn_rate=4, duration_s=14))
    job.start()
    try:
        mon.wait(
            "the load generator scraped",
            lambda: any(
                t["job"] == "heal-load" and t["health"] == "up" for t in mon.targets()
            ),
            timeout=14,
        )
    finally:
        stats = job.finish()
    assert stats.total.requests > 0
    assert not all_load_targets(mon.run)


def test_every_dashboard_query_returns_data(mon: Monitored) -> None:
    panels = pytest.importorskip("controller.monitoring.panels")
    empty = []
    queries = panels.panel_queries(DASHBOARDS, testbed=mon.run.name)
    assert len(queries) >= 20
    if locust_missing() is None:
        run_load(mon)
    else:  # the panels of `controller load` need Locust; the rest do not
        queries = [q for q in queries if "heal_load_" not in q.expr]
    for q in queries:
        if not mon.series(q.expr):
            empty.append(f"{q.dashboard} / {q.panel} / {q.ref_id}: {q.expr}")
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_a_report_from_prometheus_matches_the_raw_series(
    mon: Monitored, tmp_path: Path
) -> None:
    """After the partition above: the report takes every node's series from
    Prometheus, and its drift equals the gap PromQL itself works out."""
    log = mon.run.path / "events.jsonl"
    loaded = load(mon.run, log, "prometheus", mon.url, 2.0)
    written = write_report(loaded.run, tmp_path / "report")
    assert "messages.png" in written.files.values()
    summary = json.loads((written.folder / "summary.json").read_text())
    assert summary["per_node_series"] is True
    assert summary["messages_per_cycle"].get("push", 0) > 0
    nodes = (
        {s.node for s in loaded.run.per_node.samples} if loaded.run.per_node else set()
    )
    assert nodes == set(range(NODES))

    (cut,) = [f for f in loaded.run.faults if f.kind == "partition"]
    (figures,) = [f for f in summary["recovery"] if f["label"] == cut.fault_id]
    assert cut.cleared_s is not None and figures["drift_max"] is not None
    acc = 'heal_model_accuracy_ratio{{testbed="{}",node=~"{}"}} >= 0'
    sides = [
        f"avg({acc.format(mon.run.name, '|'.join(map(str, g)))})" for g in cut.groups
    ]
    # On the report's own grid: every 2 s from the window's start.
    origin = window_for(mon.run, log).start_epoch
    first, last = math.ceil(cut.applied_s / 2), math.floor(cut.cleared_s / 2)
    raw = mon.api(
        "query_range",
        query=f"abs({sides[0]} - {sides[1]})",
        start=f"{origin + 2 * first:.3f}",
        end=f"{origin + 2 * last:.3f}",
        step=2,
    )["result"]
    gaps = [float(v) for _, v in raw[0]["values"]]
    assert figures["drift_max"] == pytest.approx(max(gaps), abs=1e-3)


def test_a_second_exporter_is_refused_and_takes_nothing_away(mon: Monitored) -> None:
    before = exporter.running(mon.run)
    assert before is not None
    command = ["exporter", "--run-dir", str(mon.run.path)]
    second = subprocess.run(
        [sys.executable, "-m", "controller", *command],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert second.returncode == 4, second.stdout + second.stderr
    assert "has its exporter already" in second.stderr, second.stderr
    assert exporter.running(mon.run) == before
    assert nodes_targets(mon.run).exists() and exporter_targets(mon.run).exists()


def test_down_takes_the_testbed_out_of_discovery(mon: Monitored) -> None:
    testbed.down(mon.run)
    exporter.stop(mon.run)
    assert not nodes_targets(mon.run).exists()
    assert exporter.running(mon.run) is None
    mon.wait("no target left", lambda: not mon.targets())


def test_up_starts_monitoring_and_down_leaves_prometheus_with_the_series(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    env = {**os.environ, "HEAL_RUNS": str(runs), "COLUMNS": "300"}
    port = free_port(19490, tries=200)

    def controller(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "controller", *args],
            env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip

    up = controller(
        "up", "--nodes", "3", "--backend", "process", "--name", "cli",
        "--base-port", str(free_base_port(3)), "--set", "cycle_period_s=0.5",
        "--monitoring", "local", "--prometheus-port", str(port),
    )  # fmt: skip
    root = runs / "monitoring"
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"prometheus (local): http://127.0.0.1:{port}" in up.stdout
        assert "testbed metrics: http://127.0.0.1:" in up.stdout
        assert (root / "targets" / "cli.nodes.json").exists()
        status = controller("monitoring", "status")
        assert f"http://127.0.0.1:{port} running" in status.stdout, status.stdout

        down = controller("down")
        assert down.returncode == 0, down.stdout + down.stderr
        assert "keeps the testbed's series" in down.stdout
        assert not (root / "targets" / "cli.nodes.json").exists()
        assert prom_local.ready(f"http://127.0.0.1:{port}")  # outlives down
    finally:
        testbed.down(RunDir(runs / "cli"))
        stopped = controller("monitoring", "stop")
    assert "prometheus (pid" in stopped.stdout, stopped.stdout
    assert not prom_local.ready(f"http://127.0.0.1:{port}", timeout=1.0)
