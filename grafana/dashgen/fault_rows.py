"""The network board's fault rows: which faults are in force, on which
nodes and by which mechanism, and what the in-node ones do to messages."""

from __future__ import annotations

from .query import Json, sel
from .summary import table
from .timeseries import timeseries

PER_SECOND = "suffix:/s"
FAULT_KEYS = "fault, kind, node, mechanism"


def rate(metric: str, by: str = "") -> str:
    """Summed over the testbed's nodes, kept apart by the labels in by."""
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}(rate({sel(metric)}[$__rate_interval]))"


def in_force() -> list[Json]:
    return [
        table(
            "Faults in force",
            "One row per fault and targeted node, with the mechanism that "
            "applies it (in-node, a kernel qdisc or iptables rule, or docker).",
            [(f"max by ({FAULT_KEYS}) ({sel('heal_testbed_fault_active')})", None, "")],
            ["fault", "kind", "node", "mechanism"],
            width=12,
        ),
        table(
            "Fault events",
            "Faults applied and cleared since the exporter started, by kind.",
            [
                (
                    f"max by (kind, action) ({sel('heal_testbed_fault_events_total')})",
                    "events",
                    "none",
                )
            ],
            ["kind", "action"],
            width=6,
        ),
        timeseries(
            "Faults in force by kind",
            "Faults now in force, stacked by kind.",
            [(f"sum by (kind) ({sel('heal_testbed_faults_active')})", "{{kind}}")],
            "none",
            stack=True,
            faults=False,
            width=6,
        ),
    ]


def in_node_effects() -> list[Json]:
    return [
        timeseries(
            "In-node link fault effects",
            "Messages the in-node link faults dropped, delayed, throttled or "
            "duplicated, summed over the nodes.",
            [
                (
                    rate("heal_linkfault_messages_total", "direction, effect"),
                    "{{effect}} ({{direction}})",
                )
            ],
            PER_SECOND,
        ),
        timeseries(
            "Time held by in-node faults",
            "Seconds per second that in-node delays and rate limits held "
            "messages back, summed over the nodes.",
            [(rate("heal_linkfault_held_seconds_total", "direction"), "{{direction}}")],
            "s",
        ),
    ]
