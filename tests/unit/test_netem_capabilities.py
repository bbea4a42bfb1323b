"""What a kernel needs to offer for a plan, a spec or a kind; probing it."""

import json

import pytest

from netem.capabilities import Capabilities, needs, probe
from netem.errors import CommandFailed, NetemError, PlanError
from netem.plan import Drop, KernelPlan, Shape
from netem.specs import Bandwidth, Delay, IngressLoss, Loss

# The kernel of the machines here: everything but netem.
HERE = Capabilities(
    netem=False, tbf=True, htb=True, u32=True, iptables=True, statistic=True
)
ALL = Capabilities(True, True, True, True, True, True)
NONE = Capabilities(False, False, False, False, False, False)
PEER = ("10.0.0.2",)


def test_a_plan_needs_what_its_tree_and_rules_use():
    assert needs(KernelPlan()) == set()
    assert needs(KernelPlan(shapes=(Shape((), rate=Bandwidth(rate_kbit=80)),))) == {
        "tbf"
    }
    plan = KernelPlan(
        shapes=(Shape(PEER, netem=(Delay(delay_ms=5),)),),
        drops=(Drop("in", PEER, pct=50),),
    )
    assert needs(plan) == {"htb", "netem", "u32", "iptables", "statistic"}
    assert HERE.missing(plan) == ("netem",)
    assert not HERE.supports(plan)


def test_netem_kinds_need_netem():
    assert HERE.missing("delay") == ("netem",)
    assert HERE.missing(Delay(delay_ms=5), per_peer=False) == ("netem",)
    assert ALL.supports("reorder")


def test_per_peer_netem_needs_a_classifier_too():
    no_htb = Capabilities(True, True, False, False, True, True)

    assert no_htb.missing("duplicate") == ("htb", "u32")
    assert no_htb.supports("duplicate", per_peer=False)


def test_loss_falls_back_to_iptables_without_correlation():
    assert HERE.supports(Loss(loss_pct=5))
    assert HERE.supports("loss")
    assert HERE.missing(Loss(loss_pct=5, correlation_pct=25)) == ("netem",)


def test_loss_of_everything_needs_no_statistic():
    no_statistic = Capabilities(False, True, True, True, True, False)

    assert not no_statistic.supports(IngressLoss(loss_pct=5))
    assert no_statistic.missing(IngressLoss(loss_pct=5)) == ("statistic",)
    assert no_statistic.supports(IngressLoss(loss_pct=100))
    assert no_statistic.supports(Loss(loss_pct=100))


def test_bandwidth_per_peer_or_whole():
    only_tbf = Capabilities(False, True, False, False, False, False)

    assert only_tbf.missing("bandwidth") == ("htb", "u32")
    assert only_tbf.supports("bandwidth", per_peer=False)
    assert NONE.missing("partition") == ("iptables",)


@pytest.mark.parametrize("kind", ["crash", "churn", "jitter"])
def test_no_kernel_way_for_node_faults_or_unknown_kinds(kind):
    with pytest.raises(PlanError, match=f"'{kind}' has no kernel way; link fault"):
        HERE.supports(kind)


def test_describe():
    assert HERE.describe() == (
        "netem=no tbf=yes htb=yes u32=yes iptables=yes statistic=yes"
    )


class FakeNamespace:
    """lo and the filter table of a namespace whose kernel knows `qdiscs`."""

    def __init__(self, qdiscs=("tbf", "htb"), u32=True, iptables=True, statistic=True):
        self.qdiscs, self.u32 = qdiscs, u32
        self.iptables, self.statistic = iptables, statistic
        self.root = None  # kind of lo's root qdisc of ours
        self.chains = set()
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[0] == "tc" and self.qdiscs is not None:
            return self.tc(argv)
        if argv[0] == "iptables" and self.iptables:
            return self.ipt(argv[2], argv[3], argv)
        return 127, f"exec: {argv[0]}: not found"

    def tc(self, argv):
        if argv[1] == "-j":
            kind, handle = (self.root, "1:") if self.root else ("noqueue", "0:")
            entry = {"kind": kind, "handle": handle, "root": True, "options": {}}
            return 0, json.dumps([entry])
        what = argv[1:3]
        if what == ["qdisc", "add"]:
            kind = argv[argv.index("handle") + 2]
            if self.root:
                return 2, "Error: Exclusivity flag on, cannot modify."
            if kind not in self.qdiscs:
                return 2, "Error: Specified qdisc kind is unknown."
            self.root = kind
        elif what == ["qdisc", "del"]:
            if not self.root:
                return 2, "Error: Cannot delete qdisc with handle of zero."
            self.root = None
        elif what == ["class", "add"] and self.root != "htb":
            return 2, "Error: Specified class not found."
        elif what == ["filter", "add"] and not (self.u32 and self.root == "htb"):
            return 2, "Error: Specified filter kind is unknown."
        return 0, ""

    def ipt(self, op, chain, argv):
        if op == "-N":
            if chain in self.chains:
                return 1, "iptables: Chain already exists."
            self.chains.add(chain)
        elif chain not in self.chains:
            return 1, "iptables: No chain/target/match by that name."
        elif op == "-X":
            self.chains.remove(chain)
        elif op == "-A" and "statistic" in argv and not self.statistic:
            return 2, "iptables: Couldn't load match `statistic'"
        return 0, ""


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [
        (FakeNamespace(), HERE),
        (FakeNamespace(qdiscs=("netem", "tbf", "htb")), ALL),
        (
            FakeNamespace(qdiscs=("netem",), statistic=False),
            Capabilities(True, False, False, False, True, False),
        ),
        (FakeNamespace(qdiscs=None, iptables=False), NONE),
    ],
)
def test_probe_tries_each_piece_and_leaves_nothing(namespace, expected):
    assert probe(namespace) == expected

    assert namespace.root is None
    assert namespace.chains == set()


def test_probe_replaces_a_chain_left_by_an_interrupted_probe():
    namespace = FakeNamespace()
    namespace.chains.add("HEAL-PROBE")

    assert probe(namespace).statistic
    assert namespace.chains == set()


def test_probe_refuses_a_lo_with_a_root_qdisc_of_someone_else():
    namespace = FakeNamespace()
    namespace.root = "tbf"

    with pytest.raises(NetemError, match="lo has a root qdisc tbf 1: that is not ours"):
        probe(namespace)
    assert namespace.calls == [["tc", "-j", "qdisc", "show", "dev", "lo"]]


def test_probe_says_when_its_undo_fails():
    namespace = FakeNamespace()
    namespace_call = namespace.__call__

    def run(argv):
        if argv == ["tc", "qdisc", "del", "dev", "lo", "root"]:
            return 2, "Error: busy"
        return namespace_call(argv)

    with pytest.raises(CommandFailed, match="tc qdisc del dev lo root"):
        probe(run)
