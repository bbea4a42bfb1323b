"""Learning messages per cycle that each protocol should send, by its
definition, for n nodes, h hubs and fan-out s (HEAL.md):

    heal      2(n - h)s + h(h - 1)   pushes, the hubs' answers, hub exchange
    fedavg    2(n - 1)               pushes to the server and its answers
    gossip    n                      one model a node
    epidemic  n s                    s models a node

A comparison prints the measured rate beside it. The settings are read
from node 0's config in the run directory, as the nodes got them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from controller.rundir import RunDir


@dataclass(frozen=True)
class Shape:
    protocol: str
    n: int
    h: int
    s: int


def shape(run: RunDir) -> Shape | None:
    """The protocol, node count, h and s the run's nodes were given; None
    when the run directory has no node config."""
    try:
        config = json.loads((run.node_dir(0) / "config.json").read_text())
        nodes = len(run.load().nodes)
    except (OSError, ValueError):
        return None
    return Shape(
        str(config.get("protocol", "heal")),
        nodes,
        int(config.get("h", 0)),
        int(config.get("s", 1)),
    )


def per_cycle(shape: Shape, n: int | None = None) -> float | None:
    """The protocol's learning messages per cycle, for n nodes alive (the
    testbed's size by default); None for a protocol not known here."""
    n = shape.n if n is None else n
    h, s = shape.h, shape.s
    formulas = {
        "heal": 2 * (n - h) * s + h * (h - 1),
        "fedavg": 2 * (n - 1),
        "gossip": n,
        "epidemic": n * s,
    }
    found = formulas.get(shape.protocol)
    return None if found is None else float(found)
