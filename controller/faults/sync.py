"""Bring every live node to its target state: kernel plans through a runner
in the node's namespace, in-node rules through the Control service. Only
nodes whose target changed are touched; each change is read back."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from controller.control import ControlClient
from controller.faults.compose import NodeTarget
from netem.errors import NetemError
from netem.executor import KernelExecutor
from netem.plan import KernelPlan, Runner
from protos import heal_pb2

log = logging.getLogger("controller.faults")

# Threads that talk to the Docker engine at once; more only queue in dockerd.
PARALLEL = 16


def kernel_fingerprint(plan: KernelPlan) -> str:
    return hashlib.sha256(repr(plan).encode()).hexdigest()[:16]


def rules_fingerprint(rules: list[heal_pb2.LinkRule]) -> str:
    data = heal_pb2.LinkFaultSet(rules=rules).SerializeToString(deterministic=True)
    return hashlib.sha256(data).hexdigest()[:16]


def push_kernel(
    plans: Mapping[int, KernelPlan],
    runners: Mapping[int, Runner],
    dry_run: bool = False,
) -> tuple[dict[int, list[list[str]]], dict[int, str]]:
    """Apply each node's plan (an empty plan clears); return the commands run
    per node and the errors per node."""

    def one(node: int) -> list[list[str]]:
        executor = KernelExecutor(runners[node], dry_run=dry_run)
        plan = plans[node]
        if not plan.shapes and not plan.drops:
            return executor.clear()
        return executor.apply(plan)

    done: dict[int, list[list[str]]] = {}
    errors: dict[int, str] = {}
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {node: pool.submit(one, node) for node in plans}
        for node, future in futures.items():
            try:
                done[node] = future.result()
            except NetemError as exc:
                errors[node] = str(exc)
    return done, errors


def push_rules(
    client: ControlClient,
    addresses: Mapping[int, str],
    targets: Mapping[int, NodeTarget],
    version: int,
) -> dict[int, str]:
    """Send each node its whole rule set; return errors per node, including
    a node whose echoed set differs from what was sent."""
    sets = {
        node: heal_pb2.LinkFaultSet(rules=targets[node].rules, version=version)
        for node in addresses
    }
    replies = client.set_link_faults(dict(addresses), sets, timeout=10.0)
    errors = {}
    for node, reply in replies.items():
        if isinstance(reply, str):
            errors[node] = reply
        elif reply != sets[node]:
            errors[node] = (
                f"node holds {len(reply.rules)} rules (version {reply.version}) "
                f"after being sent {len(sets[node].rules)} (version {version})"
            )
    return errors


def changed(
    targets: Mapping[int, NodeTarget],
    applied: Mapping[int, str],
    fingerprint: Callable[[NodeTarget], str],
) -> list[int]:
    """Nodes whose target differs from what they were last given. A node
    never given anything holds nothing (nodes start clean); a restarted
    node's entry is set to UNKNOWN by whoever restarted it,
    which no fingerprint equals, so it is given its state again."""
    empty = fingerprint(NodeTarget())
    return [n for n, t in targets.items() if applied.get(n, empty) != fingerprint(t)]


UNKNOWN = "unknown"
