"""iptables commands for a plan's drops: one chain of ours, jumped to from
INPUT and OUTPUT.

In the chain, an "out" drop matches the peer as destination (-d) and an "in"
drop as source (-s). A packet reaching the chain from OUTPUT has this node as
its source, one from INPUT as its destination, so neither rule can catch the
other direction. Several peers share one command (a comma-separated list);
iptables stores one rule per address.
"""

from __future__ import annotations

from netem.plan import Drop, KernelPlan
from netem.units import num

CHAIN = "HEAL-FAULTS"
HOOKS = ("INPUT", "OUTPUT")


def iptables_commands(plan: KernelPlan) -> list[list[str]]:
    """Commands that add the plan's drops where no chain of ours exists."""
    if not plan.drops:
        return []
    commands = [_iptables("-N", CHAIN)]
    commands += [
        _iptables("-A", CHAIN, *drop_match(drop), "-j", "DROP") for drop in plan.drops
    ]
    # Jumps last, so that packets only meet the finished chain; first in
    # their hook, so that no ACCEPT before them lets packets by.
    commands += [_iptables("-I", hook, "1", "-j", CHAIN) for hook in HOOKS]
    return commands


def iptables_clear_commands() -> list[list[str]]:
    """Commands that remove the jumps and the chain. Each fails when what it
    removes is not there; the executor reads the state back afterwards."""
    return [
        *(_iptables("-D", hook, "-j", CHAIN) for hook in HOOKS),
        _iptables("-F", CHAIN),
        _iptables("-X", CHAIN),
    ]


def drop_match(drop: Drop) -> list[str]:
    """The match part of a drop's rule."""
    flag = "-d" if drop.direction == "out" else "-s"
    match = [flag, ",".join(drop.peers)]
    if drop.pct < 100:
        probability = num(drop.pct / 100)
        match += ["-m", "statistic", "--mode", "random", "--probability", probability]
    return match


def _iptables(*args: str) -> list[str]:
    # -w: wait for the xtables lock instead of failing when another program
    # (Docker, a second executor) holds it.
    return ["iptables", "-w", *args]
