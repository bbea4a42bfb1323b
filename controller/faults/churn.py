"""Churn: nodes leave and fresh nodes join, each as a Poisson process.

The whole schedule is drawn up front from the seed, so a scenario repeats;
which node leaves is drawn when it happens, from the nodes alive then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChurnEvent:
    at_s: float  # from the start of the churn
    action: str  # "leave" or "join"


def schedule(
    leave_per_min: float, join_per_min: float, duration_s: float, seed: int
) -> list[ChurnEvent]:
    """Arrival times of both processes within duration_s, in order."""
    rng = random.Random(seed)
    events = []
    for action, per_min in (("leave", leave_per_min), ("join", join_per_min)):
        if per_min <= 0:
            continue
        t = rng.expovariate(per_min / 60)
        while t < duration_s:
            events.append(ChurnEvent(round(t, 3), action))
            t += rng.expovariate(per_min / 60)
    return sorted(events, key=lambda e: (e.at_s, e.action))


@dataclass
class Churn:
    """Where a running churn is: the events still to come and the shards of
    nodes that left, which joiners take over so the data stays the same."""

    events: list[ChurnEvent]
    rng: random.Random
    started: float
    fault_id: str = "churn"
    free_shards: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)
    joined: list[int] = field(default_factory=list)

    def due(self, now: float) -> list[ChurnEvent]:
        ready = [e for e in self.events if self.started + e.at_s <= now]
        self.events = self.events[len(ready) :]
        return ready

    def leaves_left(self) -> int:
        return sum(e.action == "leave" for e in self.events)

    def pick_leaver(self, alive: list[int]) -> int | None:
        return self.rng.choice(sorted(alive)) if alive else None

    def take_shard(self, shards: int) -> int:
        if self.free_shards:
            return self.free_shards.pop(0)
        return self.rng.randrange(shards)
