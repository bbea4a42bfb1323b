"""tc command lines for each kind of qdisc tree, and for clearing."""

from netem.plan import KernelPlan, Shape
from netem.specs import Bandwidth, Delay, Loss
from netem.tc import tc_clear_commands, tc_commands

A, B, C = "10.0.0.2", "10.0.0.3", "10.0.0.4"
QDISC = ["tc", "qdisc", "add", "dev", "eth0"]
CLASS = ["tc", "class", "add", "dev", "eth0", "parent", "1:"]
FILTER = [
    *("tc", "filter", "add", "dev", "eth0", "parent", "1:"),
    *("protocol", "ip", "prio", "1", "u32", "match", "ip", "dst"),
]


def plan(*shapes):
    return KernelPlan(shapes=shapes)


def htb(rate, burst):
    return [
        *("htb", "rate", rate, "ceil", rate),
        *("burst", burst, "cburst", burst, "quantum", "1514"),
    ]


def test_no_shapes_no_commands():
    assert tc_commands(KernelPlan()) == []


def test_whole_interface_netem_is_the_root():
    shape = Shape((), netem=(Delay(delay_ms=100, jitter_ms=10), Loss(loss_pct=1)))
    netem = ["delay", "100ms", "10ms", "loss", "1%"]

    assert tc_commands(plan(shape)) == [
        [*QDISC, "root", "handle", "1:", "netem", *netem],
    ]


def test_whole_interface_rate_is_a_tbf():
    shape = Shape((), rate=Bandwidth(rate_kbit=8000))
    tbf = ["rate", "8000kbit", "burst", "32kb", "latency", "400ms"]

    assert tc_commands(plan(shape)) == [
        [*QDISC, "root", "handle", "1:", "tbf", *tbf],
    ]


def test_tbf_numbers_keep_their_fractions():
    rate = Bandwidth(rate_kbit=1234.5, burst_kbyte=2.5, queue_ms=12.5)

    assert tc_commands(plan(Shape((), rate=rate)), dev="veth7")[0] == [
        *("tc", "qdisc", "add", "dev", "veth7", "root", "handle", "1:", "tbf"),
        *("rate", "1234.5kbit", "burst", "2.5kb", "latency", "12.5ms"),
    ]


def test_per_peer_shapes_are_htb_classes_with_filters():
    slow = Shape((A, B), rate=Bandwidth(rate_kbit=4000, queue_ms=100))
    far = Shape((C,), netem=(Delay(delay_ms=50),))

    assert tc_commands(plan(slow, far)) == [
        [*QDISC, "root", "handle", "1:", "htb", "default", "0"],
        [*CLASS, "classid", "1:1", *htb("4000kbit", "32kb")],
        [*CLASS, "classid", "1:2", *htb("100000000kbit", "1024kb")],
        # 4000 kbit/s for 100 ms is 50,000 bytes, plus the 32 KiB burst.
        [*QDISC, "parent", "1:1", "handle", "10:", "bfifo", "limit", "82768"],
        [*QDISC, "parent", "1:2", "handle", "11:", "netem", "delay", "50ms"],
        [*FILTER, f"{A}/32", "flowid", "1:1"],
        [*FILTER, f"{B}/32", "flowid", "1:1"],
        [*FILTER, f"{C}/32", "flowid", "1:2"],
    ]


def test_whole_interface_shape_beside_peers_is_the_default_class():
    peer = Shape((A,), rate=Bandwidth(rate_kbit=1000))
    whole = Shape((), rate=Bandwidth(rate_kbit=16000), netem=(Loss(loss_pct=2),))

    commands = tc_commands(plan(peer, whole))

    assert commands[0] == [*QDISC, "root", "handle", "1:", "htb", "default", "2"]
    assert [*QDISC, "parent", "1:2", "handle", "11:", "netem", "loss", "2%"] in commands
    assert [c for c in commands if c[1] == "filter"] == [
        [*FILTER, f"{A}/32", "flowid", "1:1"]
    ]


def test_whole_interface_netem_and_rate_need_htb():
    shape = Shape((), netem=(Delay(delay_ms=30),), rate=Bandwidth(rate_kbit=2000))

    assert tc_commands(plan(shape)) == [
        [*QDISC, "root", "handle", "1:", "htb", "default", "1"],
        [*CLASS, "classid", "1:1", *htb("2000kbit", "32kb")],
        [*QDISC, "parent", "1:1", "handle", "10:", "netem", "delay", "30ms"],
    ]


def test_ids_are_hexadecimal():
    shapes = [
        Shape((f"10.0.1.{k}",), rate=Bandwidth(rate_kbit=100)) for k in range(1, 18)
    ]

    commands = tc_commands(plan(*shapes))

    leaves = [c for c in commands if c[1] == "qdisc" and "parent" in c]
    assert leaves[9][6:9] == ["1:a", "handle", "19:"]
    assert leaves[16][6:9] == ["1:11", "handle", "20:"]
    assert commands[-1][-3:] == ["10.0.1.17/32", "flowid", "1:11"]


def test_clear_replaces_then_deletes_the_root():
    assert tc_clear_commands("veth1") == [
        ["tc", "qdisc", "replace", "dev", "veth1", "root", "pfifo"],
        ["tc", "qdisc", "del", "dev", "veth1", "root"],
    ]
    assert tc_clear_commands()[0][4] == "eth0"
