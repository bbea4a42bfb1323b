"""Gossip learning (Ormandi, Hegedus, Jelasity 2013), merge then update.

Each cycle a node sends its model to one random peer. Each model that
arrived since the last cycle is merged into the node's own (averaged), and
the merged model is then trained on the local shard: a node learns once per
model it receives, none when nothing came.
"""

from __future__ import annotations

from typing import ClassVar

from node.protocols.peering import PeerLearning, merge


class GossipNode(PeerLearning):
    name: ClassVar[str] = "gossip"

    async def step(self) -> None:
        await self.send_model(self.random_peers(1))
        for received in self.take_inbox():
            self.learner.adopt(merge(self.own(), [received], self.cfg.weighting))
            await self.train()
