"""Many Elevator instances wired together in memory, cycled in lock-step."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import grpc

from controller.plan import bootstrap_peers
from node.config import NodeConfig
from node.elevator import Elevator
from node.metrics import NodeMetrics
from node.transport import PeerUnavailable
from protos import heal_pb2


class _Stub:
    def __init__(self, net: MemoryNetwork, address: str) -> None:
        self._net, self._address = net, address

    def _target(self, sender: int) -> Elevator:
        node = self._net.by_address.get(self._address)
        if node is None or node.me in self._net.dead or self._net.cut(sender, node.me):
            raise PeerUnavailable(self._address, "sim", grpc.StatusCode.UNAVAILABLE)
        return node

    async def GetCache(self, request, timeout):  # type: ignore[no-untyped-def]
        return self._target(request.sender.id).answer_cache_request(request)

    async def GetBackward(self, request, timeout):  # type: ignore[no-untyped-def]
        target = self._target(request.sender.id)
        entries = target.answer_backward(request.max_entries, request.sender.id)
        return heal_pb2.BackwardReply(entries=entries)


class _Transport:
    def __init__(self, net: MemoryNetwork) -> None:
        self._net = net

    async def call(self, address, kind, method, request, timeout, reply_kind=None):  # type: ignore[no-untyped-def]
        return await method(_Stub(self._net, address))(request, timeout=timeout)


class MemoryNetwork:
    def __init__(self, n: int, c: int, h: int, seed: int, standby: int = 0) -> None:
        peers = bootstrap_peers(n, c, seed)
        self.dead: set[int] = set()
        self.sides: list[set[int]] = []  # a partition: no call crosses sides
        self.nodes: list[Elevator] = []
        transport = _Transport(self)
        for i in range(n):
            config = NodeConfig(
                node_id=i,
                port=1000 + i,
                data_dir=".",  # type: ignore[arg-type]
                c=c,
                h=h,
                standby=standby,
                peers=[{"id": p, "address": f"sim{p}"} for p in peers[i]],  # type: ignore[misc]
                advertise=f"sim{i}",
            )
            rng = random.Random(seed * 1000 + i)
            self.nodes.append(Elevator(config, transport, NodeMetrics(), rng))  # type: ignore[arg-type]
        self.by_address = {f"sim{i}": node for i, node in enumerate(self.nodes)}

    def cut(self, a: int, b: int) -> bool:
        return any((a in side) != (b in side) for side in self.sides)

    def live(self) -> list[Elevator]:
        return [x for x in self.nodes if x.me not in self.dead]

    def cycle(self) -> None:
        async def all_nodes() -> None:
            await asyncio.gather(*(x.run_cycle() for x in self.live()))

        asyncio.run(all_nodes())

    def hub_lists(self) -> Counter[tuple[int, ...]]:
        return Counter(tuple(sorted(x.hubs)) for x in self.live())

    def agreement(self) -> tuple[tuple[int, ...], float]:
        hubs, count = self.hub_lists().most_common(1)[0]
        return hubs, count / len(self.live())
