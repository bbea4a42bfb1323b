"""The example scenarios load, and the JSON Schema describes scenario files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from controller.scenario.cli import app
from controller.scenario.loader import load_scenario
from controller.scenario.schema import scenario_json_schema
from controller.scenario.source import YamlLoader
from controller.scenario.steps import CONTROL_ACTIONS
from netem.specs import REGISTRY

EXAMPLES = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))
PAPER = {
    "partition-and-heal",
    "kill-one-hub",
    "kill-all-hubs",
    "crash-30-percent",
    "churn-10-percent",
    "lossy-wan",
    "flaky-link",
}


def test_the_papers_experiments_have_examples() -> None:
    assert {p.stem for p in EXAMPLES} >= PAPER


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_loads_and_runs_in_a_few_minutes(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert 60 <= scenario.end_s <= 300
    if path.stem == "no-faults":  # the reference for comparing protocols
        assert not scenario.steps and scenario.testbed.nodes == 50
    else:
        assert scenario.steps and scenario.testbed.nodes == 20
    assert path.read_text().startswith("# "), "explain the scenario in a header"


def schema_steps(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The step definitions of the schema by their `do`."""
    items = schema["properties"]["steps"]["items"]
    steps = {}
    for option in items["oneOf"]:
        definition = schema["$defs"][option["$ref"].rsplit("/", 1)[-1]]
        steps[definition["properties"]["do"]["const"]] = definition
    assert set(items["discriminator"]["mapping"]) == set(steps)
    return steps


def test_schema_has_the_scenario_keys_and_every_action() -> None:
    schema = scenario_json_schema()
    assert schema["type"] == "object"
    assert {"name", "testbed", "steps", "duration_s", "seed"} <= set(
        schema["properties"]
    )
    assert set(schema["required"]) == {"name", "testbed"}
    steps = schema_steps(schema)
    assert set(steps) == {*REGISTRY, *CONTROL_ACTIONS, "load"}
    for kind, spec in REGISTRY.items():
        assert set(spec.model_fields) <= set(steps[kind]["properties"]), kind
        assert steps[kind]["additionalProperties"] is False
    assert "for" in steps["crash"]["properties"]
    assert "faults" in steps["clear"]["properties"]
    assert {"users", "duration_s"} <= set(steps["load"]["required"])
    assert steps["load"]["properties"]["spawn_rate"]["default"] == 10
    testbed = schema["$defs"]["TestbedHeader"]
    assert "set" in testbed["properties"] and testbed["required"] == ["nodes"]
    assert "h" in schema["$defs"]["NodeSettings"]["properties"]
    json.dumps(schema)  # plain JSON


@pytest.fixture(scope="module")
def validator() -> Any:
    """A JSON Schema validator of scenario files, its schema checked once
    against the 2020-12 meta-schema (needs the jsonschema package)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_against_the_json_schema(path: Path, validator: Any) -> None:
    data = yaml.load(path.read_text(), Loader=YamlLoader)
    validator.validate(data)


@pytest.mark.parametrize(
    "step",
    [
        {"at": 1, "do": "explode"},
        {"at": 1, "do": "delay", "delay_ms": 10, "loss_pct": 1},
        {"at": 1, "do": "loss", "loss_pct": 150},
        {"at": 1, "at_cycle": 2, "do": "heal"},
        {"do": "heal"},
        {"at": 1, "do": "crash", "on": {"percent": 0}},
        {"at": 1, "do": "crash", "on": "rest"},
        {"at": 1, "do": "crash", "on": "0-4,x"},
        {"at": 1, "do": "load", "users": 0, "spawn_rate": 1, "duration_s": 5},
        {"at": 1, "do": "load", "users": 10_001, "duration_s": 5},
        {"at": 1, "do": "load", "users": 2, "spawn_rate": 0.001, "duration_s": 5},
        {"at": 1, "do": "load", "users": 2, "spawn_rate": 1, "duration_s": 5, "x": 1},
    ],
)
def test_json_schema_rejects_what_the_loader_rejects(
    step: dict[str, Any], validator: Any
) -> None:
    scenario = {"name": "x", "testbed": {"nodes": 4}, "steps": [step]}
    assert not validator.is_valid(scenario)


def test_schema_command_prints_and_writes_the_schema(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["schema"])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == scenario_json_schema()
    target = tmp_path / "scenario.schema.json"
    written = runner.invoke(app, ["schema", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert json.loads(target.read_text()) == scenario_json_schema()


def test_validate_command_accepts_every_example() -> None:
    result = CliRunner().invoke(app, ["validate", *map(str, EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == len(EXAMPLES)
    assert "1 step over 150 s on 20 nodes" in result.output  # kill-all-hubs
