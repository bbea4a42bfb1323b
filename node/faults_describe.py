"""A rule set in words, for the one log line per change:
'2 rules (delay 100ms to 3 peers; drop to 5 peers), version 4'."""

from __future__ import annotations

from protos import heal_pb2


def describe(faults: heal_pb2.LinkFaultSet) -> str:
    """Every rule's effects and whom they touch, and the version."""
    n = len(faults.rules)
    parts = "; ".join(_describe_rule(r) for r in faults.rules)
    listed = f" ({parts})" if parts else ""
    return f"{n} rule{'' if n == 1 else 's'}{listed}, version {faults.version}"


def _describe_rule(rule: heal_pb2.LinkRule) -> str:
    effects = []
    if rule.drop:
        effects.append("drop")
    if rule.delay_ms or rule.jitter_ms:
        spread = f"±{rule.jitter_ms:g}ms {rule.distribution or 'uniform'}"
        effects.append(f"delay {rule.delay_ms:g}ms{spread if rule.jitter_ms else ''}")
    if rule.loss_pct:
        effects.append(f"loss {rule.loss_pct:g}%")
    if rule.ge_p_pct:
        effects.append(f"burst loss p {rule.ge_p_pct:g}% r {rule.ge_r_pct:g}%")
    if rule.duplicate_pct:
        effects.append(f"duplicate {rule.duplicate_pct:g}%")
    if rule.reorder_pct:
        effects.append(f"reorder {rule.reorder_pct:g}%")
    if rule.rate_kbit:
        effects.append(f"rate {rule.rate_kbit:g}kbit")
    way = "from" if rule.direction == heal_pb2.LinkRule.INGRESS else "to"
    n = len(rule.peers)
    whom = f"{n} peer{'' if n == 1 else 's'}" if n else "every peer"
    label = f"{rule.fault_id}: " if rule.fault_id else ""
    return f"{label}{', '.join(effects) or 'no effect'} {way} {whom}"
