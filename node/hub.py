"""The hub side of a HEAL round: collect pushes for delta, average, exchange
with the other hubs under a deadline, and answer every pusher.

Any node that receives a push serves it, so that nodes whose hub lists
disagree for a cycle still get an answer; only nodes that see themselves as
hubs exchange aggregates with the other hubs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from node.aggregation import average, weights_for
from node.codec import encode_model
from node.config import NodeConfig
from node.metrics import NodeMetrics
from protos import heal_pb2

log = logging.getLogger("node.hub")

Weights = list[np.ndarray]


@dataclass
class Contribution:
    weights: Weights
    samples: int
    cycle: int
    origin: int


@dataclass
class RoundResult:
    weights: Weights
    samples: int
    cycle: int
    participants: int
    _message: heal_pb2.Model | None = field(default=None, repr=False)

    def encoded(self, names: list[str], origin: int) -> heal_pb2.Model:
        """The wire form, made once and shared by every reply of the round."""
        if self._message is None:
            self._message = encode_model(
                self.weights,
                names,
                samples=self.samples,
                cycle=self.cycle,
                origin=origin,
            )
        return self._message


@dataclass
class _Round:
    number: int
    opened: float
    pushes: list[Contribution] = field(default_factory=list)
    done: asyncio.Future[RoundResult | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass
class _Inbound:
    aggregate: Contribution
    received: float
    used: bool = False


# send_aggregate(hub_id, contribution, round) -> True when the hub took it
SendAggregate = Callable[[int, Contribution, int], Awaitable[bool]]


class HubRounds:
    def __init__(
        self,
        config: NodeConfig,
        metrics: NodeMetrics,
        other_hubs: Callable[[], list[int]],
        send_aggregate: SendAggregate,
        on_global: Callable[[RoundResult], None],
    ) -> None:
        self.cfg = config
        self._metrics = metrics
        self._other_hubs = other_hubs
        self._send = send_aggregate
        self._on_global = on_global
        self._round: _Round | None = None
        self._rounds = 0
        self._inbox: dict[int, _Inbound] = {}
        self._arrived = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def push(self, contribution: Contribution) -> RoundResult | None:
        """Join the open round (opening one if none) and wait for its result."""
        if self._round is None:
            self._rounds += 1
            self._round = _Round(self._rounds, time.monotonic())
            task = asyncio.create_task(self._close_after_delta(self._round))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        current = self._round
        current.pushes.append(contribution)
        return await asyncio.shield(current.done)

    def receive_aggregate(self, sender: int, aggregate: Contribution) -> None:
        self._inbox[sender] = _Inbound(aggregate, time.monotonic())
        self._arrived.set()

    async def _close_after_delta(self, current: _Round) -> None:
        await asyncio.sleep(self.cfg.delta_s)
        self._round = None
        try:
            result = await self._finish(current)
        except Exception:
            # The pushers get accepted=False and suspect nobody for a bug here.
            log.exception("hub round %d failed", current.number)
            current.done.set_result(None)
            return
        current.done.set_result(result)

    async def _finish(self, current: _Round) -> RoundResult:
        pushes = current.pushes
        weights = weights_for([p.samples for p in pushes], self.cfg.weighting)
        own = Contribution(
            average([p.weights for p in pushes], weights),
            sum(p.samples for p in pushes),
            max(p.cycle for p in pushes),
            self.cfg.node_id,
        )
        self._metrics.aggregation_models.set(len(pushes))

        # Exchange with the other hubs; wait only for those that took ours.
        hubs = self._other_hubs()
        sent = await asyncio.gather(*(self._send(h, own, current.number) for h in hubs))
        expected = {h for h, ok in zip(hubs, sent, strict=True) if ok}
        horizon = current.opened - self.cfg.delta_s
        received = await self._collect(expected, horizon)

        parts = [own, *received]
        mixed = average(
            [p.weights for p in parts],
            weights_for([p.samples for p in parts], self.cfg.weighting),
        )
        self._metrics.aggregation_hubs.set(len(parts))
        self._metrics.rounds.inc()
        result = RoundResult(
            mixed,
            sum(p.samples for p in parts),
            max(p.cycle for p in parts),
            len(pushes),
        )
        self._on_global(result)
        return result

    async def _collect(self, expected: set[int], horizon: float) -> list[Contribution]:
        deadline = time.monotonic() + self.cfg.exchange_timeout_s

        def fresh() -> dict[int, _Inbound]:
            return {
                h: msg
                for h, msg in self._inbox.items()
                if h in expected and not msg.used and msg.received >= horizon
            }

        while len(fresh()) < len(expected):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._metrics.deadlines_missed.labels("hub_exchange").inc()
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                continue
        got = fresh()
        for msg in got.values():
            msg.used = True
        return [msg.aggregate for msg in got.values()]
