"""`controller compare` on real node processes: one run per protocol of a
scenario that kills the hubs, the files it writes, and FedAvg halting
without its server while HEAL goes on learning."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import fast_testbed, free_base_port

pytestmark = pytest.mark.integration

NODES = 6


def scenario() -> dict[str, object]:
    return {
        "name": "cmp-test",
        "seed": 4,
        "testbed": fast_testbed(NODES),
        "duration_s": 26,
        "observe_period_s": 0.5,
        "steps": [{"at": 12, "id": "kill-hubs", "do": "crash", "on": "hubs"}],
    }


def test_compare_puts_heal_and_fedavg_side_by_side(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario()))
    out = tmp_path / "cmp"
    env = {**os.environ, "HEAL_RUNS": str(tmp_path / "runs")}

    done = subprocess.run(
        [sys.executable, "-m", "controller", "compare", str(path),
         "--protocols", "heal,fedavg", "--output", str(out), "--monitoring", "off",
         "--base-port", str(free_base_port(NODES + 2))],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[2/2] fedavg" in done.stdout, done.stdout
    # The clients still name their dead server; the status lines say it is down.
    assert " down)" in done.stdout.split("[2/2] fedavg")[1], done.stdout

    with open(out / "runs.csv", newline="") as handle:
        rows = {r["protocol"]: r for r in csv.DictReader(handle)}
    assert set(rows) == {"heal", "fedavg"}
    assert {r["seed"] for r in rows.values()} == {"4"}
    for row in rows.values():
        assert float(row["final_accuracy"]) > 0.5, row  # chance is 0.1
        assert float(row["messages_per_cycle"]) > 0, row

    body = json.loads((out / "comparison.json").read_text())
    runs = {r["protocol"]: r for r in body["runs"]}
    kills = {p: next(f for f in r["faults"] if f["label"] == "kill-hubs")
             for p, r in runs.items()}  # fmt: skip
    assert kills["heal"]["failed"] is None and kills["fedavg"]["failed"] is None
    # FedAvg's server is its only hub: without it the clients keep their last
    # global model, so nothing is gained; HEAL's new hubs go on.
    assert kills["fedavg"]["gain_after"] < 0.02, kills
    assert kills["heal"]["gain_after"] > kills["fedavg"]["gain_after"], kills
    assert kills["heal"]["hubs_agree_s"] is not None, kills

    table = (out / "comparison.md").read_text()
    assert "| heal |" in table and "| fedavg |" in table, table
    assert "## Recovery per fault" in table, table
    png = (out / "accuracy.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    for name in ("heal", "fedavg"):
        variant = yaml.safe_load(
            (out / "scenarios" / f"cmp-test-{name}.yaml").read_text()
        )
        assert variant["testbed"]["protocol"] == name
