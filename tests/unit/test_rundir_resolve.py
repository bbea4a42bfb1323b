"""Commands find a testbed by its run directory or by the name `up` gave it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.errors import NoTestbedError
from controller.rundir import resolve


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "runs"
    (root / "alpha").mkdir(parents=True)
    (root / "beta").mkdir()
    monkeypatch.setenv("HEAL_RUNS", str(root))
    monkeypatch.chdir(tmp_path)
    return root


def test_a_name_picks_the_testbed_under_the_runs_root(runs: Path) -> None:
    assert resolve(Path("beta")).path.resolve() == (runs / "beta").resolve()


def test_a_path_is_taken_as_it_is(runs: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "alpha"
    elsewhere.mkdir(parents=True)
    assert resolve(elsewhere).path == elsewhere


def test_a_folder_of_that_name_here_wins_over_the_runs_root(
    runs: Path, tmp_path: Path
) -> None:
    (tmp_path / "alpha").mkdir()
    assert resolve(Path("alpha")).path == Path("alpha")


def test_an_unknown_name_says_where_it_looked(runs: Path) -> None:
    with pytest.raises(NoTestbedError, match=f"gamma.*under {runs}"):
        resolve(Path("gamma"))
    with pytest.raises(NoTestbedError):  # a path is not a name
        resolve(Path("x") / "beta")


def test_status_takes_name_as_an_alias_of_run_dir(runs: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--name", "gamma"])
    assert result.exit_code == 3, result.output
    assert "no testbed of that name" in result.output, result.output
