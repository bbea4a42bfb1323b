"""Partitions and random loss by iptables, on real TCP and UDP traffic."""

import pytest

from netem.executor import KernelExecutor
from netem.plan import Drop, KernelPlan

pytestmark = pytest.mark.netns


def test_out_drop_cuts_what_a_sends_to_the_peer_until_cleared(pair):
    pair.b.serve("listen", "0.0.0.0", 5001)
    executor = KernelExecutor(pair.a.run)
    assert pair.connects(pair.a, pair.b.address)

    executor.apply(KernelPlan(drops=(Drop("out", (pair.b.address,)),)))

    assert not pair.connects(pair.a, pair.b.address)
    assert pair.udp_received(pair.a, pair.b, pair.b.address, 50) == 0
    assert pair.connects(pair.a, pair.b2)  # another address of B: not listed

    executor.clear()

    assert pair.connects(pair.a, pair.b.address)
    assert pair.udp_received(pair.a, pair.b, pair.b.address, 50) == 50


def test_in_drop_cuts_what_a_receives_from_the_peer_until_cleared(pair):
    pair.a.serve("listen", "0.0.0.0", 5001)
    executor = KernelExecutor(pair.a.run)

    executor.apply(KernelPlan(drops=(Drop("in", (pair.b.address,)),)))

    assert not pair.connects(pair.b, pair.a.address, source=pair.b.address)
    assert pair.connects(pair.b, pair.a.address, source=pair.b2)

    executor.clear()

    assert pair.connects(pair.b, pair.a.address, source=pair.b.address)


@pytest.mark.parametrize("direction", ["out", "in"])
def test_a_random_share_is_lost(pair, direction):
    KernelExecutor(pair.a.run).apply(
        KernelPlan(drops=(Drop(direction, (pair.b.address,), pct=30),))
    )
    if direction == "out":
        received = pair.udp_received(pair.a, pair.b, pair.b.address, 2000)
    else:
        # B sends from its first address by default, the one A drops from.
        received = pair.udp_received(pair.b, pair.a, pair.a.address, 2000)

    lost = 1 - received / 2000
    assert 0.25 <= lost <= 0.35, f"lost {lost:.1%}"
