"""Federated averaging with one server: the reference a decentralized
protocol is measured against, and a single point of failure by design.

Each cycle a client trains from the last global model, pushes the result to
the server and adopts the global model that comes back. The server (node
`server_id`) does not train: it collects the pushes that arrive within
delta, averages them weighted by sample count, and answers every pusher.
When no global model comes back, the client goes back to the last one it
had: without its server the federation stops learning.
"""

from __future__ import annotations

from typing import ClassVar

from node.codec import decode_model
from node.config import ConfigError
from node.hub import Contribution, HubRounds, RoundResult
from node.protocols.base import LearningNode
from node.transport import PeerUnavailable
from protos import heal_pb2


class FedAvgNode(LearningNode):
    name: ClassVar[str] = "fedavg"

    def prepare(self) -> None:
        self.server = self.cfg.server_id
        self.is_server = self.me == self.server
        if not self.is_server and self.server not in self.overlay.addresses:
            raise ConfigError(
                f"server_id {self.server}: node {self.me} has no address for it; "
                "the server must be among the peers of every fedavg client"
            )
        self.rounds = HubRounds(
            self.cfg, self._metrics, list, self._no_exchange, self._on_global
        )
        self._metrics.is_hub.set(1 if self.is_server else 0)
        self._metrics.set_hubs([self.server])

    @property
    def role(self) -> str:
        return "server" if self.is_server else "client"

    @property
    def hubs(self) -> list[int]:
        return [self.server]

    async def step(self) -> None:
        if self.is_server:
            return
        last_global = self.learner.weights()
        await self.train()
        reply = await self._push()
        if reply is not None and reply.accepted:
            self.learner.adopt(decode_model(reply.global_model, self.learner.shapes))
            self._metrics.global_adopted()
            return
        self.learner.adopt(last_global)
        self._metrics.deadlines_missed.labels("client_global").inc()
        self.suspects[self.server] = self.cycle + self.cfg.suspect_cycles

    async def _push(self) -> heal_pb2.PushReply | None:
        request = heal_pb2.PushRequest(
            sender=self.overlay.self_ref(), model=self.own_model()
        )
        try:
            return await self._transport.call(
                self.overlay.addresses[self.server],
                "push",
                lambda s: s.PushModel,
                request,
                self.cfg.global_deadline_s,
                reply_kind="global",
            )
        except PeerUnavailable:
            return None

    # The server side

    async def serve_push(self, request: heal_pb2.PushRequest) -> heal_pb2.PushReply:
        if not self.is_server:
            return heal_pb2.PushReply(accepted=False, hub_id=self.me)
        return await self.serve_round(self.rounds, request)

    def _on_global(self, result: RoundResult) -> None:
        self.learner.adopt(result.weights)
        self._metrics.global_adopted()

    async def _no_exchange(self, hub: int, part: Contribution, number: int) -> bool:
        return False  # one server: there is no other aggregator to send to
