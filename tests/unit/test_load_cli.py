"""`controller load` refuses bad flags, a missing testbed and a missing
Locust before it starts anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.errors import UsageError
from controller.load.run import LoadParams
from controller.rundir import NodeRecord, RunDir, TestbedState


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["load", *args])
    return result.exit_code, " ".join(result.output.split())


def up_state(tmp_path: Path, phase: str = "up") -> RunDir:
    run = RunDir(tmp_path / "tb")
    run.create()
    run.new_token()
    nodes = [
        NodeRecord(id=i, address=f"127.0.0.1:{9 + i}", metrics="m") for i in (0, 1)
    ]
    run.save(TestbedState(name="tb", backend="process", created=0.0, settings={},
                          nodes=nodes, phase=phase))  # type: ignore[arg-type] # fmt: skip
    return run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0"], "--users 0: give from 1 to 10000 users"),
        (["--users", "100000000"], "--users 100000000: give from 1 to 10000 users"),
        (["--spawn-rate", "0"], "--spawn-rate 0: give users started per second"),
        (["--spawn-rate", "1e-300"], "--spawn-rate 1e-300: give users started per"),
        (["--spawn-rate", "nan"], "second, from 0.01 to 10000"),
        (["--spawn-rate", "inf"], "--spawn-rate inf: give users started per"),
        (["--duration", "-3"], "--duration -3: give seconds, from 1 to a week"),
        (["--as-node", "-1"], "--as-node -1: give a node id >= 0"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEAL_RUNS", str(tmp_path))  # no testbed: flags come first
    code, output = invoke(*args)
    assert code == 2 and message in output, output
    assert not (tmp_path / "tb" / "load").exists()


def test_no_testbed_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEAL_RUNS", str(tmp_path))
    code, output = invoke("--duration", "5")
    assert code == 3 and "no current testbed" in output, output
    code, output = invoke(str(tmp_path / "gone"))
    assert code == 3 and "gone: no such run directory" in output, output


def test_a_testbed_that_is_down_exits_3(tmp_path: Path) -> None:
    run = up_state(tmp_path, phase="down")
    code, output = invoke(str(run.path))
    assert code == 3 and "testbed tb is down, not up" in output, output
    assert not (run.path / "load").exists()


def test_an_unknown_as_node_exits_2(tmp_path: Path) -> None:
    run = up_state(tmp_path)
    code, output = invoke(str(run.path), "--as-node", "5")
    assert (
        code == 2 and "--as-node 5: no such node; the testbed has nodes 0-1" in output
    )


def test_missing_locust_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = up_state(tmp_path)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "locust" else real(name, *a),
    )
    code, output = invoke(str(run.path))
    assert code == 1, output
    assert (
        "Locust is not installed; install it with `pip install -e '.[load]'`" in output
    )
    assert not (run.path / "load").exists()


def test_scenario_fields_are_named_in_messages() -> None:
    names = {"users": "steps[3].users"}
    with pytest.raises(UsageError, match=r"steps\[3\]\.users 0: give from 1 to 10000"):
        LoadParams(0, 1.0, 10.0).check(names)
