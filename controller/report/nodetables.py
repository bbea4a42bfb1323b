"""The tables only per-node series give: every node's accuracy, loss and
cycle at every step, its message counters, and the testbed's messages per
learning cycle."""

from __future__ import annotations

from pathlib import Path

from controller.report.messages import PerCycle
from controller.report.pernode import PerNode
from controller.report.series import write

NODE_COLUMNS = ("t_s", "node", "accuracy", "loss", "cycle")
MESSAGE_COLUMNS = ("t_s", "node", "type", "sent_total")
PER_CYCLE_COLUMNS = ("t_s", "type", "sent", "cycles", "per_cycle")


def write_nodes(path: Path, per_node: PerNode) -> int:
    rows = [
        (s.t_s, s.node, s.accuracy, s.loss, s.cycle)
        for s in sorted(per_node.samples, key=lambda s: (s.t_s, s.node))
    ]
    return write(path, NODE_COLUMNS, rows)


def write_messages(path: Path, per_node: PerNode) -> int:
    """Counter readings as they are: rates and resets are the reader's (or
    per_cycle's) to work out."""
    rows = [
        (m.t_s, m.node, m.type, m.sent_total)
        for m in sorted(per_node.messages, key=lambda m: (m.t_s, m.node, m.type))
    ]
    return write(path, MESSAGE_COLUMNS, rows)


def write_per_cycle(path: Path, rows: list[PerCycle]) -> int:
    return write(
        path,
        PER_CYCLE_COLUMNS,
        [(r.t_s, r.type, r.sent, r.cycles, _r(r.per_cycle)) for r in rows],
    )


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
