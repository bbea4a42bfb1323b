"""What a node that joins a running testbed needs besides a process or a
container: the next id, and a shard of its own.

`up` partitions the training set among the nodes it starts; a joiner comes
later and finds no shard. It gets one drawn from the union of the others'
shards, as many samples as the median shard holds, without replacement and
seeded by the testbed's seed and its id. It overlaps other nodes' data:
a joiner adds a learner, not new data, and under a Dirichlet partition its
shard is closer to IID than the others'. A shard already in place (a
caller's own choice) is kept.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from controller.backends.base import Placement
from controller.errors import StartError, UsageError
from controller.rundir import TestbedState
from node.config import NodeConfig
from node.data import DataError, load_shard, shard_file

log = logging.getLogger("controller")


def next_node_id(state: TestbedState) -> int:
    return max((r.id for r in state.nodes), default=-1) + 1


def check_joiner_config(config: NodeConfig, placement: Placement) -> None:
    """A config_for that ignored the placement would start a node no one
    reaches, or one that takes another node's id."""
    if config.node_id != placement.node_id or config.address != placement.address:
        raise UsageError(
            f"config_for gave node {config.node_id} at {config.address}; the "
            f"placement is node {placement.node_id} at {placement.address}"
        )


def ensure_joiner_shard(
    data_dir: Path, node_id: int, donors: list[int], seed: int
) -> Path:
    """The joiner's shard file, written from the donors' shards if missing."""
    path = Path(data_dir) / shard_file(node_id)
    if path.is_file():
        return path
    try:
        shards = [load_shard(data_dir, d) for d in donors]
    except DataError as exc:
        raise StartError(f"node {node_id} cannot join without data: {exc}") from exc
    if not shards:
        raise StartError(f"node {node_id} cannot join: no other node has a shard")

    x = np.concatenate([s[0] for s in shards])
    y = np.concatenate([s[1] for s in shards])
    size = int(np.median([len(s[1]) for s in shards]))
    pick = np.sort(np.random.default_rng([seed, node_id]).permutation(len(y))[:size])

    # Written aside and renamed, so that a node never reads half a file.
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        np.savez(handle, x=x[pick], y=y[pick])
    partial.replace(path)
    log.info(
        "node %d joins with %d samples drawn from the shards of nodes %s",
        node_id,
        size,
        _span(donors),
    )
    return path


def _span(ids: list[int]) -> str:
    ids = sorted(ids)
    if len(ids) > 2 and ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}-{ids[-1]}"
    return ", ".join(map(str, ids))
