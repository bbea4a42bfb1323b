"""From the faults in force to what each node should hold: a kernel plan
(tc and iptables) and a set of in-node link rules.

Recomputed as a whole after every change, so applying and clearing are the
same operation and nothing depends on the order faults came in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.faults.book import ActiveFault
from controller.faults.mechanism import INNODE, IPTABLES, NETEM, SHAPER
from netem.plan import Drop, KernelPlan, Shape
from netem.specs import (
    Bandwidth,
    BurstLoss,
    Delay,
    Duplicate,
    FaultSpec,
    IngressLoss,
    Loss,
    Partition,
    Reorder,
)
from protos import heal_pb2


@dataclass
class NodeTarget:
    """What one node should hold."""

    kernel: KernelPlan = field(default_factory=KernelPlan)
    rules: list[heal_pb2.LinkRule] = field(default_factory=list)


def host_of(address: str) -> str:
    return address.rpartition(":")[0]


def blocked(node: int, groups: list[list[int]], one_way: bool) -> set[int]:
    """Nodes that messages from `node` must not reach under a partition."""
    mine = [set(g) for g in groups if node in g]
    if not mine:
        return set()
    if one_way and node not in groups[0]:
        return set()
    everyone = set().union(*map(set, groups))
    reachable = set().union(*mine)
    cut = everyone - reachable
    if one_way:
        cut -= set(groups[0])
    return cut


def _peer_ids(fault: ActiveFault, node: int, everyone: list[int]) -> list[int]:
    spec = fault.spec()
    if isinstance(spec, Partition):
        return sorted(blocked(node, fault.groups or [], spec.one_way))
    if fault.peers is not None:
        return [p for p in fault.peers if p != node]
    return [p for p in everyone if p != node]


def compose(
    faults: list[ActiveFault], addresses: Mapping[int, str]
) -> dict[int, NodeTarget]:
    """Every node's target state; addresses maps node id -> host:port."""
    everyone = sorted(addresses)
    targets = {n: NodeTarget() for n in everyone}
    whole: dict[int, list[FaultSpec]] = defaultdict(list)
    per_peer: dict[int, dict[str, list[FaultSpec]]] = defaultdict(
        lambda: defaultdict(list)
    )
    drops: dict[int, list[Drop]] = defaultdict(list)

    for fault in faults:
        spec = fault.spec()
        for mechanism, nodes in fault.mechanisms.items():
            for node in (n for n in nodes if n in targets):  # not those that left
                peers = [p for p in _peer_ids(fault, node, everyone) if p in addresses]
                if fault.kind == "partition" and not peers:
                    continue
                if mechanism == INNODE:
                    targets[node].rules.append(
                        rule_for(fault, spec, [addresses[p] for p in peers])
                    )
                elif mechanism == IPTABLES:
                    ips = tuple(host_of(addresses[p]) for p in peers)
                    if ips:
                        drops[node].append(_drop_for(spec, ips))
                elif mechanism in (NETEM, SHAPER) and fault.peers is None:
                    whole[node].append(spec)
                elif mechanism in (NETEM, SHAPER):
                    for p in peers:
                        per_peer[node][host_of(addresses[p])].append(spec)

    for node, target in targets.items():
        target.kernel = KernelPlan(
            shapes=_shapes(whole[node], per_peer[node]), drops=tuple(drops[node])
        )
    return targets


def _shapes(
    whole: list[FaultSpec], per_peer: dict[str, list[FaultSpec]]
) -> tuple[Shape, ...]:
    """Disjoint shapes: one for the whole interface, and one per set of peers
    that the same specs apply to. A peer's shape also carries the
    whole-interface specs of kinds it has no spec of its own for, since a
    packet takes only one class."""
    classes: dict[tuple[FaultSpec, ...], list[str]] = defaultdict(list)
    for ip, specs in per_peer.items():
        own = {s.kind for s in specs}
        merged = tuple(specs) + tuple(s for s in whole if s.kind not in own)
        classes[merged].append(ip)
    shapes = [_shape(tuple(sorted(ips)), list(specs)) for specs, ips in classes.items()]
    if whole:
        shapes.insert(0, _shape((), whole))
    return tuple(shapes)


def _shape(peers: tuple[str, ...], specs: list[FaultSpec]) -> Shape:
    rates = [s for s in specs if isinstance(s, Bandwidth)]
    return Shape(
        peers=peers,
        netem=tuple(s for s in specs if not isinstance(s, Bandwidth)),
        rate=rates[0] if rates else None,
    )


def _drop_for(spec: FaultSpec, ips: tuple[str, ...]) -> Drop:
    if isinstance(spec, IngressLoss):
        return Drop("in", ips, spec.loss_pct)
    if isinstance(spec, Loss):
        return Drop("out", ips, spec.loss_pct)
    return Drop("out", ips)


def rule_for(
    fault: ActiveFault, spec: FaultSpec, peers: list[str]
) -> heal_pb2.LinkRule:
    """The in-node rule that does what spec does, on messages to peers
    (every peer when fault.peers is None and it is not a partition)."""
    every = fault.peers is None and not isinstance(spec, Partition)
    rule = heal_pb2.LinkRule(fault_id=fault.id, peers=[] if every else peers)
    if isinstance(spec, Partition):
        rule.drop = True
    elif isinstance(spec, Delay):
        rule.delay_ms = spec.delay_ms
        rule.jitter_ms = spec.jitter_ms
        rule.distribution = spec.distribution
    elif isinstance(spec, Loss | IngressLoss):
        rule.loss_pct = spec.loss_pct
        if isinstance(spec, IngressLoss):
            rule.direction = heal_pb2.LinkRule.INGRESS
    elif isinstance(spec, BurstLoss):
        rule.ge_p_pct = spec.p_pct
        rule.ge_r_pct = spec.r_pct
        rule.ge_bad_loss_pct = spec.bad_loss_pct
        rule.ge_good_loss_pct = spec.good_loss_pct
    elif isinstance(spec, Duplicate):
        rule.duplicate_pct = spec.duplicate_pct
    elif isinstance(spec, Reorder):
        rule.reorder_pct = spec.reorder_pct
        rule.delay_ms = spec.delay_ms
    elif isinstance(spec, Bandwidth):
        rule.rate_kbit = spec.rate_kbit
    else:
        raise ValueError(f"{spec.kind} has no in-node rule")
    return rule
