"""Network: what the nodes send and receive, what fails, and which faults
are in force, by which mechanism, with what effect inside the nodes."""

from __future__ import annotations

from .board import dashboard
from .fault_rows import PER_SECOND, in_force, in_node_effects, rate
from .query import Json, sel
from .summary import stat
from .timeseries import FAULTS_EXPR, timeseries


def _traffic(title: str, metric: str, unit: str) -> Json:
    return timeseries(
        title,
        "Summed over all nodes, by message type.",
        [(rate(metric, "type"), "{{type}}")],
        unit,
    )


def build() -> Json:
    stats = [
        stat(
            "Messages sent",
            "All types, all nodes.",
            rate("heal_transport_messages_sent_total"),
            PER_SECOND,
        ),
        stat(
            "Bytes sent",
            "Payload bytes, all nodes.",
            rate("heal_transport_sent_bytes_total"),
            "Bps",
        ),
        stat(
            "RPC failures",
            "Outgoing calls that failed.",
            rate("heal_transport_rpc_failures_total"),
            PER_SECOND,
        ),
        stat(
            "Deadlines missed",
            "Waits that ended at their deadline.",
            rate("heal_deadlines_missed_total"),
            PER_SECOND,
        ),
        stat(
            "Faults in force", "Faults of every kind now in force.", FAULTS_EXPR, "none"
        ),
        stat(
            "In-node link rules",
            "Rules in force in all nodes.",
            f"sum({sel('heal_linkfault_rules')})",
            "none",
        ),
    ]
    messages = [
        _traffic(
            "Messages sent by type", "heal_transport_messages_sent_total", PER_SECOND
        ),
        _traffic(
            "Messages received by type",
            "heal_transport_messages_received_total",
            PER_SECOND,
        ),
    ]
    volume = [
        _traffic("Bytes sent by type", "heal_transport_sent_bytes_total", "Bps"),
        _traffic(
            "Bytes received by type", "heal_transport_received_bytes_total", "Bps"
        ),
    ]
    failures = [
        timeseries(
            "RPC failures by code",
            "Outgoing calls that failed, by gRPC status code and message type.",
            [
                (
                    rate("heal_transport_rpc_failures_total", "code, type"),
                    "{{code}} ({{type}})",
                )
            ],
            PER_SECOND,
        ),
        timeseries(
            "Deadlines missed by kind",
            "Waits (for pushes, aggregates, global models) that ended at their "
            "deadline.",
            [(rate("heal_deadlines_missed_total", "kind"), "{{kind}}")],
            PER_SECOND,
        ),
    ]
    return dashboard(
        "heal-network",
        "HEAL network",
        "Traffic, failures, and the faults in force with their mechanism and effect.",
        [stats, messages, volume, failures, in_force(), in_node_effects()],
    )
