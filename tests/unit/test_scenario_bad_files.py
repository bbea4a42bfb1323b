"""Every malformed scenario in tests/data/bad_scenarios/ fails to load with
exit code 2 and an error that names the file, the line and the field.

Each file's first line says what to expect: `# expect: line N: phrase`; an
error line of the message must start with `FILE:N:` and hold the phrase.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.errors import EXIT_USAGE
from controller.scenario.cli import app
from controller.scenario.errors import ScenarioError
from controller.scenario.loader import load_scenario

BAD = Path(__file__).parents[1] / "data" / "bad_scenarios"
FILES = sorted(BAD.glob("*.yaml"))
EXPECT = re.compile(r"#\s*expect:\s*line\s+(\d+):\s*(.+)")


def expected(path: Path) -> tuple[int, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = EXPECT.fullmatch(first.strip())
    assert match, f"{path.name}: line 1 must be '# expect: line N: phrase'"
    return int(match[1]), match[2].strip()


def error_at(message: str, name: str, line: int, phrase: str) -> bool:
    """Whether one line of the message is an error at name:line with phrase."""
    at = re.compile(rf"(^|/){re.escape(name)}:{line}(:\d+)?: ")
    return any(at.search(m) and phrase in m for m in message.splitlines())


def load_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def test_one_file_for_each_of_twenty_error_classes_or_more() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_bad_scenario_names_file_line_and_field(path: Path) -> None:
    line, phrase = expected(path)
    error = load_error(path)
    assert error.exit_code == EXIT_USAGE == 2
    assert error_at(str(error), path.name, line, phrase), (
        f"expected an error at {path.name}:{line} saying {phrase!r}; got:\n{error}"
    )


def test_a_wrong_expectation_does_not_pass() -> None:
    path = BAD / "negative-time.yaml"
    line, phrase = expected(path)
    message = str(load_error(path))
    assert error_at(message, path.name, line, phrase)
    assert not error_at(message, path.name, line + 1, phrase)
    assert not error_at(message, path.name, line, phrase + " and more")
    assert not error_at(message, "other.yaml", line, phrase)


def test_every_error_of_a_file_is_reported_in_line_order(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "name: many\n"
        "testbed:\n"
        "  nodes: 5\n"
        "steps:\n"
        "  - at: 10\n"
        "    do: loss\n"
        "    loss_pct: 0\n"
        "  - at: -1\n"
        "    do: crash\n"
        "    on: hubs\n"
    )
    message = str(load_error(path))
    assert re.findall(r"many\.yaml:(\d+):", message) == ["7", "8"]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "many.yaml:1: the file is empty"),
        ("- at: 1\n", "many.yaml:1: expected keys (name, testbed, steps...)"),
        ("name: x\n---\nname: y\n", "not valid YAML"),
        ("name: x\ntestbed: 20\n", "many.yaml:2:1: testbed: expected a mapping"),
        ("a: &a [*a]\n", "many.yaml:1:4: an alias refers to the anchor it is inside"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "many.yaml: nested too deeply"),
    ],
)
def test_files_that_are_no_scenario_at_all(
    tmp_path: Path, text: str, phrase: str
) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(text)
    assert phrase in str(load_error(path))


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    error = load_error(tmp_path / "nowhere.yaml")
    assert error.exit_code == 2
    assert "nowhere.yaml: cannot read the scenario file" in str(error)


def test_validate_command_reports_each_bad_file_and_exits_2() -> None:
    good = Path(__file__).parents[2] / "scenarios" / "kill-one-hub.yaml"
    bad = BAD / "loss-150.yaml"
    result = CliRunner().invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 2
    # The console wraps long lines (long paths) at the terminal's width.
    output = result.output.replace("\n", "")
    assert f"ok: {good}: 1 step over 180 s on 20 nodes" in output
    assert "loss-150.yaml:8:5: steps[0].loss_pct" in output
    assert "1 of 2 files have errors" in output


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.glob("*.yaml"))[:20])
def test_run_of_a_bad_file_exits_2_and_starts_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from controller.cli import app as controller

    runs = tmp_path / "runs"
    monkeypatch.setenv("HEAL_RUNS", str(runs))
    result = CliRunner().invoke(controller, ["scenario", "run", str(BAD / name)])
    assert result.exit_code == 2, result.output
    assert name in result.output
    assert not runs.exists()  # no run directory, so no testbed either
