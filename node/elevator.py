"""Elevator: the self-organizing overlay in which h hubs emerge.

Each overlay cycle a node asks its cache for their caches, ranks the 2-hop
neighbourhood by how often each node appears, keeps the h most frequent as
the first cache slots (the hubs) and fills the rest from a random sample of
the preferred nodes' backward lists. Peers that do not answer are dropped and
kept out for `dead_memory_cycles` cycles, so stale answers cannot bring them
back at once; this is the overlay's only failure detector.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from node.config import NodeConfig
from node.metrics import NodeMetrics
from node.pacing import every
from node.transport import PeerUnavailable, Transport
from protos import heal_pb2

log = logging.getLogger("node.elevator")

T = TypeVar("T")


def rank(answers: Iterable[list[int]], h: int, exclude: set[int], me: int) -> list[int]:
    """Node ids by how many answered caches hold them, most first.

    Ties go to the node held in more answers' first h slots (their hubs),
    then to the smallest id. With standby slots every cache holds the same
    top nodes, so the hub-slot count is what keeps today's hubs ahead of
    their standbys, the same way at every node.

    A node never appears in its own answer, so a node in my cache can be
    counted at most c - 1 times while I, asking others, can be counted c
    times. One is taken off my own counts so that I rank myself as the
    others rank me.
    """
    counts: Counter[int] = Counter()
    votes: Counter[int] = Counter()
    for answer in answers:
        counts.update(i for i in answer if i not in exclude)
        votes.update(i for i in answer[:h] if i not in exclude)
    for counter in (counts, votes):
        if counter.get(me):
            counter[me] -= 1
    return sorted(counts, key=lambda i: (-counts[i], -votes[i], i))


def compose_cache(
    preferred: list[int], sample: list[int], c: int, fixed: int, ranking: list[int]
) -> list[int]:
    """The first `fixed` preferred, then the rest from the backward sample,
    topped up from the ranking when short. preferred and ranking must
    exclude self."""
    cache = list(preferred[:fixed])
    chosen = set(cache)
    for source in (sample, preferred[fixed:], ranking):
        for peer in source:
            if len(cache) >= c:
                return cache
            if peer not in chosen:
                cache.append(peer)
                chosen.add(peer)
    return cache


class Elevator:
    def __init__(
        self,
        config: NodeConfig,
        transport: Transport,
        metrics: NodeMetrics,
        rng: random.Random,
    ) -> None:
        self.cfg = config
        self.me = config.node_id
        self._transport = transport
        self._metrics = metrics
        self._rng = rng
        self.addresses: dict[int, str] = {p.id: p.address for p in config.peers}
        self._bootstrap = [p.id for p in config.peers][: config.c]
        self.cache: list[int] = list(self._bootstrap)
        self.backward: dict[int, float] = {}  # asker id -> monotonic time seen
        self.hubs: list[int] = []
        self.cycle = 0
        self._dead: dict[int, int] = {}  # id -> cycle until which it stays out
        self.changed = asyncio.Event()  # set whenever the hub list changes

    @property
    def is_hub(self) -> bool:
        return self.me in self.hubs

    def peer_ref(self, node_id: int) -> heal_pb2.PeerRef:
        return heal_pb2.PeerRef(id=node_id, address=self.addresses[node_id])

    def self_ref(self) -> heal_pb2.PeerRef:
        return heal_pb2.PeerRef(id=self.me, address=self.cfg.address)

    def learn(self, refs: Iterable[heal_pb2.PeerRef]) -> list[int]:
        ids = []
        for ref in refs:
            if ref.id != self.me and ref.address:
                self.addresses[ref.id] = ref.address
            ids.append(ref.id)
        return ids

    def mark_dead(self, node_id: int) -> None:
        self._dead[node_id] = self.cycle + self.cfg.dead_memory_cycles
        if node_id in self.cache:
            self.cache.remove(node_id)
        self.backward.pop(node_id, None)

    # Answering

    def answer_cache(self, asker: heal_pb2.PeerRef) -> list[heal_pb2.PeerRef]:
        self.learn([asker])
        self.backward[asker.id] = time.monotonic()
        self._dead.pop(asker.id, None)  # it is evidently alive
        return [self.peer_ref(i) for i in self.cache]

    def answer_cache_request(
        self, request: heal_pb2.CacheRequest
    ) -> heal_pb2.CacheReply:
        cache = self.answer_cache(request.sender)
        backward = self.answer_backward(request.backward_max, request.sender.id)
        return heal_pb2.CacheReply(cache=cache, backward=backward)

    def answer_backward(self, limit: int, asker: int = -1) -> list[heal_pb2.PeerRef]:
        """Up to limit random entries of the backward list, the asker left out."""
        limit = min(limit, self.cfg.backward_sample)
        if limit <= 0:
            return []
        ids = [i for i in self.backward if i != asker]
        chosen = self._rng.sample(ids, min(limit, len(ids)))
        return [self.peer_ref(i) for i in chosen]

    # The cycle

    async def run(self, stop: asyncio.Event) -> None:
        period = self.cfg.overlay_period_s
        await every(period, stop, self.run_cycle, log, "overlay cycle")

    async def run_cycle(self) -> None:
        self.cycle += 1
        self._forget_expired()
        if not self.cache:
            self.cache = [i for i in self._bootstrap if i not in self._dead]

        # 1-2. Ask every cached peer for its cache (and a backward sample,
        # kept for step 4); silent ones are dropped. One known peer outside
        # the cache is asked too: after a partition heals, neither side's
        # caches hold the other's nodes, and this is how they meet again.
        explore = self._explore_target()
        asked = self.cache + ([explore] if explore is not None else [])
        replies = await self._ask_all(asked, self._get_cache)
        samples: dict[int, list[int]] = {}
        answered: list[list[int]] = []
        for peer, reply in replies.items():
            if reply is None:
                self.mark_dead(peer)
            else:
                answered.append(reply[0])
                samples[peer] = reply[1]
        ranking = rank(answered, self.cfg.h, set(self._dead), self.me)
        if not ranking:
            self._publish(self.hubs)
            return

        # 3-4. Preferred nodes, and a sample of their backward lists; only
        # preferred nodes outside the cache still need asking.
        preferred = [i for i in ranking if i != self.me][: self.cfg.c]
        missing = [i for i in preferred if i not in samples]
        for peer, ids in (await self._ask_all(missing, self._get_backward)).items():
            if ids is None:
                self.mark_dead(peer)
            else:
                samples[peer] = ids
        sample = [i for peer in preferred for i in samples.get(peer, ())]
        dead = set(self._dead) | {self.me}
        ranking = [i for i in ranking if i not in self._dead]
        preferred = [i for i in preferred if i not in dead]
        sample = [i for i in sample if i not in dead]
        self._rng.shuffle(sample)

        # 5. New cache; the hubs are the top h of the ranking, self included.
        # The standby slots keep the next-ranked nodes in every cache too, so
        # that all nodes already agree on who follows when hubs fail.
        others = [i for i in ranking if i != self.me]
        fixed = self.cfg.h + self.cfg.standby
        self.cache = compose_cache(preferred, sample, self.cfg.c, fixed, others)
        self._publish(ranking[: self.cfg.h])

    def _publish(self, hubs: list[int]) -> None:
        m = self._metrics
        was_hub = self.is_hub
        if hubs != self.hubs:
            self.hubs = hubs
            self.changed.set()
            m.set_hubs(hubs)
        if was_hub != self.is_hub:
            m.role_changes.inc()
            log.info("node %d is now a %s", self.me, "hub" if self.is_hub else "client")
        m.overlay_cycle.set(self.cycle)
        m.is_hub.set(1 if self.is_hub else 0)
        m.cache_size.set(len(self.cache))
        m.backward_size.set(len(self.backward))

    def _explore_target(self) -> int | None:
        """A random peer this node knows of but neither caches nor holds
        dead, or None."""
        pool = [
            i
            for i in self.addresses
            if i != self.me and i not in self.cache and i not in self._dead
        ]
        return self._rng.choice(sorted(pool)) if pool else None

    def _forget_expired(self) -> None:
        self._dead = {
            i: until for i, until in self._dead.items() if until >= self.cycle
        }
        horizon = time.monotonic() - 3 * self.cfg.overlay_period_s
        self.backward = {i: t for i, t in self.backward.items() if t >= horizon}

    async def _ask_all(
        self, peers: list[int], ask: Callable[[int], Awaitable[T]]
    ) -> dict[int, T]:
        known = [p for p in peers if p in self.addresses]
        results = await asyncio.gather(*(ask(p) for p in known))
        return dict(zip(known, results, strict=True))

    @property
    def _sample_per_peer(self) -> int:
        """Backward entries to ask of each preferred node: together about
        backward_sample, of which c - h - standby are used."""
        return max(1, -(-self.cfg.backward_sample // self.cfg.c))

    async def _get_cache(self, peer: int) -> tuple[list[int], list[int]] | None:
        request = heal_pb2.CacheRequest(
            sender=self.self_ref(), backward_max=self._sample_per_peer
        )
        try:
            reply = await self._transport.call(
                self.addresses[peer],
                "cache",
                lambda s: s.GetCache,
                request,
                self.cfg.rpc_timeout_s,
            )
        except PeerUnavailable:
            return None
        return self.learn(reply.cache), self.learn(reply.backward)

    async def _get_backward(self, peer: int) -> list[int] | None:
        request = heal_pb2.BackwardRequest(
            sender=self.self_ref(), max_entries=self._sample_per_peer
        )
        try:
            reply = await self._transport.call(
                self.addresses[peer],
                "backward",
                lambda s: s.GetBackward,
                request,
                self.cfg.rpc_timeout_s,
            )
        except PeerUnavailable:
            return None
        return self.learn(reply.entries)
