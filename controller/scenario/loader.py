"""Read a scenario file: YAML with positions, the schema, the checks.

Every error names the file, the line and column, and the field path, e.g.
`kill.yaml:12:5: steps[2].delay_ms: Input should be greater than 0 (got -5)`;
pydantic's error locations and the checks' field paths both map to the line
where the user wrote the field (source.py).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from controller.scenario.checks import check
from controller.scenario.errors import Problem, ScenarioError
from controller.scenario.messages import explain
from controller.scenario.schema import Scenario
from controller.scenario.source import (
    Located,
    duplicate_keys,
    field_path,
    locate,
    parse,
)


def load_scenario(path: Path | str) -> Scenario:
    """The validated scenario in `path`; ScenarioError says what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError(f"{path}: cannot read the scenario file: {reason}") from exc
    root, data = parse(path, text)

    duplicates = list(duplicate_keys(root, ()))
    if duplicates:
        raise ScenarioError(_report(path, duplicates))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_report(path, _place(root, explain(exc, data)))) from None

    for step in scenario.steps:
        step._line = locate(root, ("steps", step.index))[0]
    problems = check(scenario)
    if problems:
        raise ScenarioError(_report(path, _place(root, problems)))
    return scenario


def _report(path: Path, located: list[Located]) -> str:
    """One line per problem, in file order."""
    return "\n".join(
        f"{path}:{p.line}:{p.column}: {p.field}: {p.message}" for p in sorted(located)
    )


def _place(root: yaml.Node, problems: list[Problem]) -> list[Located]:
    return [
        Located(*locate(root, p.loc), field_path(p.loc), p.message) for p in problems
    ]
