"""What the whole testbed has sent, by message type, from the nodes' own
counters as each observation reads them.

A node's counters start at zero when it starts, so a crash or a restart
would make a plain sum go down. The tally adds each node's increase since
its previous reading instead; a counter lower than before belongs to a
restarted node and counts from zero. Messages a node sent between its last
reading and its death are lost, which the observation period bounds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from controller.testbed import NodeView


@dataclass
class Tally:
    messages: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _last: dict[tuple[int, str, str], int] = field(default_factory=dict)

    def read(self, views: Iterable[NodeView]) -> None:
        for view in views:
            if not view.healthy:
                continue
            self._add(view.id, "messages", view.messages_sent, self.messages)
            self._add(view.id, "bytes", view.bytes_sent, self.bytes)

    def _add(
        self, node: int, what: str, now: dict[str, int], into: dict[str, int]
    ) -> None:
        for kind, total in now.items():
            before = self._last.get((node, what, kind), 0)
            into[kind] += total - before if total >= before else total
            self._last[(node, what, kind)] = total

    def snapshot(self) -> dict[str, dict[str, int]]:
        """For the event log: totals so far by type."""
        return {
            "sent": dict(sorted(self.messages.items())),
            "sent_bytes": dict(sorted(self.bytes.items())),
        }
