"""Epidemic learning (de Vos et al., NeurIPS 2023).

Each cycle a node trains on its shard, sends the trained model to `s` random
peers, and then averages its model with every model that arrived since the
last cycle. Models sent by others during this cycle's own send are merged in
the next one.
"""

from __future__ import annotations

from typing import ClassVar

from node.protocols.peering import PeerLearning, merge


class EpidemicNode(PeerLearning):
    name: ClassVar[str] = "epidemic"

    async def step(self) -> None:
        await self.train()
        await self.send_model(self.random_peers(self.cfg.s))
        received = self.take_inbox()
        if received:
            self.learner.adopt(merge(self.own(), received, self.cfg.weighting))
