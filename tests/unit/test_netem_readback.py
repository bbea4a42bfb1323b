"""verify() against recorded and handwritten readback outputs.

Recorded: Linux 6.18, iproute2 6.1.0, iptables 1.8.9 (nf_tables), after the
executor applied TBF_PLAN and HTB_PLAN to a veth. That kernel has no netem,
so netem outputs are written by hand after iproute2's q_netem.c (times in
seconds, shares as fractions, correlations always printed).
"""

import json

import pytest

from netem.errors import Mismatch
from netem.plan import Drop, KernelPlan, Shape
from netem.readback import iptables_differences, readback_commands, verify
from netem.specs import Bandwidth, BurstLoss, Delay, Duplicate, Loss, Reorder

TBF_PLAN = KernelPlan(shapes=(Shape((), rate=Bandwidth(rate_kbit=8000)),))
TBF_OUTPUTS = [
    '[{"kind":"tbf","handle":"1:","root":true,"refcnt":3,"options":'
    '{"rate":1000000,"burst":32768,"lat":400000}}]\n',
    "class tbf 1:1 parent 1: \n",
    "[]\n",
    "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n",
]

HTB_PLAN = KernelPlan(
    shapes=(
        Shape(
            ("10.201.0.2", "10.201.0.3"), rate=Bandwidth(rate_kbit=4000, queue_ms=100)
        ),
        Shape((), rate=Bandwidth(rate_kbit=16000)),
    ),
    drops=(
        Drop("out", ("10.201.0.9", "10.201.0.8"), 30),
        Drop("in", ("10.201.0.7",)),
    ),
)
HTB_QDISCS = (
    '[{"kind":"htb","handle":"1:","root":true,"refcnt":3,"options":{"r2q":10,'
    '"default":"0x2","direct_packets_stat":0,"direct_qlen":1000}},'
    '{"kind":"bfifo","handle":"10:","parent":"1:1","options":{"limit":82768}},'
    '{"kind":"bfifo","handle":"11:","parent":"1:2","options":{"limit":832768}}]\n'
)
HTB_CLASSES = (
    "class htb 1:1 root leaf 10: prio 0 rate 4Mbit ceil 4Mbit burst 32Kb cburst 32Kb \n"
    "class htb 1:2 root leaf 11: prio 0 rate 16Mbit ceil 16Mbit burst 32Kb "
    "cburst 32Kb \n"
)
HTB_FILTERS = (
    '[{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0},'
    '{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0,"options":'
    '{"fh":"800:","ht_divisor":1}},'
    '{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0,"options":'
    '{"fh":"800::800","order":2048,"key_ht":"800","bkt":"0","flowid":"1:1",'
    '"not_in_hw":true,"match":{"value":"ac90002","mask":"ffffffff","offmask":"",'
    '"off":16}}},'
    '{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0,"options":'
    '{"fh":"800::801","order":2049,"key_ht":"800","bkt":"0","flowid":"1:1",'
    '"not_in_hw":true,"match":{"value":"ac90003","mask":"ffffffff","offmask":"",'
    '"off":16}}}]\n'
)
HTB_RULES = """\
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N HEAL-FAULTS
-A INPUT -j HEAL-FAULTS
-A OUTPUT -j HEAL-FAULTS
-A HEAL-FAULTS -d 10.201.0.9/32 -m statistic --mode random --probability 0.29999999981 -j DROP
-A HEAL-FAULTS -d 10.201.0.8/32 -m statistic --mode random --probability 0.29999999981 -j DROP
-A HEAL-FAULTS -s 10.201.0.7/32 -j DROP
"""  # noqa: E501 (recorded lines)
HTB_OUTPUTS = [HTB_QDISCS, HTB_CLASSES, HTB_FILTERS, HTB_RULES]

EMPTY_OUTPUTS = [
    '[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}}]\n',
    "",
    "[]\n",
    "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n",
]


def differences(plan, outputs):
    with pytest.raises(Mismatch) as caught:
        verify(plan, outputs, dev="veth0")
    assert caught.value.dev == "veth0"
    return list(caught.value.differences)


def replaced(outputs, index, old, new):
    assert old in outputs[index]
    changed = list(outputs)
    changed[index] = outputs[index].replace(old, new)
    return changed


def test_readback_commands():
    assert readback_commands("veth0") == [
        ["tc", "-j", "qdisc", "show", "dev", "veth0"],
        ["tc", "class", "show", "dev", "veth0"],
        ["tc", "-j", "filter", "show", "dev", "veth0"],
        ["iptables", "-w", "-S"],
    ]


@pytest.mark.parametrize(
    ("plan", "outputs"),
    [(TBF_PLAN, TBF_OUTPUTS), (HTB_PLAN, HTB_OUTPUTS), (KernelPlan(), EMPTY_OUTPUTS)],
)
def test_recorded_state_matches_its_plan(plan, outputs):
    verify(plan, outputs)


def test_another_rate_is_named_with_both_values():
    plan = KernelPlan(shapes=(Shape((), rate=Bandwidth(rate_kbit=4000)),))

    assert differences(plan, TBF_OUTPUTS) == [
        "qdisc 1: tbf (parent root): rate: asked 500000 bytes/s, "
        "kernel holds 1000000 bytes/s"
    ]


def test_tbf_burst_and_latency_are_compared():
    plan = KernelPlan(
        shapes=(Shape((), rate=Bandwidth(rate_kbit=8000, burst_kbyte=64, queue_ms=50)),)
    )

    found = differences(plan, TBF_OUTPUTS)

    assert any("burst: asked 65536 bytes, kernel holds 32768 bytes" in d for d in found)
    assert any("lat: asked 50000 us, kernel holds 400000 us" in d for d in found)


def test_an_empty_plan_finds_everything_left():
    found = differences(KernelPlan(), HTB_OUTPUTS)

    assert "qdisc 1: htb (parent root): not in the plan" in found
    assert "class 1:2 htb: not in the plan" in found
    assert "filter dst 10.201.0.3 -> 1:1: not in the plan" in found
    assert "iptables chain HEAL-FAULTS: still there, the plan has no drops" in found
    assert "iptables `-A OUTPUT -j HEAL-FAULTS`: asked 0, kernel holds 1" in found
    assert "iptables DROP in from 10.201.0.7: not in the plan" in found


def test_a_plan_finds_what_is_missing():
    found = differences(HTB_PLAN, EMPTY_OUTPUTS)

    assert "qdisc 1: htb (parent root): missing" in found
    assert "qdisc 10: bfifo (parent 1:1): missing" in found
    assert "class 1:1 htb: missing" in found
    assert "filter dst 10.201.0.2 -> 1:1: missing" in found
    assert "iptables chain HEAL-FAULTS: missing" in found
    assert "iptables `-A INPUT -j HEAL-FAULTS`: asked 1, kernel holds 0" in found
    assert "iptables DROP out to 10.201.0.8 with probability 0.3: missing" in found


def test_a_class_deleted_by_hand():
    outputs = replaced(HTB_OUTPUTS, 1, HTB_CLASSES.splitlines(True)[1], "")
    outputs = replaced(
        outputs,
        0,
        ',{"kind":"bfifo","handle":"11:","parent":"1:2","options":{"limit":832768}}',
        "",
    )

    assert differences(HTB_PLAN, outputs) == [
        "qdisc 11: bfifo (parent 1:2): missing",
        "class 1:2 htb: missing",
    ]


def test_class_rates_are_compared_within_rounding():
    outputs = replaced(HTB_OUTPUTS, 1, "rate 4Mbit ceil 4Mbit", "rate 4Mbit ceil 8Mbit")

    assert differences(HTB_PLAN, outputs) == [
        "class 1:1 ceil: asked 4000000 bit/s, kernel holds 8000000 bit/s"
    ]
    # tc prints 1234.5 kbit/s as 1234Kbit.
    plan = KernelPlan(
        shapes=(Shape(("10.201.0.2",), rate=Bandwidth(rate_kbit=1234.5)),)
    )
    outputs = replaced(HTB_OUTPUTS, 1, "4Mbit ceil 4Mbit", "1234Kbit ceil 1234Kbit")
    assert not any(d.startswith("class 1:1") for d in differences(plan, outputs))


def test_default_class_and_filters_are_compared():
    outputs = replaced(HTB_OUTPUTS, 0, '"default":"0x2"', '"default":"0"')
    outputs = replaced(outputs, 2, '"value":"ac90003"', '"value":"ac90004"')

    assert differences(HTB_PLAN, outputs) == [
        "qdisc 1: htb (parent root): default: asked 2, kernel holds 0",
        "filter dst 10.201.0.3 -> 1:1: missing",
        "filter dst 10.201.0.4 -> 1:1: not in the plan",
    ]


def test_drop_probabilities_are_compared():
    plan = KernelPlan(
        shapes=HTB_PLAN.shapes,
        drops=(
            Drop("out", ("10.201.0.9", "10.201.0.8"), 25),
            Drop("in", ("10.201.0.7",)),
        ),
    )

    assert differences(plan, HTB_OUTPUTS) == [
        "iptables DROP out to 10.201.0.9 with probability 0.25: missing",
        "iptables DROP out to 10.201.0.8 with probability 0.25: missing",
        "iptables DROP out to 10.201.0.9 with probability 0.3: not in the plan",
        "iptables DROP out to 10.201.0.8 with probability 0.3: not in the plan",
    ]


def test_a_direction_and_a_full_drop_are_distinct():
    plan = KernelPlan(
        shapes=HTB_PLAN.shapes,
        drops=(
            Drop("out", ("10.201.0.9", "10.201.0.8"), 30),
            Drop("out", ("10.201.0.7",)),
        ),
    )

    assert differences(plan, HTB_OUTPUTS) == [
        "iptables DROP out to 10.201.0.7: missing",
        "iptables DROP in from 10.201.0.7: not in the plan",
    ]


def test_rules_and_jumps_we_did_not_write():
    outputs = replaced(
        HTB_OUTPUTS,
        3,
        "-A OUTPUT -j HEAL-FAULTS\n",
        "-A OUTPUT -j HEAL-FAULTS\n-A OUTPUT -j HEAL-FAULTS\n"
        "-A HEAL-FAULTS -p tcp -j ACCEPT\n",
    )

    assert differences(HTB_PLAN, outputs) == [
        "iptables `-A OUTPUT -j HEAL-FAULTS`: asked 1, kernel holds 2",
        "iptables rule we did not write: -A HEAL-FAULTS -p tcp -j ACCEPT",
    ]


def test_a_foreign_root_left_behind_is_found():
    outputs = list(EMPTY_OUTPUTS)
    outputs[0] = (
        '[{"kind":"pfifo","handle":"8001:","root":true,"options":{"limit":1000}}]'
    )

    assert differences(KernelPlan(), outputs) == [
        "qdisc 8001: pfifo (parent root): not in the plan"
    ]


def test_ingress_qdiscs_and_defaults_are_not_ours():
    outputs = list(EMPTY_OUTPUTS)
    outputs[0] = json.dumps(
        [
            {"kind": "mq", "handle": "0:", "root": True, "options": {}},
            {"kind": "fq_codel", "handle": "0:", "parent": ":1", "options": {}},
            {"kind": "clsact", "handle": "ffff:", "parent": "ffff:fff1", "options": {}},
        ]
    )

    verify(KernelPlan(), outputs)


def test_unreadable_output_is_a_mismatch():
    outputs = replaced(EMPTY_OUTPUTS, 2, "[]", "Error: Cannot find device")

    (found,) = differences(KernelPlan(), outputs)
    assert found.startswith("cannot read the kernel's state: `tc -j filter show`")


def test_outputs_must_come_from_every_readback_command():
    with pytest.raises(ValueError, match="needs 4 outputs"):
        verify(KernelPlan(), EMPTY_OUTPUTS[:3])


# netem, written after q_netem.c's JSON printer.

NETEM_SPECS = (
    Delay(delay_ms=100, jitter_ms=10, correlation_pct=25, distribution="normal"),
    Loss(loss_pct=5),
    Duplicate(duplicate_pct=1, correlation_pct=10),
)
NETEM_OPTIONS = {
    "limit": 1000,
    "delay": {"delay": 0.1, "jitter": 0.01, "correlation": 0.25},
    "loss-random": {"loss": 0.05, "correlation": 0},
    "duplicate": {"duplicate": 0.01, "correlation": 0.1},
    "ecn": False,
    "gap": 0,
}


def netem_outputs(options, handle="1:", parent=None):
    entry = {"kind": "netem", "handle": handle, "options": options}
    if parent is None:
        entry["root"] = True
        qdiscs = [entry]
    else:
        entry["parent"] = parent
        qdiscs = [
            {"kind": "htb", "handle": "1:", "root": True, "options": {"default": "0"}},
            entry,
        ]
    return [json.dumps(qdiscs), *EMPTY_OUTPUTS[1:]]


def test_netem_options_match():
    plan = KernelPlan(shapes=(Shape((), netem=NETEM_SPECS),))

    verify(plan, netem_outputs(NETEM_OPTIONS))


def test_netem_option_differences():
    plan = KernelPlan(shapes=(Shape((), netem=NETEM_SPECS),))
    options = {
        **NETEM_OPTIONS,
        "delay": {"delay": 0.05, "jitter": 0.01, "correlation": 0.25},
        "corrupt": {"corrupt": 0.02, "correlation": 0},
    }
    del options["duplicate"]

    assert differences(plan, netem_outputs(options)) == [
        "qdisc 1: netem (parent root): delay.delay: asked 0.1 s, kernel holds 0.05 s",
        "qdisc 1: netem (parent root): duplicate.duplicate: asked 0.01, "
        "kernel shows none",
        "qdisc 1: netem (parent root): duplicate.correlation: asked 0.1, "
        "kernel shows none",
        "qdisc 1: netem (parent root): corrupt.corrupt: kernel holds 0.02, not asked",
        "qdisc 1: netem (parent root): corrupt.correlation: kernel holds 0, not asked",
    ]


def test_netem_reorder_and_gemodel_under_a_class():
    specs = (Reorder(reorder_pct=25, delay_ms=20), BurstLoss(p_pct=1, r_pct=30))
    plan = KernelPlan(shapes=(Shape(("10.201.0.2",), netem=specs),))
    options = {
        "limit": 1000,
        "delay": {"delay": 0.02, "jitter": 0, "correlation": 0},
        "loss-gemodel": {"p": 0.01, "r": 0.3, "1-h": 1, "1-k": 0},
        "reorder": {"reorder": 0.25, "correlation": 0},
        "ecn": False,
        "gap": 1,
    }
    outputs = netem_outputs(options, handle="10:", parent="1:1")
    outputs[1] = "class htb 1:1 root leaf 10: prio 0 rate 100Gbit ceil 100Gbit"
    outputs[2] = HTB_FILTERS.replace(
        ',{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0,"options":'
        '{"fh":"800::801","order":2049,"key_ht":"800","bkt":"0","flowid":"1:1",'
        '"not_in_hw":true,"match":{"value":"ac90003","mask":"ffffffff","offmask":"",'
        '"off":16}}}',
        "",
    )

    verify(plan, outputs)

    outputs[0] = outputs[0].replace('"gap": 1', '"gap": 0')
    assert differences(plan, outputs) == [
        "qdisc 10: netem (parent 1:1): gap: asked 1, kernel holds 0"
    ]


def test_iptables_differences_alone():
    assert iptables_differences(HTB_PLAN, HTB_RULES) == []
    assert iptables_differences(KernelPlan(), EMPTY_OUTPUTS[3]) == []
    assert iptables_differences(TBF_PLAN, HTB_RULES)[0] == (
        "iptables chain HEAL-FAULTS: still there, the plan has no drops"
    )
