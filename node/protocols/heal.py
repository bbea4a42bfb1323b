"""The client side of the HEAL cycle, with the real-network additions:
deadlines instead of lock-step, suspect hubs, and gossip when no hub answers.

Each cycle a client trains, pushes its model to s hubs from its hub list and
adopts the first global model that comes back within its deadline. A hub that
does not answer in time is avoided for `suspect_cycles` cycles. With no hub
left to try, the client merges with a random peer's model instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import ClassVar

from node.aggregation import average, weights_for
from node.codec import decode_model, encode_model
from node.hub import Contribution, HubRounds, RoundResult
from node.protocols.base import LearningNode
from node.transport import PeerUnavailable
from protos import heal_pb2

log = logging.getLogger("node.heal")


class HealNode(LearningNode):
    name: ClassVar[str] = "heal"
    runs_overlay: ClassVar[bool] = True

    def prepare(self) -> None:
        self.hub = HubRounds(
            self.cfg,
            self._metrics,
            self._other_hubs,
            self._send_aggregate,
            self._on_global,
        )

    @property
    def role(self) -> str:
        return "hub" if self.overlay.is_hub else "client"

    @property
    def hubs(self) -> list[int]:
        return self.overlay.hubs

    @property
    def peers(self) -> list[int]:
        return self.overlay.cache

    # The cycle

    async def step(self) -> None:
        if not self.overlay.is_hub:
            await self._client_step()

    async def _client_step(self) -> None:
        await self.train()

        targets = self.push_targets()
        adopted = await self._push(targets) if targets else False
        self.gossiping = not adopted and not targets
        if self.gossiping:
            await self._gossip()

    def push_targets(self) -> list[int]:
        hubs = [
            h
            for h in self.overlay.hubs
            if h != self.me and h not in self.suspects and h in self.overlay.addresses
        ]
        return self._rng.sample(hubs, min(self.cfg.s, len(hubs)))

    async def _push(self, targets: list[int]) -> bool:
        request = heal_pb2.PushRequest(
            sender=self.overlay.self_ref(),
            model=self.own_model(),
        )
        tasks = {
            asyncio.create_task(self._push_one(hub, request)): hub for hub in targets
        }
        adopted = False
        pending = set(tasks)
        deadline = time.monotonic() + self.cfg.global_deadline_s
        while pending and not adopted:
            done, pending = await asyncio.wait(
                pending,
                timeout=max(0.0, deadline - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not done:
                break
            for task in done:
                reply = task.result()
                if reply is None or not reply.accepted:
                    self._suspect(tasks[task])
                elif not adopted:
                    weights = decode_model(reply.global_model, self.learner.shapes)
                    self.learner.adopt(weights)
                    self._metrics.global_adopted()
                    adopted = True
        for task in pending:
            task.cancel()
            if not adopted:
                self._suspect(tasks[task])
        if not adopted:
            self._metrics.deadlines_missed.labels("client_global").inc()
        return adopted

    async def _push_one(
        self, hub: int, request: heal_pb2.PushRequest
    ) -> heal_pb2.PushReply | None:
        try:
            return await self._transport.call(
                self.overlay.addresses[hub],
                "push",
                lambda s: s.PushModel,
                request,
                self.cfg.global_deadline_s,
                reply_kind="global",
            )
        except PeerUnavailable:
            return None

    def _suspect(self, hub: int) -> None:
        self.suspects[hub] = self.cycle + self.cfg.suspect_cycles
        log.info(
            "node %d: hub %d suspect until cycle %d", self.me, hub, self.suspects[hub]
        )

    async def _gossip(self) -> None:
        peers = [p for p in self.overlay.cache if p not in self.suspects]
        if not peers:
            return
        peer = self._rng.choice(peers)
        try:
            reply = await self._transport.call(
                self.overlay.addresses[peer],
                "pull",
                lambda s: s.PullModel,
                heal_pb2.PullRequest(sender=self.overlay.self_ref()),
                self.cfg.rpc_timeout_s * 2,
                reply_kind="pull",
            )
        except PeerUnavailable:
            return
        theirs = decode_model(reply.model, self.learner.shapes)
        samples = [self.learner.samples, max(1, reply.model.samples)]
        mixed = average(
            [self.learner.weights(), theirs], weights_for(samples, self.cfg.weighting)
        )
        self.learner.adopt(mixed)

    # The hub side's hooks

    def _other_hubs(self) -> list[int]:
        if not self.overlay.is_hub:
            return []
        return [
            h for h in self.overlay.hubs if h != self.me and h in self.overlay.addresses
        ]

    async def _send_aggregate(self, hub: int, part: Contribution, number: int) -> bool:
        request = heal_pb2.AggregateRequest(
            sender=self.overlay.self_ref(),
            aggregate=encode_model(
                part.weights,
                self.learner.names,
                samples=part.samples,
                cycle=part.cycle,
                origin=self.me,
            ),
            round=number,
        )
        try:
            reply = await self._transport.call(
                self.overlay.addresses[hub],
                "aggregate",
                lambda s: s.ExchangeAggregate,
                request,
                self.cfg.exchange_timeout_s,
            )
        except PeerUnavailable:
            return False
        return bool(reply.accepted)

    def _on_global(self, result: RoundResult) -> None:
        # A node that aggregates for others while it sees itself as a client
        # keeps its own model: it is training it.
        if self.overlay.is_hub:
            self.learner.adopt(result.weights)
            self._metrics.global_adopted()

    def receive_aggregate(self, request: heal_pb2.AggregateRequest) -> None:
        self.overlay.learn([request.sender])
        self.hub.receive_aggregate(
            request.sender.id, self.contribution(request.aggregate)
        )

    async def serve_push(self, request: heal_pb2.PushRequest) -> heal_pb2.PushReply:
        return await self.serve_round(self.hub, request)
