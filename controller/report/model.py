"""What a report is made from: one run's observations and fault windows, on
one clock (seconds since the run started).

The event log is one source of a RunData (events.py); Prometheus is the
other (prom.py), which fills the same fields and adds per-node series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from controller.report.pernode import PerNode


@dataclass(frozen=True)
class Observation:
    t_s: float  # since the run started
    alive: int
    healthy: int | None
    mean_accuracy: float | None
    min_accuracy: float | None
    max_accuracy: float | None
    agreement: float  # share of live nodes that hold the majority hub list
    hubs: tuple[int, ...]  # the majority hub list
    cycle: int | None  # median learning cycle

    @property
    def spread(self) -> float | None:
        if self.min_accuracy is None or self.max_accuracy is None:
            return None
        return self.max_accuracy - self.min_accuracy


@dataclass(frozen=True)
class FaultWindow:
    """A fault from applied to cleared; churn from its first to last event."""

    fault_id: str
    kind: str
    step: str | None
    applied_s: float
    cleared_s: float | None  # None: still in force when the log ends
    targets: tuple[int, ...]
    mechanisms: dict[str, list[int]]
    peers: tuple[int, ...] | None = None
    groups: tuple[tuple[int, ...], ...] | None = None
    took_s: float | None = None
    cleared_by: str | None = None  # the scenario step that undid it


@dataclass(frozen=True)
class NodeChange:
    """A node going down (crash, churn leave) or up (clear, restart, join)."""

    t_s: float
    node: int
    up: bool
    cause: str  # "crash", "leave", "join", "restart", "cleared"


@dataclass(frozen=True)
class Disturbance:
    """A moment from which recovery is timed."""

    label: str  # fault id, or the step that cleared faults
    kind: str  # the fault kind (of the cleared fault, for "cleared")
    action: Literal["applied", "cleared"]
    at_s: float


@dataclass
class RunData:
    source: Path | str  # the event log, or the URL the observations came from
    scenario: dict[str, Any] | None  # the scenario_started record
    finished: dict[str, Any] | None  # the scenario_finished record
    end_s: float  # the last moment the log covers
    observations: list[Observation]
    faults: list[FaultWindow]
    changes: list[NodeChange]
    disturbances: list[Disturbance]
    step_failures: list[dict[str, Any]] = field(default_factory=list)
    runner_recovery: list[dict[str, Any]] = field(default_factory=list)
    runs_in_log: int = 1
    per_node: PerNode | None = None  # only from a metrics store
    testbed: str | None = None
    notes: list[str] = field(default_factory=list)  # about where data came from
    origin: str | None = None  # what t = 0 is, when no scenario started the run
    # The cycle lengths the nodes were given, for a life with no scenario
    # record to say them.
    node_periods: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        if self.scenario:
            return str(self.scenario["scenario"])
        return self.testbed or "(no scenario)"

    @property
    def clock(self) -> str:
        """What t = 0 is."""
        if self.scenario:
            return "scenario start"
        return self.origin or "the first logged event"

    def period(self, key: str) -> float | None:
        value = (self.scenario or {}).get(key, self.node_periods.get(key))
        return float(value) if isinstance(value, int | float) and value > 0 else None

    @property
    def observe_period_s(self) -> float | None:
        """The observation period the runner kept to on average. The log does
        not say it, and single gaps vary: observations missed while a step
        ran are made up for at once, one after another."""
        times = [o.t_s for o in self.observations]
        if len(times) < 2:
            return None
        return (times[-1] - times[0]) / (len(times) - 1)

    def down_at(self, t_s: float) -> set[int]:
        """Nodes known to be down at t_s, from the faults and churn logged."""
        down: set[int] = set()
        for change in self.changes:
            if change.t_s > t_s:
                break
            if change.up:
                down.discard(change.node)
            else:
                down.add(change.node)
        return down
