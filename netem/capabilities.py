"""What this kernel offers for the kernel way, found by trying each piece.

The probe works on the namespace's loopback device and on a chain of its own
that nothing jumps to, and removes what it made; traffic on lo meets at most
a netem without options or a 100 Gbit/s bucket, for a moment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

from netem.calls import call, must
from netem.errors import NetemError, PlanError
from netem.kernel_state import parse_qdiscs
from netem.plan import KernelPlan, Runner
from netem.specs import NETEM_KINDS, REGISTRY, FaultSpec, IngressLoss, Loss
from netem.tc import build_tree

log = logging.getLogger("netem")

PROBE_CHAIN = "HEAL-PROBE"
_SHOW_LO = ("tc", "-j", "qdisc", "show", "dev", "lo")
_ADD_LO_ROOT = ("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:")
_DEL_LO_ROOT = ("tc", "qdisc", "del", "dev", "lo", "root")


@dataclass(frozen=True)
class Capabilities:
    netem: bool
    tbf: bool
    htb: bool
    u32: bool
    iptables: bool
    statistic: bool

    def supports(
        self, item: KernelPlan | FaultSpec | str, per_peer: bool = True
    ) -> bool:
        """Whether the kernel way can apply a plan, a spec or a kind."""
        return not self.missing(item, per_peer)

    def missing(
        self, item: KernelPlan | FaultSpec | str, per_peer: bool = True
    ) -> tuple[str, ...]:
        """The capabilities that a plan needs and this kernel lacks. For a
        spec or a kind, those of its way that lacks the fewest, for a fault
        limited to chosen peers unless per_peer is False."""
        have = {f.name for f in fields(self) if getattr(self, f.name)}
        ways = [needs(item)] if isinstance(item, KernelPlan) else _ways(item, per_peer)
        return min((tuple(sorted(way - have)) for way in ways), key=len)

    def describe(self) -> str:
        """For log lines: "netem=no tbf=yes ..."."""
        return " ".join(
            f"{f.name}={'yes' if getattr(self, f.name) else 'no'}" for f in fields(self)
        )


def needs(plan: KernelPlan) -> frozenset[str]:
    """The capabilities that applying the plan uses."""
    tree = build_tree(plan)
    # bfifo is built into every kernel; the other kinds are modules.
    used: set[str] = {q.kind for q in tree.qdiscs if q.kind != "bfifo"}
    if tree.filters:
        used.add("u32")
    if plan.drops:
        used.add("iptables")
    if any(drop.pct < 100 for drop in plan.drops):
        used.add("statistic")
    return frozenset(used)


def _ways(item: FaultSpec | str, per_peer: bool) -> list[frozenset[str]]:
    """Each set of capabilities that is enough for the spec or kind, the
    preferred one first."""
    kind = item if isinstance(item, str) else item.kind
    if kind not in REGISTRY or REGISTRY[kind].scope != "link":
        links = ", ".join(k for k, cls in REGISTRY.items() if cls.scope == "link")
        raise PlanError(f"{kind!r} has no kernel way; link fault kinds: {links}")

    if kind == "partition":
        return [frozenset({"iptables"})]
    if kind == "bandwidth":
        return [frozenset({"htb", "u32"} if per_peer else {"tbf"})]

    # iptables drops a random share of packets too, without correlation,
    # and needs no classifier to pick peers.
    drop = frozenset({"iptables", "statistic"})
    if isinstance(item, Loss | IngressLoss) and item.loss_pct == 100:
        drop = frozenset({"iptables"})
    if kind == "ingress_loss":
        return [drop]

    assert kind in NETEM_KINDS
    ways = [frozenset({"netem", "htb", "u32"} if per_peer else {"netem"})]
    if kind == "loss" and not (isinstance(item, Loss) and item.correlation_pct):
        ways.append(drop)
    return ways


def probe(run: Runner, timeout_s: float = 10.0) -> Capabilities:
    """Try each qdisc, classifier and match for real, and undo it."""
    prober = _Prober(run, timeout_s)
    prober.check_lo_free()
    netem = prober.root_qdisc("netem")
    tbf = prober.root_qdisc("tbf", "rate", "100gbit", "burst", "1mb", "latency", "1ms")
    htb, u32 = prober.htb_and_u32()
    iptables, statistic = prober.iptables_and_statistic()

    caps = Capabilities(netem, tbf, htb, u32, iptables, statistic)
    log.debug("kernel capabilities: %s", caps.describe())
    return caps


class _Prober:
    def __init__(self, run: Runner, timeout_s: float) -> None:
        self.run = run
        self.timeout_s = timeout_s

    def tries(self, argv: list[str]) -> bool:
        return call(self.run, argv, self.timeout_s)[0] == 0

    def undo(self, argv: list[str]) -> None:
        """Failing, it leaves something of the probe behind: CommandFailed."""
        must(self.run, argv, self.timeout_s)

    def check_lo_free(self) -> None:
        """The probe adds root qdiscs to lo; with a root of someone else's
        there (not a default one, handle 0:) every try would fail."""
        code, output = call(self.run, [*_SHOW_LO], self.timeout_s)
        if code != 0:
            return  # no tc to run: every tc try fails, which is the answer
        try:
            roots = [q for q in parse_qdiscs(output) if q.parent == "root"]
        except ValueError as exc:
            raise NetemError(f"cannot read lo's qdiscs to probe: {exc}") from exc
        for qdisc in roots:
            if qdisc.handle != "0:":
                raise NetemError(
                    f"lo has a root qdisc {qdisc.kind} {qdisc.handle} that is not "
                    "ours; remove it to probe: tc qdisc del dev lo root"
                )

    def root_qdisc(self, kind: str, *args: str) -> bool:
        if not self.tries([*_ADD_LO_ROOT, kind, *args]):
            return False
        self.undo([*_DEL_LO_ROOT])
        return True

    def htb_and_u32(self) -> tuple[bool, bool]:
        """u32 steers packets into htb classes: tried, and needed, only with
        htb. 127.0.0.2 goes through a 100 Gbit/s class meanwhile."""
        if not self.tries([*_ADD_LO_ROOT, "htb", "default", "0"]):
            return False, False
        try:
            htb = self.tries(
                [
                    *("tc", "class", "add", "dev", "lo", "parent", "1:"),
                    *("classid", "1:1", "htb", "rate", "100gbit"),
                ]
            )
            u32 = htb and self.tries(
                [
                    *("tc", "filter", "add", "dev", "lo", "parent", "1:"),
                    *("protocol", "ip", "prio", "1", "u32"),
                    *("match", "ip", "dst", "127.0.0.2/32", "flowid", "1:1"),
                ]
            )
        finally:
            self.undo([*_DEL_LO_ROOT])
        return htb, u32

    def iptables_and_statistic(self) -> tuple[bool, bool]:
        """In a chain of the probe's own, which no packet reaches."""
        # A chain left by an interrupted probe would make -N fail.
        call(self.run, ["iptables", "-w", "-F", PROBE_CHAIN], self.timeout_s)
        call(self.run, ["iptables", "-w", "-X", PROBE_CHAIN], self.timeout_s)
        if not self.tries(["iptables", "-w", "-N", PROBE_CHAIN]):
            return False, False
        try:
            statistic = self.tries(
                [
                    *("iptables", "-w", "-A", PROBE_CHAIN, "-m", "statistic"),
                    *("--mode", "random", "--probability", "0.5", "-j", "RETURN"),
                ]
            )
        finally:
            self.undo(["iptables", "-w", "-F", PROBE_CHAIN])
            self.undo(["iptables", "-w", "-X", PROBE_CHAIN])
        return True, statistic
