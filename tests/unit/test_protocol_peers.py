"""Gossip and epidemic learning: who gets a model, and how received models
are merged; and the registry of protocols."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from node.config import PROTOCOLS, ConfigError
from node.hub import Contribution
from node.protocols.epidemic import EpidemicNode
from node.protocols.gossip import GossipNode
from node.protocols.peering import INBOX_LIMIT, merge
from node.protocols.registry import REGISTRY, protocol_class
from node.service import NodeService
from tests.unit.protocol_fakes import FakeLearner, FakeTransport, make_node, push

PEERS = [1, 2, 3, 4]


def _part(value: float, samples: int) -> Contribution:
    return Contribution([np.full(2, value, np.float32)], samples, 1, 9)


def test_merge_weights_by_samples_or_uniformly() -> None:
    own, other = _part(0.0, 10), _part(6.0, 20)

    np.testing.assert_allclose(merge(own, [other], "samples")[0], [4.0, 4.0])
    np.testing.assert_allclose(merge(own, [other], "uniform")[0], [3.0, 3.0])
    np.testing.assert_allclose(merge(own, [], "samples")[0], [0.0, 0.0])


def test_gossip_sends_to_one_peer_then_merges_each_model_before_training() -> None:
    learner = FakeLearner(0.0)
    transport = FakeTransport()
    node = make_node(GossipNode, 0, learner, transport, PEERS)
    for value in (4.0, 8.0):
        asyncio.run(node.serve_push(push(1, value)))

    asyncio.run(node.run_cycle())

    # The model as it was goes out; then merge(0, 4) = 2, train, merge(3, 8)
    # = 5.5, train.
    assert len(transport.calls) == 1 and transport.sent_values()[0][1] == 0.0
    assert transport.sent_values()[0][0] in PEERS
    assert learner.events == [
        ("adopt", 2.0),
        ("train", 3.0),
        ("adopt", 5.5),
        ("train", 6.5),
    ]
    assert node.accuracy == 6.5 and not node.inbox
    assert (node.role, node.hubs) == ("peer", [])


def test_gossip_learns_nothing_in_a_cycle_where_nothing_came() -> None:
    learner = FakeLearner(1.0)
    node = make_node(GossipNode, 0, learner, FakeTransport(), PEERS)

    asyncio.run(node.run_cycle())

    assert learner.events == [] and node.accuracy == 1.0


def test_epidemic_trains_sends_to_s_peers_then_averages_what_came() -> None:
    learner = FakeLearner(0.0, samples=10)
    transport = FakeTransport()
    node = make_node(EpidemicNode, 0, learner, transport, PEERS, s=3)
    asyncio.run(node.serve_push(push(1, 4.0, samples=10)))
    asyncio.run(node.serve_push(push(2, 10.0, samples=20)))

    asyncio.run(node.run_cycle())

    sent = transport.sent_values()
    assert len({peer for peer, _ in sent}) == 3 and {v for _, v in sent} == {1.0}
    assert {peer for peer, _ in sent} <= set(PEERS)
    # (1 x 10 + 4 x 10 + 10 x 20) / 40 = 6.25
    assert learner.events == [("train", 1.0), ("adopt", 6.25)]


def test_a_peer_that_fails_is_avoided_until_its_suspicion_ends() -> None:
    transport = FakeTransport(down={1})
    node = make_node(EpidemicNode, 0, FakeLearner(0.0), transport, [1, 2], s=2)

    asyncio.run(node.run_cycle())
    first = {peer for peer, _, _ in transport.calls}
    transport.calls.clear()
    asyncio.run(node.run_cycle())

    assert first == {1, 2}
    assert {peer for peer, _, _ in transport.calls} == {2}
    assert node.suspects == {1: 1 + node.cfg.suspect_cycles}


def test_a_push_is_kept_for_the_next_cycle_its_sender_learned_and_no_global_sent():
    node = make_node(GossipNode, 0, FakeLearner(0.0), FakeTransport(), [1])
    service = NodeService(node, node._metrics)

    for i in range(INBOX_LIMIT + 3):
        reply = asyncio.run(service.PushModel(push(7, float(i)), None))
        assert reply.accepted and not reply.HasField("global_model")

    assert 7 in node.peers
    assert len(node.inbox) == INBOX_LIMIT and node.inbox[0].weights[0][0] == 3.0
    metrics = node._metrics
    assert metrics.received.labels("push")._value.get() == INBOX_LIMIT + 3
    assert metrics.sent.labels("global")._value.get() == 0


def test_the_registry_holds_every_protocol_a_config_names() -> None:
    assert set(REGISTRY) == set(PROTOCOLS)
    assert all(protocol_class(name).name == name for name in PROTOCOLS)
    with pytest.raises(ConfigError, match="valid: heal, fedavg, gossip, epidemic"):
        protocol_class("fedsgd")
