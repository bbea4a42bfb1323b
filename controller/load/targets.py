"""Which nodes the load goes to, read again from the run directory every
few seconds: a node that `add` or churn brings in is called from then on,
and a crashed node stays a target, so its failed calls are counted."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from controller.errors import ControllerError
from controller.rundir import RunDir

REFRESH_S = 2.0


@dataclass
class NodeBook:
    run: RunDir
    refresh_s: float = REFRESH_S
    clock: Callable[[], float] = time.monotonic
    addresses: dict[int, str] = field(default_factory=dict)
    _read_at: float | None = None

    def current(self) -> dict[int, str]:
        """Node id to host:port, as of the last read. When the state cannot
        be read (being rewritten, or gone) the previous list stays."""
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.refresh_s:
            self._read_at = now
            try:
                state = self.run.load()
            except ControllerError:
                return self.addresses
            self.addresses = {record.id: record.address for record in state.nodes}
        return self.addresses


def request_name(node: int, rpc: str) -> str:
    """How Locust names a call: one row a node and RPC in its statistics."""
    return f"node-{node} {rpc}"


def parse_name(name: str) -> tuple[int, str] | None:
    """(node, rpc) from a request name; None for other rows (Aggregated)."""
    who, _, rpc = name.partition(" ")
    prefix, _, number = who.partition("-")
    if prefix != "node" or not number.isdigit() or not rpc:
        return None
    return int(number), rpc
