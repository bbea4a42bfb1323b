"""Field types of scenario files: names, and node selectors as they are
written (strings, lists, mappings) and described in the JSON Schema."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from controller.scenario.selectors import Selector, parse_selector

NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$"


def _not_rest(value: Any) -> Selector:
    selector = parse_selector(value)
    if selector.group == "rest":
        raise ValueError("`rest` is for partition groups only; use all or ids")
    return selector


_IDS = {
    "type": "string",
    "pattern": r"^\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*$",
}
_ID_LIST = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1}


def _selector_schema(*names: str) -> dict[str, Any]:
    mapping = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "ids": {"anyOf": [_IDS, _ID_LIST]},
            "percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
            "count": {"type": "integer", "minimum": 1},
            "role": {"enum": ["hub", "client"]},
            "seed": {"type": "integer", "minimum": 0},
        },
        "minProperties": 1,
    }
    return {
        "description": "nodes: a name, ids and ranges ('0-4,7'), a list of ids, or "
        "a mapping with one of ids, percent, count, role (role may go with "
        "percent or count) and an optional seed",
        "anyOf": [
            {"enum": list(names)},
            _IDS,
            _ID_LIST,
            {"type": "integer", "minimum": 0},
            mapping,
        ],
    }


NodeSelector = Annotated[
    Selector,
    BeforeValidator(_not_rest),
    WithJsonSchema(_selector_schema("all", "hubs", "clients")),
]
GroupSelector = Annotated[
    Selector,
    BeforeValidator(parse_selector),
    WithJsonSchema(_selector_schema("all", "hubs", "clients", "rest")),
]
StepId = Annotated[str, Field(pattern=NAME_PATTERN)]
