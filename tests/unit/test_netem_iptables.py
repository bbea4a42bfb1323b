"""iptables command lines for drops, and for clearing."""

import pytest

from netem.iptables import iptables_clear_commands, iptables_commands
from netem.plan import Drop, KernelPlan

IPT = ["iptables", "-w"]


def test_no_drops_no_commands():
    assert iptables_commands(KernelPlan()) == []


def test_chain_then_rules_then_jumps():
    plan = KernelPlan(drops=(Drop("out", ("10.0.0.2", "10.0.0.3")),))

    assert iptables_commands(plan) == [
        [*IPT, "-N", "HEAL-FAULTS"],
        [*IPT, "-A", "HEAL-FAULTS", "-d", "10.0.0.2,10.0.0.3", "-j", "DROP"],
        [*IPT, "-I", "INPUT", "1", "-j", "HEAL-FAULTS"],
        [*IPT, "-I", "OUTPUT", "1", "-j", "HEAL-FAULTS"],
    ]


def test_in_matches_the_source_and_a_share_uses_statistic():
    plan = KernelPlan(
        drops=(Drop("in", ("10.0.0.4",), pct=30), Drop("out", ("10.0.0.5",), pct=5))
    )

    assert iptables_commands(plan)[1:3] == [
        [*IPT, "-A", "HEAL-FAULTS", "-s", "10.0.0.4", *share("0.3"), "-j", "DROP"],
        [*IPT, "-A", "HEAL-FAULTS", "-d", "10.0.0.5", *share("0.05"), "-j", "DROP"],
    ]


def share(probability):
    return ["-m", "statistic", "--mode", "random", "--probability", probability]


@pytest.mark.parametrize(
    ("pct", "probability"),
    [(99.5, "0.995"), (1, "0.01"), (0.1, "0.001"), (33.333, "0.33333"), (50, "0.5")],
)
def test_probability_is_a_plain_decimal(pct, probability):
    plan = KernelPlan(drops=(Drop("out", ("10.0.0.2",), pct=pct),))

    rule = iptables_commands(plan)[1]

    assert rule[rule.index("--probability") + 1] == probability


def test_clear_removes_jumps_before_the_chain():
    assert iptables_clear_commands() == [
        [*IPT, "-D", "INPUT", "-j", "HEAL-FAULTS"],
        [*IPT, "-D", "OUTPUT", "-j", "HEAL-FAULTS"],
        [*IPT, "-F", "HEAL-FAULTS"],
        [*IPT, "-X", "HEAL-FAULTS"],
    ]
