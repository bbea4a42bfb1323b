"""What every learning protocol of a node shares: the paced cycle, training
and evaluation with their metrics, the model on the wire, and what the node
says of itself in its status.

A protocol subclasses LearningNode, names itself, sets up its own state in
`prepare`, and gives `step` (its part of one cycle) and, when peers send it
models, `serve_push`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import ClassVar

from node.codec import decode_model, encode_model
from node.config import NodeConfig
from node.elevator import Elevator
from node.hub import Contribution, HubRounds
from node.learner import Learner
from node.metrics import NodeMetrics
from node.pacing import every
from node.transport import Transport
from protos import heal_pb2


class LearningNode:
    name: ClassVar[str]
    # Whether the Elevator overlay cycle runs beside the protocol. The
    # baselines leave it idle, so that its messages do not count for them.
    runs_overlay: ClassVar[bool] = False

    def __init__(
        self,
        config: NodeConfig,
        elevator: Elevator,
        transport: Transport,
        learner: Learner,
        metrics: NodeMetrics,
        rng: random.Random,
    ) -> None:
        self.cfg = config
        self.me = config.node_id
        self.overlay = elevator
        self.learner = learner
        self._transport = transport
        self._metrics = metrics
        self._rng = rng
        self.log = logging.getLogger(f"node.{self.name}")
        self.cycle = 0
        self.accuracy = -1.0
        self.loss = -1.0
        self.suspects: dict[int, int] = {}  # peer id -> cycle until which avoided
        self.gossiping = False
        self.prepare()

    def prepare(self) -> None:
        """A protocol's own state, set up once the shared state is there."""

    # What the status reply says

    @property
    def role(self) -> str:
        return "peer"

    @property
    def hubs(self) -> list[int]:
        """The nodes that aggregate for others, as this node sees them."""
        return []

    @property
    def peers(self) -> list[int]:
        """The peers this node knows and may send to."""
        return sorted(self.overlay.addresses)

    # The cycle

    async def run(self, stop: asyncio.Event) -> None:
        period = self.cfg.cycle_period_s
        await every(period, stop, self.run_cycle, self.log, "learning cycle")

    async def run_cycle(self) -> None:
        self.cycle += 1
        self.suspects = {p: c for p, c in self.suspects.items() if c >= self.cycle}
        await self.step()
        await self.record()

    async def step(self) -> None:
        raise NotImplementedError

    async def record(self) -> None:
        """Evaluate the current model and publish the cycle's figures."""
        self.accuracy, self.loss = await self.learner.evaluate()
        m = self._metrics
        m.cycle.set(self.cycle)
        m.accuracy.set(self.accuracy)
        m.loss.set(self.loss)
        m.train_seconds.inc(0)  # keep the series present before the first step
        m.gossip_fallback.set(1 if self.gossiping else 0)
        if self.cycle % 10 == 0:
            self.log.info(
                "node %d cycle %d: %s, accuracy %.3f, hubs %s",
                self.me,
                self.cycle,
                self.role,
                self.accuracy,
                self.hubs,
            )

    async def train(self) -> None:
        before = self.learner.train_seconds
        await self.learner.train(self.cfg.local_steps)
        self._metrics.train_seconds.inc(self.learner.train_seconds - before)

    # Models on the wire

    def own_model(self) -> heal_pb2.Model:
        return encode_model(
            self.learner.weights(),
            self.learner.names,
            samples=self.learner.samples,
            cycle=self.cycle,
            origin=self.me,
        )

    def contribution(self, model: heal_pb2.Model) -> Contribution:
        """A received model, decoded; a sample count of 0 still weighs 1."""
        return Contribution(
            decode_model(model, self.learner.shapes),
            max(1, model.samples),
            model.cycle,
            model.origin,
        )

    async def serve_round(
        self, rounds: HubRounds, request: heal_pb2.PushRequest
    ) -> heal_pb2.PushReply:
        """Join the aggregator's open round and answer with its result."""
        self.overlay.learn([request.sender])
        result = await rounds.push(self.contribution(request.model))
        if result is None:
            return heal_pb2.PushReply(accepted=False, hub_id=self.me)
        return heal_pb2.PushReply(
            accepted=True,
            global_model=result.encoded(self.learner.names, self.me),
            hub_id=self.me,
            participants=result.participants,
        )

    # What peers send; a protocol that takes none refuses

    async def serve_push(self, request: heal_pb2.PushRequest) -> heal_pb2.PushReply:
        return heal_pb2.PushReply(accepted=False, hub_id=self.me)

    def receive_aggregate(self, request: heal_pb2.AggregateRequest) -> None:
        self.log.debug(
            "node %d ignores an aggregate from %d", self.me, request.sender.id
        )
