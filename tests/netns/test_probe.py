"""capabilities.probe against this kernel, checked by trying each piece
directly on B's eth0 (the probe works on A's lo)."""

import dataclasses

import pytest

from netem.capabilities import PROBE_CHAIN, Capabilities, probe

pytestmark = pytest.mark.netns


def tries(ns, *argv):
    return ns.run(list(argv))[0] == 0


def try_directly(ns):
    """Each capability, tried on eth0 and a chain that nothing jumps to."""
    root = ("tc", "qdisc", "add", "dev", "eth0", "root", "handle", "1:")
    found = {}
    for kind, args in (
        ("netem", ("delay", "1ms")),
        ("tbf", ("rate", "1mbit", "burst", "32kb", "latency", "50ms")),
    ):
        found[kind] = tries(ns, *root, kind, *args)
        if found[kind]:
            ns.must("tc", "qdisc", "del", "dev", "eth0", "root")

    found["htb"] = tries(ns, *root, "htb") and tries(
        ns,
        *("tc", "class", "add", "dev", "eth0", "parent", "1:"),
        *("classid", "1:5", "htb", "rate", "1mbit"),
    )
    found["u32"] = found["htb"] and tries(
        ns,
        *("tc", "filter", "add", "dev", "eth0", "parent", "1:"),
        *("protocol", "ip", "prio", "1", "u32"),
        *("match", "ip", "dst", "10.9.9.9/32", "flowid", "1:5"),
    )
    tries(ns, "tc", "qdisc", "del", "dev", "eth0", "root")

    found["iptables"] = tries(ns, "iptables", "-w", "-N", "DIRECT")
    found["statistic"] = found["iptables"] and tries(
        ns,
        *("iptables", "-w", "-A", "DIRECT", "-m", "statistic"),
        *("--mode", "random", "--probability", "0.5", "-j", "RETURN"),
    )
    return Capabilities(**found)


def test_probe_agrees_with_this_kernel_and_leaves_nothing(pair):
    found = probe(pair.a.run)

    assert found == try_directly(pair.b)
    # What the machines here are known to offer; a kernel with netem is fine.
    assert dataclasses.astuple(found)[1:] == (True,) * 5

    lo = pair.a.must("tc", "-j", "qdisc", "show", "dev", "lo")
    assert '"handle":"0:"' in lo.replace(" ", "")
    assert PROBE_CHAIN not in pair.a.must("iptables", "-w", "-S")
