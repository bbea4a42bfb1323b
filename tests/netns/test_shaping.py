"""Rates measured on real TCP transfers between two namespaces."""

import pytest

from netem.executor import KernelExecutor
from netem.plan import KernelPlan, Shape
from netem.specs import Bandwidth

pytestmark = pytest.mark.netns


def within(measured_bits, rate_kbit, share=0.2):
    """TCP payload carried at a rate, give or take share. Headers cost about
    4%, the first burst that leaves at once gains a few; measured here: tbf
    0.97-0.98 of the rate, htb 1.0-1.1 (it counts a GSO packet's headers
    once)."""
    rate_bits = rate_kbit * 1000
    return abs(measured_bits - rate_bits) <= share * rate_bits


def seconds_of(rate_kbit, seconds):
    """Bytes that take `seconds` at the rate."""
    return int(rate_kbit * 1000 / 8 * seconds)


def test_tbf_limits_the_whole_interface(pair):
    pair.b.serve("listen", "0.0.0.0", 5001)
    plan = KernelPlan(shapes=(Shape((), rate=Bandwidth(rate_kbit=8000)),))
    KernelExecutor(pair.a.run).apply(plan)

    measured = pair.tcp_rate_bits(pair.a, pair.b.address, seconds_of(8000, 1.5))

    assert within(measured, 8000), f"{measured / 1e6:.2f} Mbit/s"


def test_htb_limits_only_the_shaped_peer(pair):
    pair.b.serve("listen", "0.0.0.0", 5001)
    plan = KernelPlan(
        shapes=(Shape((pair.b.address,), rate=Bandwidth(rate_kbit=4000)),)
    )
    KernelExecutor(pair.a.run).apply(plan)

    shaped = pair.tcp_rate_bits(pair.a, pair.b.address, seconds_of(4000, 1.2))
    other = pair.tcp_rate_bits(pair.a, pair.b2, 8_000_000)

    assert within(shaped, 4000), f"{shaped / 1e6:.2f} Mbit/s"
    assert other > 10 * 4000e3, f"unshaped peer: {other / 1e6:.2f} Mbit/s"


def test_a_whole_interface_shape_beside_a_peer_is_the_default(pair):
    pair.b.serve("listen", "0.0.0.0", 5001)
    plan = KernelPlan(
        shapes=(
            Shape((pair.b.address,), rate=Bandwidth(rate_kbit=3000)),
            Shape((), rate=Bandwidth(rate_kbit=12000)),
        )
    )
    KernelExecutor(pair.a.run).apply(plan)

    peer = pair.tcp_rate_bits(pair.a, pair.b.address, seconds_of(3000, 1.2))
    rest = pair.tcp_rate_bits(pair.a, pair.b2, seconds_of(12000, 1.2))

    assert within(peer, 3000), f"shaped peer: {peer / 1e6:.2f} Mbit/s"
    assert within(rest, 12000), f"the rest: {rest / 1e6:.2f} Mbit/s"
