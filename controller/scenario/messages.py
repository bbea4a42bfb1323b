"""Pydantic's validation errors, said in the scenario file's terms: where
(the field path as written) and what is valid there."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from controller.scenario.errors import Loc, Problem
from controller.scenario.header import NodeSettings, TestbedHeader
from controller.scenario.schema import Scenario
from controller.scenario.steps import ACTIONS, parameters, step_keys
from netem.specs import REGISTRY

VALID_ACTIONS = (
    f"fault kinds {', '.join(sorted(REGISTRY))}; "
    f"or {', '.join(a for a in ACTIONS if a not in REGISTRY)}"
)


def explain(exc: ValidationError, data: Any) -> list[Problem]:
    return [_problem(error, data) for error in exc.errors()]


def _problem(error: ErrorDetails, data: Any) -> Problem:
    loc = _as_written(tuple(error["loc"]), data)
    kind = error["type"]
    if kind == "union_tag_invalid":
        tag = (error.get("ctx") or {}).get("tag")
        return Problem((*loc, "do"), f"unknown action {tag!r}; valid: {VALID_ACTIONS}")
    if kind == "union_tag_not_found":
        return Problem(loc, f"every step needs `do`: {VALID_ACTIONS}")
    if kind == "extra_forbidden":
        return Problem(loc, _unknown_key(loc, data))
    if kind == "missing":
        return Problem(loc, "required" + _required_by(loc, data))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return Problem(loc, f"expected a mapping of keys (got {error['input']!r})")
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if kind != "value_error" and not isinstance(value, dict | list):
        message += f" (got {value!r})"
    return Problem(loc, message)


def _as_written(loc: Loc, data: Any) -> Loc:
    """Drop the union tag that pydantic puts after a step's index:
    ("steps", 2, "delay", "delay_ms") -> ("steps", 2, "delay_ms")."""
    if len(loc) >= 3 and loc[0] == "steps" and _do(data, loc[1]) == loc[2]:
        return (*loc[:2], *loc[3:])
    return loc


def _do(data: Any, index: str | int) -> Any:
    try:
        return data["steps"][index]["do"]
    except (TypeError, KeyError, IndexError):
        return None


def _unknown_key(loc: Loc, data: Any) -> str:
    key, parent = loc[-1], loc[:-1]
    if parent[:1] == ("steps",) and len(parent) == 2 and isinstance(parent[1], int):
        do = _do(data, parent[1])
        params = parameters(do)
        common = ", ".join(k for k in step_keys(do) if k not in params)
        if not params:
            return f"unknown key {key!r} for {do}; valid keys: {common}"
        return (
            f"unknown key {key!r}: not a parameter of {do} "
            f"({', '.join(params)}) nor a step key ({common})"
        )
    model = _model_at(parent)
    if model is None:
        return f"unknown key {key!r}"
    return f"unknown key {key!r}; valid keys: {', '.join(_keys(model))}"


def _required_by(loc: Loc, data: Any) -> str:
    if len(loc) == 3 and loc[0] == "steps" and isinstance(loc[1], int):
        do = _do(data, loc[1])
        if do in REGISTRY:
            return f" by {do} (its parameters: {', '.join(parameters(do))})"
    return ""


def _model_at(parent: Loc) -> type[BaseModel] | None:
    models: dict[Loc, type[BaseModel]] = {
        (): Scenario,
        ("testbed",): TestbedHeader,
        ("testbed", "set"): NodeSettings,
    }
    return models.get(parent)


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]
