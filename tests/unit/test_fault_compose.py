"""From faults in force to each node's kernel plan and in-node rules, and the
choice of mechanism for each fault."""

from __future__ import annotations

import pytest

from controller.errors import UsageError
from controller.faults.book import ActiveFault
from controller.faults.compose import blocked, compose
from controller.faults.mechanism import INNODE, IPTABLES, NETEM, SHAPER, choose
from netem.capabilities import Capabilities
from netem.plan import Drop
from netem.specs import Bandwidth, Delay
from protos import heal_pb2

THIS_KERNEL = Capabilities(
    netem=False, tbf=True, htb=True, u32=True, iptables=True, statistic=True
)
FULL = Capabilities(
    netem=True, tbf=True, htb=True, u32=True, iptables=True, statistic=True
)
ADDRESSES = {n: f"10.9.0.{n + 10}:50051" for n in range(6)}


def fault(kind, params, targets, mechanism, peers=None, groups=None, fid=None):
    return ActiveFault(
        id=fid or f"{kind}-1",
        kind=kind,
        params=params,
        targets=targets,
        peers=peers,
        groups=groups,
        mechanisms={mechanism: targets},
        applied_at=0.0,
    )


def test_symmetric_one_way_and_overlapping_partitions():
    groups = [[0, 1, 2], [3, 4], [2, 5]]
    assert blocked(0, groups, one_way=False) == {3, 4, 5}
    assert blocked(2, groups, one_way=False) == {3, 4}  # in two groups
    assert blocked(5, groups, one_way=False) == {0, 1, 3, 4}
    assert blocked(9, groups, one_way=False) == set()  # in no group
    assert blocked(0, [[0, 1], [2, 3]], one_way=True) == {2, 3}
    assert blocked(2, [[0, 1], [2, 3]], one_way=True) == set()


def test_partition_in_node_drops_messages_to_the_other_side():
    f = fault("partition", {}, list(range(6)), INNODE, groups=[[0, 1, 2], [3, 4, 5]])
    targets = compose([f], ADDRESSES)
    rule = targets[0].rules[0]
    assert rule.drop and rule.fault_id == "partition-1"
    assert list(rule.peers) == [ADDRESSES[n] for n in (3, 4, 5)]
    assert rule.direction == heal_pb2.LinkRule.EGRESS
    assert targets[0].kernel.drops == ()


def test_partition_and_loss_by_iptables_list_peer_addresses():
    part = fault("partition", {}, [0, 1, 2], IPTABLES, groups=[[0, 1], [2]])
    loss = fault("loss", {"loss_pct": 30}, [0], IPTABLES, fid="loss-2")
    plan = compose([part, loss], ADDRESSES)[0].kernel
    assert plan.drops == (
        Drop("out", ("10.9.0.12",)),
        Drop("out", tuple(f"10.9.0.{n + 10}" for n in range(1, 6)), 30.0),
    )


def test_peer_shapes_carry_whole_interface_specs_of_other_kinds():
    delay = fault("delay", {"delay_ms": 100}, [0], NETEM)
    slow = fault("bandwidth", {"rate_kbit": 800}, [0], SHAPER, peers=[1, 2], fid="b")
    near = fault("delay", {"delay_ms": 5}, [0], NETEM, peers=[2], fid="d2")
    shapes = compose([delay, slow, near], ADDRESSES)[0].kernel.shapes
    by_peers = {s.peers: s for s in shapes}
    assert by_peers[()].netem == (Delay(delay_ms=100),)
    assert by_peers[("10.9.0.11",)].rate == Bandwidth(rate_kbit=800)
    assert by_peers[("10.9.0.11",)].netem == (Delay(delay_ms=100),)
    assert by_peers[("10.9.0.12",)].netem == (Delay(delay_ms=5),)
    assert by_peers[("10.9.0.12",)].rate == Bandwidth(rate_kbit=800)
    assert len(shapes) == 3


def test_untouched_nodes_hold_nothing():
    f = fault("loss", {"loss_pct": 10}, [1], INNODE)
    targets = compose([f], ADDRESSES)
    assert targets[1].rules[0].loss_pct == 10
    assert list(targets[1].rules[0].peers) == []  # every peer, joiners too
    assert all(not targets[n].rules and not targets[n].kernel.shapes for n in (0, 2))


@pytest.mark.parametrize(
    ("kind", "via", "per_link", "caps", "expected"),
    [
        ("delay", "auto", False, THIS_KERNEL, INNODE),
        ("delay", "auto", False, FULL, NETEM),
        ("delay", "innode", True, FULL, INNODE),
        ("loss", "auto", False, THIS_KERNEL, IPTABLES),
        ("loss", "auto", False, FULL, NETEM),
        ("partition", "auto", False, THIS_KERNEL, IPTABLES),
        ("bandwidth", "auto", True, THIS_KERNEL, SHAPER),
        ("bandwidth", "auto", False, None, INNODE),
        ("ingress_loss", "kernel", False, THIS_KERNEL, IPTABLES),
    ],
)
def test_mechanism_choice(kind, via, per_link, caps, expected):
    assert choose(kind, via, per_link, caps) == expected


@pytest.mark.parametrize(
    ("kind", "via", "caps", "correlated", "phrase"),
    [
        ("delay", "kernel", THIS_KERNEL, False, "needs netem"),
        ("corrupt", "auto", THIS_KERNEL, False, "no in-node equivalent"),
        ("corrupt", "auto", None, False, "no in-node equivalent"),
        ("partition", "kernel", None, False, "process backend"),
        ("loss", "auto", THIS_KERNEL, True, "correlation_pct needs tc netem"),
        ("crash", "auto", THIS_KERNEL, False, "not a link fault"),
    ],
)
def test_mechanism_refusals_say_why(kind, via, caps, correlated, phrase):
    with pytest.raises(UsageError, match=phrase):
        choose(kind, via, False, caps, correlated=correlated)
