"""Semantic checks of a scenario that its schema cannot express.

Each check yields Problems (a field path and a message); the loader turns
the path into a file line. Checks over time are in timeline.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from controller.scenario.errors import Loc, Problem
from controller.scenario.placement import placement_problems
from controller.scenario.schema import Scenario
from controller.scenario.selectors import Selector, format_ids, static_ids
from controller.scenario.steps import ClearStep, LoadStep, StepBase
from controller.scenario.timeline import timeline_problems
from netem.specs import REGISTRY


def check(scenario: Scenario) -> list[Problem]:
    """Every problem found, in no particular order."""
    return [
        *placement_problems(scenario),
        *_ids(scenario),
        *_selectors(scenario),
        *_duration(scenario),
        *timeline_problems(scenario),
    ]


def _ids(scenario: Scenario) -> Iterator[Problem]:
    """Step ids are unique; clear names ids of fault steps that start first."""
    named: dict[str, StepBase] = {}
    for step in sorted(scenario.steps, key=lambda s: s.index):
        if step.id is None:
            continue
        if step.id in named:
            first = named[step.id]
            yield Problem(
                ("steps", step.index, "id"),
                f"id {step.id!r} is already used by steps[{first.index}] "
                f"(line {first.line}); ids must be unique",
            )
        else:
            named[step.id] = step
    for step in scenario.steps:
        if isinstance(step, ClearStep):
            for n, name in enumerate(step.faults or []):
                problem = _clearable(step, name, named)
                if problem:
                    yield Problem(("steps", step.index, "faults", n), problem)


def _clearable(clear: StepBase, name: str, named: dict[str, StepBase]) -> str | None:
    target = named.get(name)
    if target is None:
        known = ", ".join(sorted(named)) or "no step has an id"
        return f"no step has id {name!r} (ids: {known})"
    if target.do not in REGISTRY:
        return f"{name!r} is a {target.do} step; clear ends faults"
    if target.at is not None and clear.at is not None and target.at > clear.at:
        return f"{name!r} starts at {target.at:g} s, after this clear at {clear.at:g} s"
    return None


def _selectors(scenario: Scenario) -> Iterator[Problem]:
    nodes = scenario.testbed.nodes
    for step in scenario.steps:
        loc: Loc = ("steps", step.index)
        for key in ("on", "peers"):
            sel = getattr(step, key)
            if sel is not None:
                yield from _fits(sel, nodes, (*loc, key))
        for n, sel in enumerate(step.groups or []):
            yield from _fits(sel, nodes, (*loc, "groups", n))
        if step.groups is not None:
            yield from _partition_groups(step.groups, nodes, (*loc, "groups"))
        if isinstance(step, LoadStep) and (step.as_node or 0) >= nodes:
            yield Problem(
                (*loc, "as_node"),
                f"node {step.as_node} does not exist: the testbed has nodes "
                f"0-{nodes - 1}",
            )


def _fits(sel: Selector, nodes: int, loc: Loc) -> Iterator[Problem]:
    beyond = [i for i in sel.ids or () if i >= nodes]
    if beyond:
        yield Problem(
            loc,
            f"ids {format_ids(beyond)} do not exist: the testbed has nodes "
            f"0-{nodes - 1}",
        )
    if sel.count is not None and sel.count > nodes:
        yield Problem(loc, f"count {sel.count} is more than the {nodes} nodes")


def _partition_groups(
    groups: list[Selector], nodes: int, loc: Loc
) -> Iterator[Problem]:
    """Two or more groups that cut some nodes off from others."""
    if len(groups) < 2:
        yield Problem(loc, f"a partition needs 2 or more groups; got {len(groups)}")
        return
    rests = [n for n, g in enumerate(groups) if g.group == "rest"]
    if len(rests) > 1:
        yield Problem((*loc, rests[1]), "`rest` may be given once")
        return
    known = [static_ids(g, nodes) for g in groups if g.group != "rest"]
    members = [ids & set(range(nodes)) for ids in known if ids is not None]
    if len(members) < len(known):
        return  # hubs, clients, random picks: only the running testbed can tell
    if rests:
        rest = set(range(nodes)).difference(*members)
        if not rest:
            yield Problem(
                (*loc, rests[0]), "`rest` is empty: the other groups hold every node"
            )
            return
        members.append(rest)

    # Two nodes are cut off from each other when no group holds both.
    memberships = {
        frozenset(n for n, group in enumerate(members) if node in group)
        for node in range(nodes)
    } - {frozenset()}
    if not any(a.isdisjoint(b) for a, b in combinations(memberships, 2)):
        yield Problem(
            loc, "these groups cut no node off: every two grouped nodes share a group"
        )


def _duration(scenario: Scenario) -> Iterator[Problem]:
    """at_cycle steps need a duration; a duration must outlast the steps."""
    cycle_steps = scenario.cycle_steps
    if cycle_steps and scenario.duration_s is None:
        yield Problem(
            ("steps", cycle_steps[0].index, "at_cycle"),
            "steps at a cycle number need duration_s (seconds): the run's "
            "length cannot be worked out from cycles",
        )
    if scenario.duration_s is None or not scenario.timed_steps:
        return
    last = max(scenario.timed_steps, key=lambda s: (s.at or 0) + s.span_s)
    end = (last.at or 0) + last.span_s
    if end > scenario.duration_s:
        what = "ends" if last.span_s else "starts"
        yield Problem(
            ("duration_s",),
            f"{scenario.duration_s:g} s is shorter than the steps: "
            f"{last.label()} (line {last.line}) {what} at {end:g} s",
        )
