"""Reading an event log for a report: picking the run, its clock, its faults.

SyntheticLog writes logs in the event log's format; the other report tests
build theirs with it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller.errors import UsageError
from controller.report.events import Block
from controller.report.model import NodeChange
from controller.report.obsfile import read_observations
from controller.report.timeline import load_run
from controller.report.window import Window

EPOCH = 1_800_000_000.0


class SyntheticLog:
    """Records as EventLog writes them; t is seconds since the run started."""

    def __init__(self, start: float = EPOCH) -> None:
        self.start = start
        self.records: list[dict[str, Any]] = []

    def add(self, event: str, t: float, **fields: Any) -> None:
        epoch = self.start + t
        self.records.append(
            {
                "time": datetime.fromtimestamp(epoch, UTC).isoformat(),
                "epoch": round(epoch, 3),
                "elapsed_s": round(t, 3),
                "event": event,
                **fields,
            }
        )

    def started(self, t: float = 0.0, **fields: Any) -> None:
        header = {"scenario": "synthetic", "nodes": 10, "backend": "process"}
        header |= {"seed": 1, "steps": 2, "end_s": 30.0}
        header |= {"overlay_period_s": 2.0, "cycle_period_s": 1.0}
        self.add("scenario_started", t, **(header | fields))

    def finished(self, t: float) -> None:
        self.add("scenario_finished", t, scenario="synthetic", failed_steps=[])

    def observe(
        self,
        t: float,
        acc: float | None,
        hubs: tuple[int, ...] = (0, 1),
        agreement: float = 1.0,
        alive: int = 10,
        cycle: int | None = None,
        spread: float = 0.02,
    ) -> None:
        low = None if acc is None else round(acc - spread / 2, 4)
        high = None if acc is None else round(acc + spread / 2, 4)
        self.add(
            "observe",
            t,
            alive=alive,
            healthy=alive,
            mean_accuracy=acc,
            min_accuracy=low,
            max_accuracy=high,
            agreement=agreement,
            hubs=list(hubs),
            cycle=cycle,
        )

    def applied(
        self, t: float, fault_id: str, kind: str, targets: list[int], **fields: Any
    ) -> None:
        fields = {"step": fault_id, "took_s": 0.1} | fields
        way = {f"process:{kind}": targets}
        self.add(
            "fault_applied",
            t,
            fault_id=fault_id,
            kind=kind,
            targets=targets,
            mechanisms=way,
            **fields,
        )

    def cleared(self, t: float, fault_id: str, kind: str, step: str | None) -> None:
        self.add(
            "fault_cleared",
            t,
            fault_id=fault_id,
            kind=kind,
            step=step,
            targets=[],
            mechanisms={},
            took_s=0.1,
        )

    def write(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(r) + "\n" for r in self.records))
        return path


def two_runs(path: Path) -> Path:
    log = SyntheticLog()
    log.started()
    log.observe(1.0, 0.5)
    log.applied(2.0, "old", "delay", [1])
    log.finished(3.0)
    log.applied(5.0, "by-hand", "loss", [2])  # between runs: not reported
    later = SyntheticLog(EPOCH + 100.0)
    later.started(name="second")
    later.observe(1.0, 0.7)
    later.applied(4.0, "crash-1", "crash", [0])
    later.observe(5.0, 0.7)
    later.cleared(6.0, "crash-1", "crash", "back")
    later.observe(7.0, 0.7)
    later.finished(8.0)
    log.records += later.records
    return log.write(path)


def test_the_last_scenario_run_is_reported_on_its_own_clock(tmp_path):
    run = load_run(two_runs(tmp_path / "events.jsonl"))
    assert run.runs_in_log == 2
    assert [o.t_s for o in run.observations] == [1.0, 5.0, 7.0]
    assert [(f.fault_id, f.applied_s, f.cleared_s) for f in run.faults] == [
        ("crash-1", 4.0, 6.0)
    ]
    assert run.faults[0].cleared_by == "back"
    assert [(d.label, d.action, d.at_s) for d in run.disturbances] == [
        ("crash-1", "applied", 4.0),
        ("back", "cleared", 6.0),
    ]
    assert run.down_at(3.9) == set()
    assert run.down_at(5.0) == {0}
    assert run.down_at(6.0) == set()


def test_time_comes_from_the_epoch_not_from_a_writers_own_elapsed(tmp_path):
    log = SyntheticLog()
    log.started()
    log.observe(1.0, 0.5)
    log.applied(3.0, "by-hand", "delay", [1])
    log.records[-1]["elapsed_s"] = 0.002  # another process's EventLog
    run = load_run(log.write(tmp_path / "events.jsonl"))
    assert run.faults[0].applied_s == 3.0


def test_an_unfinished_run_goes_to_the_end_of_the_log(tmp_path):
    log = SyntheticLog()
    log.started()
    for t in range(5):
        log.observe(float(t), 0.5)
    run = load_run(log.write(tmp_path / "events.jsonl"))
    assert run.finished is None
    assert len(run.observations) == 5
    assert run.end_s == 4.0


def test_without_a_scenario_the_whole_log_counts_from_its_first_record(tmp_path):
    log = SyntheticLog()
    log.applied(10.0, "d1", "delay", [1, 2])
    log.cleared(15.0, "d1", "delay", None)
    log.applied(20.0, "p1", "partition", [], groups=[[0, 1], [2, 3]])
    run = load_run(log.write(tmp_path / "events.jsonl"))
    assert run.scenario is None and run.runs_in_log == 0
    assert [(f.fault_id, f.applied_s, f.cleared_s) for f in run.faults] == [
        ("d1", 0.0, 5.0),
        ("p1", 10.0, None),
    ]
    assert run.faults[1].groups == ((0, 1), (2, 3))


def test_churn_spans_its_events_and_takes_nodes_down_and_up(tmp_path):
    log = SyntheticLog()
    log.started()
    log.observe(1.0, 0.5)
    for t, action, node in ((2.0, "leave", 3), (6.0, "join", 10)):
        way = {f"process:{action}": [node]}
        log.add("churn", t, action=action, node=node, step="churn", mechanisms=way)
    log.observe(7.0, 0.5)
    run = load_run(log.write(tmp_path / "events.jsonl"))
    (churn,) = run.faults
    assert (churn.kind, churn.applied_s, churn.cleared_s) == ("churn", 2.0, 6.0)
    assert churn.targets == (3, 10)
    assert churn.mechanisms == {"process:leave": [3], "process:join": [10]}
    assert run.changes == [
        NodeChange(2.0, 3, False, "leave"),
        NodeChange(6.0, 10, True, "join"),
    ]
    assert run.down_at(6.5) == {3}


def test_faults_cleared_as_the_run_ends_are_no_disturbance(tmp_path):
    log = SyntheticLog()
    log.started()
    log.observe(1.0, 0.5)
    log.applied(2.0, "c", "crash", [0])
    log.observe(3.0, 0.5)
    log.cleared(4.0, "c", "crash", None)
    log.finished(4.0)
    run = load_run(log.write(tmp_path / "events.jsonl"))
    assert [d.action for d in run.disturbances] == ["applied"]
    assert run.faults[0].cleared_s == 4.0


def test_a_bad_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "observe", "epoch": 1.0}\n{not json\n')
    with pytest.raises(UsageError, match=r"events.jsonl:2: not JSON"):
        load_run(path)


def test_a_line_that_is_not_utf8_names_the_file_and_line(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"event": "observe", "epoch": 1.0}\n\x00\xff\n')
    with pytest.raises(UsageError, match=r"events.jsonl:2: not UTF-8 text \(byte 2"):
        load_run(path)


def test_exported_observations_not_utf8_name_the_line_but_a_partial_last_is_skipped(
    tmp_path,
):
    window = Window(0.0, 10.0, Block([], 0.0, 0), None, "start")
    path = tmp_path / "observations.jsonl"
    observe = b'{"event": "observe", "epoch": 1.0}\n'
    path.write_bytes(observe + b'{"event": "observe", "epoch": 2.0, "x": "\xc3')
    assert [o.t_s for o in read_observations(path, window)] == [1.0]
    path.write_bytes(observe + b"\xff\n" + observe)
    with pytest.raises(UsageError, match=r"observations.jsonl:2: not UTF-8 text"):
        read_observations(path, window)


def test_an_empty_log_says_to_run_a_scenario(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n")
    with pytest.raises(UsageError, match=r"holds no events.*scenario run"):
        load_run(path)
