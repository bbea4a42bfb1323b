"""One in-node link rule: its validation, and the draws it makes per message.

Where this approximates netem (said once, here):
- Jitter scales a standardised shape, not netem's tables: uniform on
  [-1, 1] (jitter is the half-width, as in netem), and with mean 0 and
  standard deviation 1 (jitter is sigma): normal; Pareto with alpha 3,
  shifted and scaled; paretonormal, a 1:3 mix of the two. A delay below
  zero is clamped to zero.
- No correlation between consecutive draws.
- The rate limiter is a token bucket without burst: messages pass one after
  the other, each taking size * 8 / rate.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from protos import heal_pb2

MAX_DELAY_MS = 600_000.0
MAX_RATE_KBIT = 10_000_000.0
_PCT_FIELDS = (
    "loss_pct",
    "ge_p_pct",
    "ge_r_pct",
    "ge_bad_loss_pct",
    "ge_good_loss_pct",
    "duplicate_pct",
    "reorder_pct",
)


class FaultError(ValueError):
    """A link rule or a probe request is invalid; the message names the field,
    the value given and what is allowed."""


def _uniform(rng: random.Random) -> float:
    return rng.uniform(-1.0, 1.0)


def _normal(rng: random.Random) -> float:
    return rng.gauss(0.0, 1.0)


def _pareto(rng: random.Random) -> float:
    # Pareto(alpha=3, scale 1) has mean 1.5 and standard deviation sqrt(3)/2.
    return (rng.paretovariate(3.0) - 1.5) / (math.sqrt(3) / 2)


def _paretonormal(rng: random.Random) -> float:
    # Two independent unit shapes, weighted 1:3, have sigma sqrt(0.625).
    return (0.25 * _normal(rng) + 0.75 * _pareto(rng)) / math.sqrt(0.625)


SPREADS: dict[str, Callable[[random.Random], float]] = {
    "uniform": _uniform,
    "normal": _normal,
    "pareto": _pareto,
    "paretonormal": _paretonormal,
}


def check_rule(rule: heal_pb2.LinkRule, where: str) -> None:
    """Raise FaultError naming the first bad field of rule (at `where`)."""
    if rule.direction not in heal_pb2.LinkRule.Direction.values():
        raise FaultError(
            f"{where}.direction: {rule.direction} is not EGRESS (0) or INGRESS (1)"
        )
    for name in _PCT_FIELDS:
        value = getattr(rule, name)
        if not 0 <= value <= 100:
            raise FaultError(f"{where}.{name}: {value:g} is not within 0..100 (%)")
    for name, ceiling in (
        ("delay_ms", MAX_DELAY_MS),
        ("jitter_ms", MAX_DELAY_MS),
        ("rate_kbit", MAX_RATE_KBIT),
    ):
        value = getattr(rule, name)
        if not 0 <= value <= ceiling:
            raise FaultError(
                f"{where}.{name}: {value:g} is not within 0..{ceiling:.0f}"
            )
    if rule.distribution and rule.distribution not in SPREADS:
        raise FaultError(
            f"{where}.distribution: '{rule.distribution}' is not one of "
            f"{', '.join(SPREADS)} (empty means uniform)"
        )
    if rule.direction == heal_pb2.LinkRule.INGRESS and rule.duplicate_pct > 0:
        raise FaultError(
            f"{where}.duplicate_pct: only EGRESS rules duplicate (a node "
            "duplicates the requests it sends)"
        )
    for i, peer in enumerate(rule.peers):
        host, _, port = peer.rpartition(":")
        if not host or not port.isdigit():
            raise FaultError(f"{where}.peers[{i}]: '{peer}' is not host:port")


class Rule:
    """A validated LinkRule and the state it keeps between messages: its
    Gilbert-Elliott state and when its rate limiter is next free."""

    def __init__(self, spec: heal_pb2.LinkRule, rng: random.Random) -> None:
        self.spec = spec
        self._peers = frozenset(spec.peers)
        self._spread = SPREADS[spec.distribution or "uniform"]
        self._rng = rng
        self._bad = False
        self._free_at = 0.0  # clock seconds

    def matches(self, direction: int, peer: str) -> bool:
        return self.spec.direction == direction and (
            not self._peers or peer in self._peers
        )

    def _chance(self, pct: float) -> bool:
        return pct > 0 and self._rng.random() * 100 < pct

    def lost(self) -> bool:
        spec = self.spec
        if spec.drop:
            return True
        lost = self._chance(spec.loss_pct)
        if spec.ge_p_pct > 0:
            lost = self._gilbert_elliott() or lost
        return lost

    def _gilbert_elliott(self) -> bool:
        """Lose by the current state's loss rate, then maybe change state; a
        bad spell lasts 1/r messages on average."""
        spec = self.spec
        if self._bad:
            lost = self._chance(spec.ge_bad_loss_pct)
            self._bad = not self._chance(spec.ge_r_pct)
        else:
            lost = self._chance(spec.ge_good_loss_pct)
            self._bad = self._chance(spec.ge_p_pct)
        return lost

    def duplicated(self) -> bool:
        return self._chance(self.spec.duplicate_pct)

    def delay_s(self) -> float:
        spec = self.spec
        if spec.delay_ms == 0 and spec.jitter_ms == 0:
            return 0.0
        if self._chance(spec.reorder_pct):
            return 0.0
        delay_ms = spec.delay_ms + spec.jitter_ms * self._spread(self._rng)
        return max(0.0, delay_ms) / 1000

    def queue_s(self, nbytes: int, now: float) -> float:
        """Seconds from now until a message of nbytes, arriving now, has
        passed the rate limiter (0 without a rate); reserves its turn."""
        if self.spec.rate_kbit <= 0:
            return 0.0
        start = max(now, self._free_at)
        self._free_at = start + nbytes * 8 / (self.spec.rate_kbit * 1000)
        return self._free_at - now
