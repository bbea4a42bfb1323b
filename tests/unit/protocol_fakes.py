"""Stand-ins for a node's learner and transport, to drive the protocols'
logic without torch, data or sockets.

A fake model is one tensor of two equal values; training adds 1 to it, and
its "accuracy" is that value, so that a test can follow every merge.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import numpy as np

from node.codec import encode_model
from node.config import NodeConfig
from node.elevator import Elevator
from node.metrics import NodeMetrics
from node.protocols.base import LearningNode
from node.transport import PeerUnavailable
from protos import heal_pb2


class FakeLearner:
    def __init__(self, value: float, samples: int = 10) -> None:
        self.names = ["w"]
        self.shapes = [(2,)]
        self.model = [np.full(2, value, np.float32)]
        self.samples = samples
        self.train_seconds = 0.0
        self.events: list[tuple[str, float]] = []

    @property
    def value(self) -> float:
        return float(self.model[0][0])

    def weights(self) -> list[np.ndarray]:
        return [t.copy() for t in self.model]

    def adopt(self, weights: list[np.ndarray]) -> None:
        self.model = [np.asarray(t, np.float32).copy() for t in weights]
        self.events.append(("adopt", self.value))

    async def train(self, steps: int) -> float:
        self.model = [t + 1 for t in self.model]
        self.train_seconds += 0.01
        self.events.append(("train", self.value))
        return 0.0

    async def evaluate(self) -> tuple[float, float]:
        return self.value, 0.0


Answer = Callable[[int, heal_pb2.PushRequest], Awaitable[heal_pb2.PushReply]]


class FakeTransport:
    """Calls go to answer(peer id, request); a peer id in `down` fails."""

    def __init__(self, answer: Answer | None = None, down: set[int] | None = None):
        self.answer = answer or accept
        self.down = down or set()
        self.calls: list[tuple[int, str, Any]] = []

    async def call(  # type: ignore[no-untyped-def]
        self, address, kind, method, request, timeout, reply_kind=None
    ):
        peer = int(address.rsplit(":", 1)[1]) - 1000
        self.calls.append((peer, kind, request))
        if peer in self.down:
            raise PeerUnavailable(address, kind, grpc.StatusCode.UNAVAILABLE)
        return await self.answer(peer, request)

    def sent_values(self) -> list[tuple[int, float]]:
        return [(p, model_value(r.model)) for p, _, r in self.calls]


async def accept(peer: int, request: heal_pb2.PushRequest) -> heal_pb2.PushReply:
    return heal_pb2.PushReply(accepted=True, hub_id=peer)


def model_value(model: heal_pb2.Model) -> float:
    return float(np.frombuffer(model.tensors[0].data, "<f4")[0])


def wire_model(value: float, samples: int, origin: int) -> heal_pb2.Model:
    return encode_model(
        [np.full(2, value, np.float32)], ["w"], samples=samples, cycle=1, origin=origin
    )


def push(sender: int, value: float, samples: int = 10) -> heal_pb2.PushRequest:
    return heal_pb2.PushRequest(
        sender=heal_pb2.PeerRef(id=sender, address=f"127.0.0.1:{1000 + sender}"),
        model=wire_model(value, samples, sender),
    )


def make_node(
    cls: type[LearningNode],
    node_id: int,
    learner: FakeLearner,
    transport: FakeTransport,
    peers: list[int],
    **settings: object,
) -> LearningNode:
    """A node whose peer i listens at 127.0.0.1:(1000 + i)."""
    config = NodeConfig.model_validate(
        {
            "node_id": node_id,
            "port": 1000 + node_id,
            "data_dir": ".",
            "peers": [{"id": p, "address": f"127.0.0.1:{1000 + p}"} for p in peers],
            "delta_s": 0.05,
            "h": 2,
            "standby": 0,
            "protocol": cls.name,
            **settings,
        }
    )
    rng = random.Random(node_id)
    metrics = NodeMetrics()
    overlay = Elevator(config, transport, metrics, rng)  # type: ignore[arg-type]
    return cls(config, overlay, transport, learner, metrics, rng)  # type: ignore[arg-type]
