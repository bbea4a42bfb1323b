"""Checks over time: what is in effect when each step runs.

Steps timed in seconds are replayed in order. Nodes chosen at run time
(hubs, percent, count) cannot be compared before the run, and at_cycle steps
cannot be placed among seconds: where either might change the outcome,
these checks assume the scenario is right and say nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from controller.scenario.errors import Problem
from controller.scenario.schema import Scenario
from controller.scenario.selectors import format_ids, static_ids
from controller.scenario.steps import ClearStep, StepBase
from netem.specs import REGISTRY


@dataclass
class _Held:
    """A fault in effect; nodes and peers are None when only the run can tell."""

    step: StepBase
    nodes: set[int] | None
    peers: set[int] | None
    until: float

    def active(self, t: float) -> bool:
        return self.until > t and self.nodes != set()


class _Timeline:
    def __init__(self, scenario: Scenario) -> None:
        self.nodes = scenario.testbed.nodes
        self.held: dict[str, list[_Held]] = {"link": [], "pause": [], "crash": []}
        cycle = scenario.cycle_steps
        self.cycle_actions = {s.do for s in cycle}
        # at_cycle clears may end any fault (or the ones named) at any time.
        self.cycle_clears_all = any(
            isinstance(s, ClearStep) and s.faults is None for s in cycle
        )
        self.cycle_cleared = {
            name for s in cycle if isinstance(s, ClearStep) for name in s.faults or ()
        }

    def sure(self, held: _Held) -> bool:
        """Whether no at_cycle step can end this fault early."""
        if held.step.id in self.cycle_cleared:
            return False
        if held.step.do == "crash":
            return "restart" not in self.cycle_actions
        if held.step.do == "pause":
            return "unpause" not in self.cycle_actions
        return not self.cycle_clears_all

    def on(self, step: StepBase) -> set[int] | None:
        if step.on is None:  # link faults default to every node
            return set(range(self.nodes))
        return static_ids(step.on, self.nodes)

    def peers(self, step: StepBase) -> set[int] | None:
        if step.peers is None:  # per-link faults default to every peer
            return set(range(self.nodes))
        return static_ids(step.peers, self.nodes)

    def step(self, step: StepBase) -> Iterator[Problem]:
        assert step.at is not None
        t = step.at
        if isinstance(step, ClearStep):
            self._clear(step)
        elif step.do == "heal":
            yield from self._heal(step, t)
        elif step.do in ("unpause", "restart"):
            yield from self._resume(step, t)
        elif step.do in ("crash", "pause"):
            yield from self._crashed(step, t)
        elif step.do in REGISTRY and REGISTRY[step.do].scope == "link":
            yield from self._overlap(step, t)
        self._hold(step, t)

    def _hold(self, step: StepBase, t: float) -> None:
        until = t + step.for_s if step.for_s is not None else math.inf
        spec = REGISTRY.get(step.do)
        if spec is None or step.do in ("restart", "churn"):
            return
        nodes = None if step.do == "partition" else self.on(step)
        peers = self.peers(step)
        key = "link" if spec.scope == "link" else step.do
        self.held[key].append(_Held(step, nodes, peers, until))

    def _clear(self, step: ClearStep) -> None:
        for key, entries in self.held.items():
            self.held[key] = [
                h
                for h in entries
                if not (step.faults is None and key == "link")
                and h.step.id not in (step.faults or ())
            ]

    def _heal(self, step: StepBase, t: float) -> Iterator[Problem]:
        partitions = [h for h in self.held["link"] if h.step.do == "partition"]
        if not any(h.active(t) for h in partitions) and (
            "partition" not in self.cycle_actions
        ):
            yield Problem(
                ("steps", step.index, "do"),
                f"nothing is partitioned at {t:g} s: no earlier partition is "
                "still in effect (a partition's `for` or a clear may have ended it)",
            )
        self.held["link"] = [h for h in self.held["link"] if h not in partitions]

    def _resume(self, step: StepBase, t: float) -> Iterator[Problem]:
        key = "pause" if step.do == "unpause" else "crash"
        nodes = self.on(step)
        hit = [
            h
            for h in self.held[key]
            if h.active(t) and (h.nodes is None or nodes is None or h.nodes & nodes)
        ]
        if not hit and key == "pause" and "pause" not in self.cycle_actions:
            yield Problem(
                ("steps", step.index, "do"),
                f"nothing to unpause at {t:g} s: no earlier pause of these nodes is "
                "still in effect (a pause's `for` unpauses by itself)",
            )
        for h in hit:
            if nodes is not None and h.nodes is not None:
                h.nodes = h.nodes - nodes
            elif nodes == set(range(self.nodes)):
                h.until = t  # every node resumes
        if step.do == "restart" and nodes is None:
            self.held["crash"] = []  # restarting hubs or a random pick: unknown

    def _crashed(self, step: StepBase, t: float) -> Iterator[Problem]:
        """Pausing or crashing nodes named by id that are still crashed."""
        if step.on is None or step.on.ids is None:
            return
        for h in self.held["crash"]:
            if not (h.active(t) and h.nodes and self.sure(h)):
                continue
            both = h.nodes & set(step.on.ids)
            if both:
                yield Problem(
                    ("steps", step.index, "on"),
                    f"{step.do} of node(s) {format_ids(both)}, which "
                    f"{h.step.label()} (line {h.step.line}) crashed at "
                    f"{h.step.at:g} s and nothing restarted by {t:g} s; restart "
                    "them first (a crash's `for`, restart, clear) or pick others",
                )

    def _overlap(self, step: StepBase, t: float) -> Iterator[Problem]:
        """Two faults of one link kind on the same links at the same time."""
        if step.do == "partition":
            return  # partitions add up; heal ends them all
        nodes, peers = self.on(step), self.peers(step)
        if not (nodes and peers):
            return
        for h in self.held["link"]:
            if h.step.do != step.do or not (h.active(t) and self.sure(h)):
                continue
            if not (h.nodes and h.peers and nodes & h.nodes and peers & h.peers):
                continue
            until = "with no end" if h.until == math.inf else f"until {h.until:g} s"
            yield Problem(
                ("steps", step.index, "on"),
                f"a second {step.do} on node(s) {format_ids(nodes & h.nodes)} while "
                f"{h.step.label()} (line {h.step.line}, at {h.step.at:g} s) holds "
                f"them {until}; end the first (`for`, clear) or pick other nodes",
            )


def timeline_problems(scenario: Scenario) -> Iterator[Problem]:
    timeline = _Timeline(scenario)
    for step in scenario.timed_steps:
        yield from timeline.step(step)
