"""Node selectors: which nodes a scenario step acts on.

In a scenario file a selector is a string (`all`, `hubs`, `clients`, `rest`,
or ids and ranges such as "0-4,7,12-15"), a list of ids, or a mapping with
one of `ids`, `percent`, `count` or `role`. `percent` and `count` pick at
random from the live nodes, or only from the hubs or the clients when `role`
is given too; `seed` overrides the scenario's seed for that pick.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from controller.errors import ControllerError
from controller.scenario.ids import format_ids, parse_ids

Group = Literal["all", "hubs", "clients", "rest"]
GROUPS: tuple[Group, ...] = ("all", "hubs", "clients", "rest")
ROLES = {"hub": "hubs", "client": "clients"}
MAPPING_KEYS = ("ids", "percent", "count", "role", "seed")


__all__ = [
    "Selector",
    "SelectorError",
    "format_ids",
    "parse_selector",
    "resolve",
    "static_ids",
]


class SelectorError(ControllerError):
    """A selector matched no node when it was resolved during a run."""


class Selector(BaseModel):
    """A parsed selector: explicit ids, or a group, or a random pick from one."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False
    )

    ids: tuple[int, ...] | None = None
    # The named set, or the pool that percent and count pick from.
    group: Group = "all"
    percent: float | None = Field(None, gt=0, le=100)
    count: int | None = Field(None, ge=1)
    seed: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Selector:
        if self.percent is not None and self.count is not None:
            raise ValueError("give percent or count, not both")
        if self.ids is not None and self.group != "all":
            raise ValueError("ids cannot be combined with a role")
        return self

    @property
    def is_random(self) -> bool:
        return self.percent is not None or self.count is not None

    def describe(self) -> str:
        if self.ids is not None:
            return format_ids(self.ids)
        if self.percent is not None:
            return f"{self.percent:g}% of {self.group}"
        if self.count is not None:
            return f"{self.count} of {self.group}"
        return self.group


def parse_selector(value: Any) -> Selector:
    """A Selector from what a scenario file holds; ValueError says what is valid."""
    if isinstance(value, Selector):
        return value
    if isinstance(value, str) and value.strip() in GROUPS:
        fields: dict[str, Any] = {"group": value.strip()}
    elif isinstance(value, str | int | list) and not isinstance(value, bool):
        fields = {"ids": parse_ids(value)}
    elif isinstance(value, dict):
        fields = _mapping_fields(value)
    else:
        raise ValueError(
            "a selector is a string (all, hubs, clients, rest, or ids like "
            f"'0-4,7'), a list of ids, or a mapping; got {value!r}"
        )
    try:
        return Selector.model_validate(fields)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e['input']!r})"
            if e["loc"]
            else str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        ]
        raise ValueError("; ".join(problems)) from None


def _mapping_fields(value: dict[Any, Any]) -> dict[str, Any]:
    unknown = sorted(str(k) for k in value if k not in MAPPING_KEYS)
    if unknown:
        raise ValueError(
            f"unknown selector key {', '.join(unknown)}; valid keys: "
            f"{', '.join(MAPPING_KEYS)}"
        )
    kinds = [k for k in ("ids", "percent", "count") if k in value]
    if len(kinds) > 1 or (not kinds and "role" not in value):
        raise ValueError(
            "a selector mapping takes exactly one of ids, percent, count or role "
            f"(role may go with percent or count); got {', '.join(map(str, value))}"
        )
    if "seed" in value and not ("percent" in value or "count" in value):
        raise ValueError("seed applies to percent and count selectors only")
    empty = [str(k) for k, v in value.items() if v is None]
    if empty:
        raise ValueError(f"{', '.join(empty)}: a value is needed")
    role = value.get("role")
    if role is not None and role not in ROLES:
        raise ValueError(f"role {role!r}: valid roles are hub, client")
    fields = {k: value[k] for k in ("percent", "count", "seed") if k in value}
    if "ids" in value:
        fields["ids"] = parse_ids(value["ids"])
    if role is not None:
        fields["group"] = ROLES[role]
    return fields


def resolve(
    sel: Selector,
    live: Sequence[int],
    hubs: Sequence[int],
    rng: random.Random,
    taken: Collection[int] = (),
) -> list[int]:
    """The ids a selector picks now, sorted.

    live: the nodes to pick from (the running ones; for a restart, the
    crashed ones). hubs: the hubs as the nodes currently see them. taken:
    the nodes of the other partition groups, which `rest` leaves out. Random
    picks draw from rng, or from the selector's own seed when it has one.
    """
    alive = sorted(set(live))
    if sel.ids is not None:
        picked = [i for i in alive if i in set(sel.ids)]
    else:
        picked = _pool(sel.group, alive, set(hubs), set(taken))
        if sel.is_random and picked:
            draw = random.Random(sel.seed) if sel.seed is not None else rng
            k = _how_many(sel, len(picked))
            picked = sorted(draw.sample(picked, k))
    if not picked:
        context = f"live: {format_ids(alive) or 'none'}"
        if sel.group in ("hubs", "clients"):
            context += f"; hubs: {format_ids(sorted(hubs)) or 'none'}"
        raise SelectorError(
            f"selector {sel.describe()!r} matches no live node ({context})"
        )
    return picked


def _pool(group: Group, alive: list[int], hubs: set[int], taken: set[int]) -> list[int]:
    if group == "hubs":
        return [i for i in alive if i in hubs]
    if group == "clients":
        return [i for i in alive if i not in hubs]
    if group == "rest":
        return [i for i in alive if i not in taken]
    return alive


def _how_many(sel: Selector, pool: int) -> int:
    """percent rounds half up and takes at least one node; count must fit."""
    if sel.percent is not None:
        return min(pool, max(1, int(sel.percent * pool / 100 + 0.5)))
    assert sel.count is not None
    if sel.count > pool:
        raise SelectorError(
            f"selector {sel.describe()!r} asks for {sel.count} nodes but only "
            f"{pool} can be picked"
        )
    return sel.count


def static_ids(sel: Selector, nodes: int) -> set[int] | None:
    """The ids a selector names before the run starts, or None when only the
    running testbed can tell (hubs, clients, rest, random picks)."""
    if sel.ids is not None:
        return set(sel.ids)
    if sel.group == "all" and not sel.is_random:
        return set(range(nodes))
    return None
