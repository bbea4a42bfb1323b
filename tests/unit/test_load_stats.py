"""Locust's CSV statistics read back, the summary, the node list the users
draw from, and the discovery files of the load generators."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from controller.load.metrics import advertise, withdraw
from controller.load.stats import LoadStatsError, progress, read_stats
from controller.load.summary import as_json, failing_nodes, summary_lines
from controller.load.targets import NodeBook, parse_name, request_name
from controller.monitoring import discovery
from controller.monitoring.paths import all_load_targets, load_targets, nodes_targets
from controller.rundir import NodeRecord, RunDir, TestbedState

HEADER = [
    "Type", "Name", "Request Count", "Failure Count", "Median Response Time",
    "Average Response Time", "Min Response Time", "Max Response Time",
    "Average Content Size", "Requests/s", "Failures/s", "50%", "66%", "75%",
    "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
]  # fmt: skip


def _line(kind: str, name: str, n: int, failed: int, rps: float, p: list[str]) -> list:
    # p: the 50%, 95% and 99% columns; the others are filled with the 50%.
    p50, p95, p99 = p
    return [kind, name, n, failed, p50, 1.0, 1.0, 9.0, 22, rps, 0.0,
            p50, p50, p50, p50, p95, p95, p99, p99, p99, p99, p99]  # fmt: skip


def write(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        out.writerows(rows)
    return path


def test_rows_by_node_and_rpc_with_the_total(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x_stats.csv",
        [
            _line("grpc", "node-10 Predict", 40, 0, 4.0, ["3", "9", "12"]),
            _line("grpc", "node-2 Status", 10, 10, 1.0, ["2000", "2000", "2000"]),
            _line("grpc", "node-2 Predict", 30, 6, 3.0, ["5", "2000", "2000"]),
            _line("", "Aggregated", 80, 16, 8.0, ["4", "2000", "2000"]),
        ],
    )
    stats = read_stats(path)
    assert [(r.node, r.rpc) for r in stats.rows] == [
        (2, "Predict"),
        (2, "Status"),
        (10, "Predict"),
    ]
    assert stats.total.requests == 80 and stats.total.failure_ratio == 0.2
    assert stats.rows[0].p95_ms == 2000.0 and stats.rows[2].p50_ms == 3.0
    assert failing_nodes(stats) == {2: 16}
    first, second = summary_lines(stats)
    assert first.startswith("80 requests, 16 failures (20.00%), 8.0 requests/s")
    assert "p50 4 ms, p95 2000 ms, p99 2000 ms" in first
    assert second == "failures by node: node 2: 16"
    data = as_json(stats)
    assert data["total"]["failure_ratio"] == 0.2  # type: ignore[index]
    assert len(data["rows"]) == 3  # type: ignore[arg-type]


def test_no_calls_leave_percentiles_empty(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x_stats.csv", [_line("", "Aggregated", 0, 0, 0.0, ["N/A"] * 3)]
    )
    stats = read_stats(path)
    assert stats.rows == [] and stats.total.p99_ms is None
    assert stats.total.failure_ratio == 0.0
    assert "p50 -, p95 -, p99 -" in summary_lines(stats)[0]


def test_files_that_are_not_locust_statistics_are_named(tmp_path: Path) -> None:
    with pytest.raises(LoadStatsError, match=r"missing_stats\.csv: No such file"):
        read_stats(tmp_path / "missing_stats.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(LoadStatsError, match=r"other\.csv: not Locust statistics"):
        read_stats(other)
    bad = write(tmp_path / "bad.csv", [_line("", "Aggregated", 1, 0, 0.5, ["x"] * 3)])
    with pytest.raises(LoadStatsError, match="malformed number"):
        read_stats(bad)
    no_total = write(
        tmp_path / "nt.csv", [_line("grpc", "node-0 Predict", 1, 0, 1, ["1"] * 3)]
    )
    with pytest.raises(LoadStatsError, match="no Aggregated row"):
        read_stats(no_total)


def test_progress_is_the_newest_total_of_the_history(tmp_path: Path) -> None:
    history = tmp_path / "x_stats_history.csv"
    assert progress(history) is None
    columns = ["Timestamp", "Name", "Requests/s", "Total Request Count",
               "Total Failure Count"]  # fmt: skip
    with history.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(columns)
        out.writerow([1, "Aggregated", 3.5, 10, 1])
        out.writerow([2, "node-1 Predict", 1.0, 4, 0])
        out.writerow([3, "Aggregated", 7.25, 30, 2])
    assert progress(history) == (30, 2, 7.25)


def test_request_names_round_trip() -> None:
    assert parse_name(request_name(7, "Predict")) == (7, "Predict")
    assert parse_name("Aggregated") is None
    assert parse_name("node-x Predict") is None and parse_name("node-3") is None


def test_node_book_reads_the_state_again_after_its_period(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "tb")
    run.create()

    def save(ids: list[int]) -> None:
        nodes = [
            NodeRecord(id=i, address=f"127.0.0.1:{100 + i}", metrics="m") for i in ids
        ]
        run.save(TestbedState(name="tb", backend="process", created=0.0,
                              settings={}, nodes=nodes))  # fmt: skip

    now = [0.0]
    book = NodeBook(run, refresh_s=2.0, clock=lambda: now[0])
    assert book.current() == {}  # no state yet: nothing to call
    save([0, 1])
    now[0] = 2.0
    assert book.current() == {0: "127.0.0.1:100", 1: "127.0.0.1:101"}
    save([0, 1, 2])
    now[0] = 3.0
    assert set(book.current()) == {0, 1}  # within the period: as before
    now[0] = 4.0
    assert set(book.current()) == {0, 1, 2}
    run.state_file.write_text("{")  # being rewritten: keep the last list
    now[0] = 6.0
    assert set(book.current()) == {0, 1, 2}


def test_each_generator_has_its_own_target_and_down_takes_leftovers(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    run, other = RunDir(runs / "a.b"), RunDir(runs / "a.b.c")
    for r in (run, other):
        r.create()
        r.save(TestbedState(name=r.name, backend="process", created=0.0,
                            settings={}, nodes=[]))  # fmt: skip
        nodes_targets(r).parent.mkdir(parents=True, exist_ok=True)
        nodes_targets(r).write_text("[]")
    assert advertise(run, "127.0.0.1:1", 11) and advertise(run, "127.0.0.1:2", 12)
    assert advertise(other, "127.0.0.1:3", 13)
    (group,) = json.loads(load_targets(run, 11).read_text())
    assert group == {
        "targets": ["127.0.0.1:1"],
        "labels": {"testbed": "a.b", "protocol": "heal", "backend": "process"},
    }
    withdraw(run, 11)
    assert all_load_targets(run) == [load_targets(run, 12)]
    discovery.remove(run)  # as `down` does: a generator killed outright
    assert all_load_targets(run) == []
    assert all_load_targets(other) == [load_targets(other, 13)]


def test_no_target_for_a_testbed_that_is_not_monitored(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "runs" / "tb")
    run.create()
    assert not advertise(run, "127.0.0.1:1", 11)
    assert not load_targets(run, 11).exists()
