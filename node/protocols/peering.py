"""What the serverless baselines share: models sent to random peers, an
inbox of the models peers sent, and the merge of models by averaging.

A node's peers are the nodes it knows an address of: its bootstrap peers and
every node that has sent it something since. A peer that fails to take a
model is avoided for `suspect_cycles` cycles.
"""

from __future__ import annotations

import asyncio
from collections import deque

from node.aggregation import Weighting, average, weights_for
from node.hub import Contribution, Weights
from node.protocols.base import LearningNode
from node.transport import PeerUnavailable
from protos import heal_pb2

# Models kept for the next cycle; a node that falls behind drops the oldest,
# as a merge is worth more with fresher models.
INBOX_LIMIT = 8


def merge(
    own: Contribution, received: list[Contribution], weighting: Weighting
) -> Weights:
    """The average of the own model and those received, weighted as the hubs
    weight (by sample count, or uniformly)."""
    parts = [own, *received]
    return average(
        [p.weights for p in parts],
        weights_for([p.samples for p in parts], weighting),
    )


class PeerLearning(LearningNode):
    """A protocol without aggregators: every node is a peer."""

    def prepare(self) -> None:
        self.inbox: deque[Contribution] = deque(maxlen=INBOX_LIMIT)

    def random_peers(self, k: int) -> list[int]:
        """Up to k distinct known peers, suspects left out."""
        known = sorted(
            p for p in self.overlay.addresses if p != self.me and p not in self.suspects
        )
        return self._rng.sample(known, min(k, len(known)))

    def take_inbox(self) -> list[Contribution]:
        received = list(self.inbox)
        self.inbox.clear()
        return received

    def own(self) -> Contribution:
        return Contribution(
            self.learner.weights(), self.learner.samples, self.cycle, self.me
        )

    async def send_model(self, peers: list[int]) -> int:
        """Send the current model to the peers at once; how many took it."""
        request = heal_pb2.PushRequest(
            sender=self.overlay.self_ref(), model=self.own_model()
        )
        taken = await asyncio.gather(*(self._send_one(p, request) for p in peers))
        return sum(taken)

    async def _send_one(self, peer: int, request: heal_pb2.PushRequest) -> bool:
        try:
            reply = await self._transport.call(
                self.overlay.addresses[peer],
                "push",
                lambda s: s.PushModel,
                request,
                self.cfg.rpc_timeout_s * 2,
            )
        except PeerUnavailable:
            reply = None
        if reply is None or not reply.accepted:
            self.suspects[peer] = self.cycle + self.cfg.suspect_cycles
            return False
        return True

    async def serve_push(self, request: heal_pb2.PushRequest) -> heal_pb2.PushReply:
        self.overlay.learn([request.sender])
        self.inbox.append(self.contribution(request.model))
        return heal_pb2.PushReply(accepted=True, hub_id=self.me)
