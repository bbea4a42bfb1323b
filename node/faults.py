"""In-node link faults: the rule set in force and what it does to a message.

They act on messages, as tc acts on packets of an interface:
- EGRESS rules act on what this node sends: its requests to peers (in
  Transport.call) and its replies to callers (in LinkFaultInterceptor).
- INGRESS rules act on requests arriving from peers, before the handler
  sees them. Replies to this node's own requests do not pass its ingress
  rules; the peer's egress rules already shaped them.
- Peers are known by address: every call between nodes carries the
  caller's advertised host:port in metadata PEER_METADATA. Calls without it
  (the controller's) are never affected.
- Of the rules that match a message: any one may lose it; rate limiters
  queue it one after the other; then the delays of all of them add up.
- A lost message is seen by nobody: the caller waits out its deadline.

Draws come from one seeded generator, so a run repeats as far as the order
of messages repeats.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from node.faults_describe import describe
from node.faults_rules import FaultError, Rule, check_rule
from protos import heal_pb2

__all__ = ["EGRESS", "INGRESS", "PEER_METADATA", "Fate", "FaultError", "LinkFaults"]

log = logging.getLogger("node.faults")

PEER_METADATA = "heal-from"
EGRESS = heal_pb2.LinkRule.EGRESS
INGRESS = heal_pb2.LinkRule.INGRESS
# How long the server holds a lost message of a caller without a deadline.
_NO_DEADLINE_HOLD_S = 3600.0


@dataclass(frozen=True)
class Fate:
    """What the network does to one message."""

    lost: bool = False
    wait_s: float = 0.0  # rate-limiter queue plus delay
    duplicate: bool = False

    async def hold(self, deadline_s: float | None) -> bool:
        """Keep the message as long as the network would; False (once the
        deadline has passed) when it does not arrive before deadline_s."""
        wait_out = _NO_DEADLINE_HOLD_S if deadline_s is None else deadline_s
        if self.lost or self.wait_s >= wait_out:
            await asyncio.sleep(wait_out)
            return False
        if self.wait_s > 0:
            await asyncio.sleep(self.wait_s)
        return True


UNTOUCHED = Fate()


class LinkFaults:
    """The rule set in force, with counters of what it did:
    counts[(direction, effect)] for effect in dropped, delayed, throttled
    (queued by a rate limiter) and duplicated."""

    def __init__(
        self, rng: random.Random, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rng = rng
        self._clock = clock
        self._set = heal_pb2.LinkFaultSet()
        self._rules: list[Rule] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.held_s: defaultdict[str, float] = defaultdict(float)  # by direction

    def replace(self, new: heal_pb2.LinkFaultSet) -> heal_pb2.LinkFaultSet:
        """Put a whole new rule set in force, or none if one rule is invalid;
        return the set now in force. Gilbert-Elliott states and rate queues
        start afresh, unless the set is the one in force already."""
        for i, rule in enumerate(new.rules):
            check_rule(rule, f"rules[{i}]")
        if new == self._set:
            log.debug("link faults unchanged: %s", describe(new))
            return self.current()
        self._set = heal_pb2.LinkFaultSet()
        self._set.CopyFrom(new)
        self._rules = [Rule(spec, self._rng) for spec in self._set.rules]
        log.info("link faults: %s", describe(self._set))
        return self.current()

    def current(self) -> heal_pb2.LinkFaultSet:
        copy = heal_pb2.LinkFaultSet()
        copy.CopyFrom(self._set)
        return copy

    def fate(self, direction: int, peer: str, nbytes: int, reply: bool = False) -> Fate:
        """Draw the fate of a message of nbytes to or from peer. A duplicated
        reply would be ignored by the caller, so replies are not duplicated."""
        rules = [r for r in self._rules if r.matches(direction, peer)]
        if not rules:
            return UNTOUCHED
        name = heal_pb2.LinkRule.Direction.Name(direction).lower()

        # Every rule draws, so that each Gilbert-Elliott state moves.
        if any([r.lost() for r in rules]):
            self.counts[name, "dropped"] += 1
            log.debug("%s message of %d bytes, peer %s: lost", name, nbytes, peer)
            return Fate(lost=True)
        now = ready = self._clock()
        for rule in rules:
            ready += rule.queue_s(nbytes, ready)
        delay_s = sum(r.delay_s() for r in rules)
        duplicate = not reply and any([r.duplicated() for r in rules])

        fate = Fate(wait_s=ready - now + delay_s, duplicate=duplicate)
        for effect, happened in (
            ("throttled", ready > now),
            ("delayed", delay_s > 0),
            ("duplicated", duplicate),
        ):
            if happened:
                self.counts[name, effect] += 1
        self.held_s[name] += fate.wait_s
        log.debug("%s message of %d bytes, peer %s: %s", name, nbytes, peer, fate)
        return fate
