"""Readback and clear on a real kernel: what is left, what verify finds."""

import pytest

from netem.capabilities import probe
from netem.errors import CommandFailed, Mismatch
from netem.executor import KernelExecutor
from netem.iptables import CHAIN
from netem.plan import Drop, KernelPlan, Shape
from netem.readback import readback_commands, verify
from netem.specs import Bandwidth, Delay

pytestmark = pytest.mark.netns


def full_plan(pair):
    return KernelPlan(
        shapes=(
            Shape((pair.b.address,), rate=Bandwidth(rate_kbit=2000)),
            Shape(("10.99.0.1", "10.99.0.2"), rate=Bandwidth(rate_kbit=500)),
            Shape((), rate=Bandwidth(rate_kbit=50_000, queue_ms=50)),
        ),
        drops=(
            Drop("out", ("10.99.0.3", "10.99.0.4")),
            Drop("in", ("10.99.0.5",), pct=12.5),
        ),
    )


def readback(ns):
    return [ns.must(*argv) for argv in readback_commands()]


def assert_nothing_of_ours(ns):
    qdiscs = ns.must("tc", "-j", "qdisc", "show", "dev", "eth0").replace(" ", "")
    assert qdiscs.count('"handle":') == 1 and '"handle":"0:"' in qdiscs, qdiscs
    assert ns.must("tc", "class", "show", "dev", "eth0").strip() == ""
    assert "HEAL" not in ns.must("iptables", "-w", "-S")


def test_clear_leaves_nothing(pair):
    executor = KernelExecutor(pair.a.run)
    executor.apply(full_plan(pair))
    assert CHAIN in pair.a.must("iptables", "-w", "-S")

    executor.clear()

    assert_nothing_of_ours(pair.a)
    executor.clear()  # and clearing again is fine


def test_verify_passes_on_the_readback_and_finds_tampering(pair):
    plan = full_plan(pair)
    KernelExecutor(pair.a.run).apply(plan)
    verify(plan, readback(pair.a))

    # Class 1:2 with its filters, deleted by hand (htb refuses to delete a
    # class that filters point at).
    filters = pair.a.must("tc", "filter", "show", "dev", "eth0")
    handles = [
        line.split(" fh ")[1].split()[0]
        for line in filters.splitlines()
        if "flowid 1:2" in line
    ]
    assert len(handles) == 2
    for handle in handles:
        pair.a.must(
            *("tc", "filter", "del", "dev", "eth0", "parent", "1:"),
            *("protocol", "ip", "prio", "1", "handle", handle, "u32"),
        )
    pair.a.must("tc", "class", "del", "dev", "eth0", "classid", "1:2")
    pair.a.must(
        "iptables",
        "-w",
        "-D",
        CHAIN,
        "-s",
        "10.99.0.5",
        "-m",
        "statistic",
        "--mode",
        "random",
        "--probability",
        "0.125",
        "-j",
        "DROP",
    )

    with pytest.raises(Mismatch) as caught:
        verify(plan, readback(pair.a))

    assert set(caught.value.differences) == {
        "qdisc 11: bfifo (parent 1:2): missing",
        "class 1:2 htb: missing",
        "filter dst 10.99.0.1 -> 1:2: missing",
        "filter dst 10.99.0.2 -> 1:2: missing",
        "iptables DROP in from 10.99.0.5 with probability 0.125: missing",
    }


def test_a_plan_this_kernel_cannot_hold_is_undone(pair):
    if probe(pair.a.run).netem:
        pytest.skip("this kernel has netem, so the plan would apply")
    plan = KernelPlan(
        shapes=(Shape((pair.b.address,), netem=(Delay(delay_ms=20),)),),
        drops=(Drop("out", ("10.99.0.3",)),),
    )

    with pytest.raises(CommandFailed, match="netem delay 20ms"):
        KernelExecutor(pair.a.run).apply(plan)

    assert_nothing_of_ours(pair.a)
