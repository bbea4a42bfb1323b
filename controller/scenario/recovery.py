"""Recovery after a fault, from the runner's periodic observations: when the
hubs re-formed and agreed, how deep accuracy fell, when it came back.

An observation is what the runner saw at one moment; a Recovery follows one
fault event from the moment it was applied. Accuracy counts as back when,
having fallen more than TOLERANCE below its pre-fault level, it first rises
to within TOLERANCE again; if it never fell that far, it was never away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

AGREEMENT = 0.9  # share of live nodes that must see the same hub list
TOLERANCE = 0.01  # accuracy "back" = within this of the pre-fault level
BASELINE_OBSERVATIONS = 3  # averaged for the pre-fault accuracy


@dataclass(frozen=True)
class Observation:
    t_s: float  # since the scenario started
    alive: int
    mean_accuracy: float | None
    agreement: float
    hubs: tuple[int, ...]
    live_ids: frozenset[int]
    cycle: int | None  # median learning cycle of the nodes that answered


def baseline(history: list[Observation]) -> float | None:
    accs = [o.mean_accuracy for o in history if o.mean_accuracy is not None]
    recent = accs[-BASELINE_OBSERVATIONS:]
    return sum(recent) / len(recent) if recent else None


@dataclass
class Recovery:
    fault_id: str
    kind: str
    at_s: float
    pre_accuracy: float | None
    pre_hubs: tuple[int, ...]
    pre_cycle: int | None
    hubs_s: float | None = None  # time from the fault to agreeing hubs
    hubs_after: tuple[int, ...] = ()
    min_accuracy: float | None = None
    dipped_s: float | None = None  # first fell below the pre-fault level
    back_s: float | None = None  # time from the fault to accuracy back
    back_cycles: int | None = None
    seen: list[Observation] = field(default_factory=list)

    @classmethod
    def start(
        cls, fault_id: str, kind: str, at_s: float, history: list[Observation]
    ) -> Recovery:
        last = history[-1] if history else None
        return cls(
            fault_id,
            kind,
            at_s,
            baseline(history),
            last.hubs if last else (),
            last.cycle if last else None,
        )

    @property
    def done(self) -> bool:
        return self.hubs_s is not None and (
            self.back_s is not None or self.pre_accuracy is None
        )

    def observe(self, obs: Observation) -> None:
        if obs.t_s < self.at_s or self.done:
            return
        self.seen.append(obs)
        acc = obs.mean_accuracy
        if acc is not None and (self.min_accuracy is None or acc < self.min_accuracy):
            self.min_accuracy = acc
        if self.hubs_s is None and _hubs_formed(obs):
            self.hubs_s = obs.t_s - self.at_s
            self.hubs_after = obs.hubs
        if self.back_s is not None or self.pre_accuracy is None or acc is None:
            return
        low = acc < self.pre_accuracy - TOLERANCE
        if low and self.dipped_s is None:
            self.dipped_s = obs.t_s - self.at_s
        elif not low and self.dipped_s is not None:
            self.back_s = obs.t_s - self.at_s
            if obs.cycle is not None and self.pre_cycle is not None:
                self.back_cycles = obs.cycle - self.pre_cycle

    def summary(self, overlay_period_s: float | None) -> dict[str, Any]:
        depth = None
        if self.pre_accuracy is not None and self.min_accuracy is not None:
            depth = max(0.0, self.pre_accuracy - self.min_accuracy)
        hub_cycles = None
        if self.hubs_s is not None and overlay_period_s:
            hub_cycles = round(self.hubs_s / overlay_period_s, 2)
        return {
            "fault_id": self.fault_id,
            "kind": self.kind,
            "at_s": round(self.at_s, 3),
            "pre_accuracy": _r(self.pre_accuracy),
            "pre_hubs": list(self.pre_hubs),
            "hubs_after": list(self.hubs_after),
            "hubs_agree_s": _r(self.hubs_s),
            "hubs_agree_overlay_cycles": hub_cycles,
            "min_accuracy": _r(self.min_accuracy),
            "dip": _r(depth),
            "dipped_at_s": _r(self.dipped_s),
            # No dip below the tolerance: back at once.
            "back_within_s": 0.0 if self.dipped_s is None else _r(self.back_s),
            "back_within_cycles": self.back_cycles,
            "tolerance": TOLERANCE,
        }


def _hubs_formed(obs: Observation) -> bool:
    return (
        bool(obs.hubs)
        and obs.agreement >= AGREEMENT
        and all(h in obs.live_ids for h in obs.hubs)
    )


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
