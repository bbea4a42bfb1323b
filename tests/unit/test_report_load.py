"""The report carries the figures of the load runs in RUN_DIR/load/."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.unit.test_load_stats import _line, write
from tests.unit.test_report_outputs import invoke
from tests.unit.test_report_recovery import crash_then_partition


def test_report_has_each_load_run_by_node(tmp_path: Path) -> None:
    crash_then_partition(tmp_path / "events.jsonl")
    load = tmp_path / "load"
    load.mkdir()
    write(
        load / "20260101-120000_stats.csv",
        [
            _line("grpc", "node-0 Predict", 90, 0, 9.0, ["3", "8", "11"]),
            _line("grpc", "node-1 Predict", 60, 45, 6.0, ["2000", "2000", "2000"]),
            _line("", "Aggregated", 150, 45, 15.0, ["4", "2000", "2000"]),
        ],
    )
    params = {"users": 5, "spawn_rate": 5.0, "duration_s": 10.0, "as_node": None}
    (load / "20260101-120000.json").write_text(
        json.dumps({"params": params, "started": 1.0})
    )
    (load / "20260101-130000_stats.csv").write_text("not,locust\n")

    result = invoke(str(tmp_path))
    assert result.exit_code == 0, result.output
    report = tmp_path / "report"
    summary = json.loads((report / "summary.json").read_text())
    (run,) = summary["load"]
    assert run["stamp"] == "20260101-120000" and run["params"] == params
    assert run["total"]["requests"] == 150 and run["total"]["failure_ratio"] == 0.3
    by_node = {r["node"]: r for r in run["rows"]}
    assert by_node[1]["failures"] == 45 and by_node[1]["p99_ms"] == 2000.0
    assert by_node[0]["p50_ms"] == 3.0 and by_node[0]["failures"] == 0
    assert any("load run 20260101-130000 left out" in n for n in summary["notes"])

    markdown = (report / "summary.md").read_text()
    assert "## Load (Locust)" in markdown
    assert "(5 users for 10 s): 150 calls, 45 failed (30.00%)" in markdown
    assert "| 1 | Predict | 60 | 45 | 2000 | 2000 | 2000 |" in markdown
    with (report / "load.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["node"], r["failures"]) for r in rows] == [("0", "0"), ("1", "45")]


def test_no_load_runs_no_load_section(tmp_path: Path) -> None:
    crash_then_partition(tmp_path / "events.jsonl")
    result = invoke(str(tmp_path))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["load"] == [] and "load" not in summary["files"]
    assert "## Load" not in (tmp_path / "report" / "summary.md").read_text()
