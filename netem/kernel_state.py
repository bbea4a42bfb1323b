"""What the kernel holds, read from the output of the readback commands.

Parsers raise ValueError on output they cannot read at all; pieces they can
read but that we never write (other classifiers, foreign rules in our chain)
are kept as text, for the comparison to report.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
from dataclasses import dataclass
from typing import Any, Literal

from netem.iptables import CHAIN
from netem.units import parse_rate_bits

# The offset of the destination address in an IPv4 header, where u32's
# `match ip dst` looks.
_IP_DST_OFFSET = 16


@dataclass(frozen=True)
class QdiscState:
    kind: str
    handle: str
    parent: str  # "root" or a class id
    options: dict[str, Any]


@dataclass(frozen=True)
class ClassState:
    classid: str
    parent: str
    rate_bits: float
    ceil_bits: float


@dataclass(frozen=True)
class FilterState:
    peer: str
    flowid: str


@dataclass(frozen=True)
class RuleState:
    direction: Literal["out", "in"]
    peer: str
    probability: float | None  # None: every packet


@dataclass(frozen=True)
class KernelState:
    qdiscs: tuple[QdiscState, ...] = ()
    classes: tuple[ClassState, ...] = ()  # htb classes only
    filters: tuple[FilterState, ...] = ()
    odd_filters: tuple[str, ...] = ()
    chain: bool = False
    jumps: tuple[str, ...] = ()  # rules elsewhere that jump to our chain
    rules: tuple[RuleState, ...] = ()
    odd_rules: tuple[str, ...] = ()


def parse_state(
    qdisc_json: str, class_text: str, filter_json: str, iptables_rules: str
) -> KernelState:
    """From `tc -j qdisc show`, `tc class show`, `tc -j filter show` and
    `iptables -S` output."""
    filters, odd_filters = parse_filters(filter_json)
    chain, jumps, rules, odd_rules = parse_iptables(iptables_rules)
    return KernelState(
        parse_qdiscs(qdisc_json),
        parse_classes(class_text),
        filters,
        odd_filters,
        chain,
        jumps,
        rules,
        odd_rules,
    )


def parse_qdiscs(text: str) -> tuple[QdiscState, ...]:
    qdiscs = []
    for entry in _json_list(text, "tc -j qdisc show"):
        if not isinstance(entry.get("kind"), str) or not isinstance(
            entry.get("handle"), str
        ):
            raise ValueError(f"a qdisc without kind or handle: {entry}")
        parent = "root" if entry.get("root") else str(entry.get("parent", "?"))
        options = entry.get("options") or {}
        qdiscs.append(QdiscState(entry["kind"], entry["handle"], parent, options))
    return tuple(qdiscs)


def parse_classes(text: str) -> tuple[ClassState, ...]:
    """htb classes from text such as `class htb 1:2 root leaf 11: prio 0
    rate 8Mbit ceil 8Mbit burst 32Kb cburst 32Kb` (tc prints classes as text
    even with -j, as of iproute2 6.1)."""
    classes = []
    for line in text.splitlines():
        words = line.split()
        if words[:2] != ["class", "htb"]:
            continue
        # Each keyword's value is the word after it.
        value = dict(itertools.pairwise(words))
        try:
            parent = "root" if "root" in words else value["parent"]
            rate = parse_rate_bits(value["rate"])
            ceil = parse_rate_bits(value["ceil"])
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unreadable class line {line!r}: {exc}") from exc
        classes.append(ClassState(words[2], parent, rate, ceil))
    return tuple(classes)


def parse_filters(text: str) -> tuple[tuple[FilterState, ...], tuple[str, ...]]:
    """u32 filters of the form `match ip dst A/32 flowid X`, and every other
    filter as text."""
    filters, odd = [], []
    for entry in _json_list(text, "tc -j filter show"):
        options = entry.get("options") or {}
        if (
            entry.get("kind") == "u32"
            and "match" not in options
            and "flowid" not in options
        ):
            continue  # the hash tables u32 makes for itself
        match = options.get("match")
        if isinstance(match, dict) and "flowid" in options and _is_dst_match(match):
            peer = str(ipaddress.IPv4Address(int(match["value"], 16)))
            filters.append(FilterState(peer, options["flowid"]))
        else:
            odd.append(json.dumps(entry, sort_keys=True))
    return tuple(filters), tuple(odd)


def parse_iptables(
    text: str,
) -> tuple[bool, tuple[str, ...], tuple[RuleState, ...], tuple[str, ...]]:
    """Our chain, the jumps to it, its DROP rules, and its other rules."""
    chain, jumps, rules, odd = False, [], [], []
    for line in text.splitlines():
        words = line.split()
        if words == ["-N", CHAIN]:
            chain = True
        elif words[:2] == ["-A", CHAIN]:
            rule = _drop_rule(words[2:])
            if rule is None:
                odd.append(line.strip())
            else:
                rules.append(rule)
        elif words[:1] == ["-A"] and words[-2:] == ["-j", CHAIN]:
            jumps.append(line.strip())
    return chain, tuple(jumps), tuple(rules), tuple(odd)


def _drop_rule(words: list[str]) -> RuleState | None:
    """A rule as we write it: -d|-s A/32 [-m statistic --mode random
    --probability P] -j DROP."""
    if len(words) < 4 or words[0] not in ("-d", "-s") or words[-2:] != ["-j", "DROP"]:
        return None
    address, _, prefix = words[1].partition("/")
    if prefix not in ("", "32"):
        return None
    direction: Literal["out", "in"] = "out" if words[0] == "-d" else "in"
    middle = words[2:-2]
    if not middle:
        return RuleState(direction, address, None)
    if middle[:-1] == ["-m", "statistic", "--mode", "random", "--probability"]:
        try:
            return RuleState(direction, address, float(middle[-1]))
        except ValueError:
            return None
    return None


def _is_dst_match(match: dict[str, Any]) -> bool:
    return match.get("mask") == "ffffffff" and match.get("off") == _IP_DST_OFFSET


def _json_list(text: str, command: str) -> list[dict[str, Any]]:
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"`{command}` printed no JSON ({exc}): {text[:200]!r}"
        ) from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"`{command}` printed no list of objects: {text[:200]!r}")
    return entries
