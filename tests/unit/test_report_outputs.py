"""What `controller report` writes and prints, and how it fails."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from matplotlib import image
from typer.testing import CliRunner

from controller.cliutil import Commands
from controller.errors import EXIT_NO_TESTBED, EXIT_USAGE
from controller.report.cli import report
from controller.report.series import FAULT_COLUMNS, RECOVERY_COLUMNS, SERIES_COLUMNS
from tests.unit.test_report_events import SyntheticLog
from tests.unit.test_report_recovery import crash_then_partition

OBSERVATIONS = 31  # 0 to 30 s in crash_then_partition
FAULTS = 2
DISTURBANCES = 3  # crash, partition, heal


def cli() -> Commands:
    app = Commands(add_completion=False)
    app.command("report")(report)

    @app.command("other")
    def other() -> None:
        """Makes `report` a subcommand, as it is when mounted."""

    return app


def invoke(*args: str):
    return CliRunner().invoke(cli(), ["report", *args])


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("run")
    crash_then_partition(tmp_path / "events.jsonl")
    result = invoke(str(tmp_path))
    assert result.exit_code == 0, result.output
    return tmp_path / "report"


def rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as handle:
        header, *body = list(csv.reader(handle))
    return header, body


def test_tables_have_their_headers_and_a_row_per_item(written):
    header, body = rows(written / "series.csv")
    assert tuple(header) == SERIES_COLUMNS
    assert len(body) == OBSERVATIONS
    first_after_crash = body[11]
    assert first_after_crash[header.index("down")] == "0 1"
    assert first_after_crash[header.index("faults_in_force")] == "kill-hubs"

    header, body = rows(written / "faults.csv")
    assert tuple(header) == FAULT_COLUMNS
    assert len(body) == FAULTS
    split = dict(zip(header, body[1], strict=True))
    assert split["groups"] == "2 4 6 | 3 5 7"
    assert (split["applied_s"], split["cleared_s"], split["cleared_by"]) == (
        "20.5",
        "25.5",
        "heal",
    )

    header, body = rows(written / "recovery.csv")
    assert tuple(header) == RECOVERY_COLUMNS
    assert len(body) == DISTURBANCES
    crash = dict(zip(header, body[0], strict=True))
    assert crash["hubs_agree_s"] == "2.5"
    assert crash["back_within_s"] == "4.5"
    assert crash["dipped_at_s"] == "1.5"


@pytest.mark.parametrize("name", ["accuracy.png", "hubs.png", "alive.png"])
def test_plots_are_pngs_of_a_readable_size(written, name):
    path = written / name
    assert path.stat().st_size > 10_000
    pixels = image.imread(path)
    height, width = pixels.shape[:2]
    assert width >= 1000
    assert 300 <= height <= 2000
    assert pixels.std() > 0.05  # not a blank canvas


def test_summary_carries_the_figures_and_links_the_plots(written):
    summary = json.loads((written / "summary.json").read_text())
    assert summary["run"]["scenario"] == "synthetic"
    assert summary["run"]["observations"] == OBSERVATIONS
    assert [f["label"] for f in summary["recovery"]] == ["kill-hubs", "split", "heal"]
    assert summary["recovery"][0]["back_within_s"] == 4.5
    assert len(summary["faults"]) == FAULTS

    markdown = (written / "summary.md").read_text()
    assert "# Report: synthetic" in markdown
    assert "| kill-hubs applied | crash | 10.5 | 0.9 | 2.5 | 1.25 | 0.1 | 4.5 |" in (
        markdown
    )
    for name in ("accuracy.png", "hubs.png", "alive.png"):
        assert f"]({name})" in markdown
    assert "per-node series" in markdown  # a partition ran


def test_prints_where_it_wrote_and_a_line_per_fault(tmp_path):
    crash_then_partition(tmp_path / "events.jsonl")
    result = invoke(str(tmp_path / "events.jsonl"), "--output", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # undo the console's wrapping
    assert f"written to {tmp_path / 'r'}" in text
    assert "kill-hubs (crash applied at 10.5 s): hubs agree after 2.5 s" in text
    assert "heal (partition cleared at 25.5 s)" in text
    assert (tmp_path / "r" / "summary.md").exists()


def test_a_run_dir_without_a_log_says_to_run_a_scenario(tmp_path):
    result = invoke(str(tmp_path))
    assert result.exit_code == EXIT_NO_TESTBED
    assert "controller scenario run" in result.output


def test_a_missing_run_dir_is_no_testbed(tmp_path):
    result = invoke(str(tmp_path / "nowhere"))
    assert result.exit_code == EXIT_NO_TESTBED


def test_an_empty_log_is_a_usage_error(tmp_path):
    (tmp_path / "events.jsonl").write_text("")
    result = invoke(str(tmp_path))
    assert result.exit_code == EXIT_USAGE
    assert "holds no events" in result.output


def test_a_log_without_observations_is_a_usage_error(tmp_path):
    log = SyntheticLog()
    log.applied(1.0, "d", "delay", [1])
    log.write(tmp_path / "events.jsonl")
    result = invoke(str(tmp_path))
    assert result.exit_code == EXIT_USAGE
    assert "no observations" in result.output
    assert not (tmp_path / "report").exists()


def test_an_empty_output_is_a_usage_error_and_writes_nothing(tmp_path, monkeypatch):
    crash_then_partition(tmp_path / "events.jsonl")
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = invoke(str(tmp_path), "--output", "")
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--output is empty" in result.output
    assert not list(here.iterdir())


def test_a_record_cut_off_mid_line_at_the_end_is_left_out(tmp_path):
    log = crash_then_partition(tmp_path / "events.jsonl")
    with open(log, "a") as handle:
        handle.write('{"epoch": 1800000031.0, "event": "obs')
    result = invoke(str(tmp_path))
    assert result.exit_code == 0, result.output
    # A bad line that is whole, or not the last, is still an error.
    with open(log, "a") as handle:
        handle.write("\n")
    result = invoke(str(tmp_path))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "events.jsonl:" in result.output and "not JSON" in result.output


def test_an_interrupted_run_says_so(tmp_path):
    log = SyntheticLog()
    log.started()
    for t in range(8):
        log.observe(float(t), 0.5 + t / 100, cycle=t)
    log.add("scenario_finished", 7.5, scenario="synthetic", interrupted=True)
    log.write(tmp_path / "events.jsonl")
    result = invoke(str(tmp_path))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["run"]["interrupted"] is True
    assert any(
        "interrupted after 7.5 s of its planned 30 s" in n for n in summary["notes"]
    )
    assert "interrupted after 7.5 s" in (tmp_path / "report" / "summary.md").read_text()
