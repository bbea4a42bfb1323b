"""Prometheus file-based service discovery: which nodes of a testbed to
scrape, and where its exporter listens. Rewritten whenever the set of
running nodes changes (crash, restart, churn), by the exporter's loop and by
the node faults themselves."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from controller.backends.base import Liveness
from controller.monitoring.paths import (
    all_load_targets,
    exporter_targets,
    nodes_targets,
    write_json,
)
from controller.rundir import RunDir, TestbedState


def protocol_of(state: TestbedState) -> str:
    node = state.settings.get("node")
    protocol = node.get("protocol") if isinstance(node, dict) else None
    return str(protocol or "heal")


def common_labels(state: TestbedState) -> dict[str, str]:
    return {
        "testbed": state.name,
        "protocol": protocol_of(state),
        "backend": state.backend,
    }


def node_groups(state: TestbedState, running: Iterable[int]) -> list[dict[str, Any]]:
    """One target group a node, so that each carries its own node label.
    Paused nodes stay listed: their failed scrapes (up == 0) show the pause."""
    keep = set(running)
    labels = common_labels(state)
    return [
        {"targets": [record.metrics], "labels": {**labels, "node": str(record.id)}}
        for record in state.nodes
        if record.id in keep
    ]


def write_nodes(run: RunDir, state: TestbedState, live: dict[int, Liveness]) -> bool:
    """Write the node targets; True when they changed."""
    groups = node_groups(state, (i for i, alive in live.items() if alive.alive))
    path = nodes_targets(run)
    try:
        if json.loads(path.read_text()) == groups:
            return False
    except (OSError, ValueError):
        pass
    write_json(path, groups)
    return True


def write_exporter(run: RunDir, state: TestbedState, address: str) -> None:
    write_json(
        exporter_targets(run), [{"targets": [address], "labels": common_labels(state)}]
    )


def remove(run: RunDir) -> None:
    """Forget the testbed: Prometheus stops scraping it within its refresh."""
    # Load generators remove their own; these are of ones killed outright.
    for path in (nodes_targets(run), exporter_targets(run), *all_load_targets(run)):
        path.unlink(missing_ok=True)


def refresh(run: RunDir) -> None:
    """Rewrite the node targets from the backend's view, now. Best effort:
    the exporter's loop corrects any miss within its period. Nothing to do
    for a testbed that is not monitored."""
    from controller.testbed import backend_named

    if not nodes_targets(run).exists():
        return
    try:
        state = run.load()
        live = backend_named(state.backend).liveness(run, state, memory=False)
        write_nodes(run, state, live)
    except Exception:
        return
