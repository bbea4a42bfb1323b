"""Read the kernel's state back and compare it with the plan.

The comparison covers the qdiscs (kind, handle, parent and options: tbf
rate, burst and latency, the htb default class, bfifo limits, and the netem
options that `tc -j` prints), the htb classes' rates, the u32 filters, and
our iptables chain: the jumps to it and its DROP rules with their addresses
and probabilities. netem's delay distribution is not printed, so not checked.
"""

from __future__ import annotations

import math
from collections import Counter

from netem.errors import Mismatch
from netem.iptables import CHAIN, HOOKS
from netem.kernel_state import KernelState, RuleState, parse_iptables, parse_state
from netem.plan import KernelPlan
from netem.qdisc_options import RATE_TOLERANCE, compare_options, expected_options
from netem.tc import Tree, build_tree
from netem.units import num

# iptables keeps probabilities in 31 bits and prints 11 decimals.
PROBABILITY_TOLERANCE = 1e-6
IPTABLES_READBACK = ("iptables", "-w", "-S")
# Qdiscs of the ingress side, which our trees never touch.
_INGRESS_KINDS = ("ingress", "clsact")


def readback_commands(dev: str = "eth0") -> list[list[str]]:
    """The commands whose outputs verify() reads, in this order."""
    return [
        ["tc", "-j", "qdisc", "show", "dev", dev],
        # Text: iproute2 6.1 prints classes so even with -j.
        ["tc", "class", "show", "dev", dev],
        ["tc", "-j", "filter", "show", "dev", dev],
        list(IPTABLES_READBACK),
    ]


def verify(plan: KernelPlan, outputs: list[str], dev: str = "eth0") -> None:
    """Raise Mismatch listing each way in which the kernel's state (the
    outputs of readback_commands, in order) differs from the plan. An empty
    plan verifies as nothing of ours left."""
    if len(outputs) != len(readback_commands(dev)):
        raise ValueError(f"verify needs {len(readback_commands(dev))} outputs")
    try:
        state = parse_state(*outputs)
    except ValueError as exc:
        raise Mismatch(dev, [f"cannot read the kernel's state: {exc}"]) from exc

    tree = build_tree(plan)
    differences = [
        *_compare_qdiscs(tree, state),
        *_compare_classes(tree, state),
        *_compare_filters(tree, state),
        *_compare_iptables(plan, state),
    ]
    if differences:
        raise Mismatch(dev, differences)


def tc_differences(plan: KernelPlan, tc_outputs: list[str]) -> list[str]:
    """How the tc part of the kernel's state (the first three readback
    outputs) differs from the plan; an unreadable state is a difference."""
    try:
        state = parse_state(tc_outputs[0], tc_outputs[1], tc_outputs[2], "")
    except ValueError as exc:
        return [f"cannot read the kernel's state: {exc}"]
    tree = build_tree(plan)
    return [
        *_compare_qdiscs(tree, state),
        *_compare_classes(tree, state),
        *_compare_filters(tree, state),
    ]


def iptables_differences(plan: KernelPlan, rules: str) -> list[str]:
    """How the rules in `iptables -S` output differ from the plan's drops;
    they show every attribute of a drop, so no difference means the same."""
    chain, jumps, held, odd = parse_iptables(rules)
    return _compare_iptables(
        plan, KernelState(chain=chain, jumps=jumps, rules=held, odd_rules=odd)
    )


def _compare_qdiscs(tree: Tree, state: KernelState) -> list[str]:
    # Handle 0: marks the kernel's own default qdiscs.
    held = {
        q.handle: q
        for q in state.qdiscs
        if q.handle != "0:" and q.kind not in _INGRESS_KINDS
    }
    differences = []
    for want in tree.qdiscs:
        have = held.pop(want.handle, None)
        where = f"qdisc {want.handle} {want.kind} (parent {want.parent})"
        if have is None:
            differences.append(f"{where}: missing")
        elif (have.kind, have.parent) != (want.kind, want.parent):
            differences.append(
                f"{where}: kernel holds {have.kind} (parent {have.parent})"
            )
        else:
            options = expected_options(want)
            differences += [
                f"{where}: {d}" for d in compare_options(options, have.options)
            ]
    for have in held.values():
        differences.append(
            f"qdisc {have.handle} {have.kind} (parent {have.parent}): not in the plan"
        )
    return differences


def _compare_classes(tree: Tree, state: KernelState) -> list[str]:
    held = {c.classid: c for c in state.classes}
    differences = []
    for want in tree.classes:
        have = held.pop(want.classid, None)
        bits = want.rate_kbit * 1000
        if have is None:
            differences.append(f"class {want.classid} htb: missing")
            continue
        if have.parent != "root":
            differences.append(f"class {want.classid}: parent {have.parent}, not root")
        for name, value in (("rate", have.rate_bits), ("ceil", have.ceil_bits)):
            if not math.isclose(value, bits, rel_tol=RATE_TOLERANCE):
                differences.append(
                    f"class {want.classid} {name}: asked {num(bits)} bit/s, "
                    f"kernel holds {num(value)} bit/s"
                )
    differences += [f"class {c.classid} htb: not in the plan" for c in held.values()]
    return differences


def _compare_filters(tree: Tree, state: KernelState) -> list[str]:
    want = Counter((f.peer, f.flowid) for f in tree.filters)
    have = Counter((f.peer, f.flowid) for f in state.filters)
    differences = [
        f"filter dst {peer} -> {flowid}: missing"
        for peer, flowid in sorted((want - have).elements())
    ]
    differences += [
        f"filter dst {peer} -> {flowid}: not in the plan"
        for peer, flowid in sorted((have - want).elements())
    ]
    differences += [f"filter we did not write: {text}" for text in state.odd_filters]
    return differences


def _compare_iptables(plan: KernelPlan, state: KernelState) -> list[str]:
    differences = []
    if plan.drops and not state.chain:
        differences.append(f"iptables chain {CHAIN}: missing")
    if not plan.drops and state.chain:
        differences.append(
            f"iptables chain {CHAIN}: still there, the plan has no drops"
        )

    want_jumps = Counter(f"-A {hook} -j {CHAIN}" for hook in HOOKS if plan.drops)
    have_jumps = Counter(state.jumps)
    for jump in sorted(want_jumps.keys() | have_jumps.keys()):
        if want_jumps[jump] != have_jumps[jump]:
            differences.append(
                f"iptables `{jump}`: asked {want_jumps[jump]}, "
                f"kernel holds {have_jumps[jump]}"
            )

    missing, extra = _match_rules(_expected_rules(plan), list(state.rules))
    differences += [f"iptables {_describe(rule)}: missing" for rule in missing]
    differences += [f"iptables {_describe(rule)}: not in the plan" for rule in extra]
    differences += [
        f"iptables rule we did not write: {line}" for line in state.odd_rules
    ]
    return differences


def _expected_rules(plan: KernelPlan) -> list[RuleState]:
    return [
        RuleState(drop.direction, peer, drop.pct / 100 if drop.pct < 100 else None)
        for drop in plan.drops
        for peer in drop.peers
    ]


def _match_rules(
    want: list[RuleState], have: list[RuleState]
) -> tuple[list[RuleState], list[RuleState]]:
    """Rules asked for but not held, and held but not asked for; the same
    rule may be asked for more than once."""
    unmatched = list(have)
    missing = []
    for rule in want:
        twin = next((h for h in unmatched if _same_rule(rule, h)), None)
        if twin is None:
            missing.append(rule)
        else:
            unmatched.remove(twin)
    return missing, unmatched


def _same_rule(a: RuleState, b: RuleState) -> bool:
    if (a.direction, a.peer) != (b.direction, b.peer):
        return False
    if a.probability is None or b.probability is None:
        return a.probability is b.probability
    return abs(a.probability - b.probability) <= PROBABILITY_TOLERANCE


def _describe(rule: RuleState) -> str:
    way = "to" if rule.direction == "out" else "from"
    share = (
        ""
        if rule.probability is None
        else f" with probability {num(round(rule.probability, 6))}"
    )
    return f"DROP {rule.direction} {way} {rule.peer}{share}"
