"""Scenario files: a testbed header and a timeline of faults.

`load_scenario(path)` reads, validates and checks a file; the model is in
schema.py (header.py, steps.py), node selectors in selectors.py, the
commands in cli.py.
"""

from controller.scenario.errors import ScenarioError
from controller.scenario.loader import load_scenario
from controller.scenario.schema import Scenario, scenario_json_schema
from controller.scenario.selectors import (
    Selector,
    SelectorError,
    parse_selector,
    resolve,
    static_ids,
)

__all__ = [
    "Scenario",
    "ScenarioError",
    "Selector",
    "SelectorError",
    "load_scenario",
    "parse_selector",
    "resolve",
    "scenario_json_schema",
    "static_ids",
]
