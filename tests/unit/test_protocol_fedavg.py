"""FedAvg: the server's sample-weighted average reaches every client, and a
client whose server is gone keeps its last global model."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from node.config import ConfigError
from node.protocols.fedavg import FedAvgNode
from node.service import NodeService
from protos import heal_pb2
from tests.unit.protocol_fakes import (
    FakeLearner,
    FakeTransport,
    make_node,
    model_value,
    push,
)

SERVER = 2


def test_clients_adopt_the_sample_weighted_average_of_their_pushes() -> None:
    server_learner = FakeLearner(-7.0)
    server = make_node(
        FedAvgNode, SERVER, server_learner, FakeTransport(), [], server_id=SERVER
    )

    async def to_server(peer: int, request: heal_pb2.PushRequest):  # type: ignore[no-untyped-def]
        assert peer == SERVER
        return await server.serve_push(request)

    learners = [FakeLearner(0.0, samples=10), FakeLearner(4.0, samples=30)]
    clients = [
        make_node(
            FedAvgNode, i, learner, FakeTransport(to_server), [SERVER], server_id=SERVER
        )
        for i, learner in enumerate(learners)
    ]

    async def cycle() -> None:
        await asyncio.gather(*(c.run_cycle() for c in clients), server.run_cycle())

    asyncio.run(cycle())

    # Trained to 1 and 5; (1 x 10 + 5 x 30) / 40 = 4.
    assert [learner.value for learner in learners] == [4.0, 4.0]
    assert server_learner.value == 4.0
    assert ("train", 1.0) in learners[0].events and ("adopt", 4.0) in learners[0].events
    assert ("train", -6.0) not in server_learner.events  # the server does not train
    assert [c.accuracy for c in clients] == [4.0, 4.0]
    assert (server.role, clients[0].role) == ("server", "client")
    assert server.hubs == clients[0].hubs == [SERVER]


def test_without_its_server_a_client_keeps_the_last_global_model() -> None:
    learner = FakeLearner(3.0)
    transport = FakeTransport(down={SERVER})
    client = make_node(FedAvgNode, 0, learner, transport, [1, SERVER], server_id=SERVER)

    for _ in range(3):
        asyncio.run(client.run_cycle())

    assert learner.value == 3.0 and client.accuracy == 3.0
    assert learner.events[:2] == [("train", 4.0), ("adopt", 3.0)]
    assert [peer for peer, _, _ in transport.calls] == [SERVER] * 3
    assert client.suspects == {SERVER: 3 + client.cfg.suspect_cycles}
    assert client.hubs == [SERVER]
    missed = client._metrics.deadlines_missed.labels("client_global")._value.get()
    assert missed == 3


def test_a_client_that_cannot_reach_its_server_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="server_id 5: node 0 has no address"):
        make_node(FedAvgNode, 0, FakeLearner(0.0), FakeTransport(), [1], server_id=5)


def test_only_the_server_takes_pushes_and_the_global_counts_as_sent() -> None:
    server = make_node(FedAvgNode, 0, FakeLearner(0.0), FakeTransport(), [])
    client = make_node(FedAvgNode, 1, FakeLearner(0.0), FakeTransport(), [0])

    async def serve(node: FedAvgNode) -> heal_pb2.PushReply:
        service = NodeService(node, node._metrics)
        return await service.PushModel(push(3, 6.0), None)

    refused = asyncio.run(serve(client))
    answered = asyncio.run(serve(server))

    assert not refused.accepted and refused.hub_id == 1
    assert answered.accepted and model_value(answered.global_model) == 6.0
    sent = [n._metrics.sent.labels("global")._value.get() for n in (client, server)]
    assert sent == [0, 1]
    np.testing.assert_array_equal(server.learner.weights()[0], [6.0, 6.0])
