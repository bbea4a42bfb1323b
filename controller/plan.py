"""From `up`'s settings to one NodeConfig per node: ids, ports, bootstrap peers."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from controller.datasets import INPUT_SHAPES
from controller.errors import UsageError
from node.config import LENET5_INPUT_SHAPE, NodeConfig


class TestbedSettings(BaseModel):
    __test__ = False  # a name pytest would otherwise try to collect

    """What `up` was asked for. Node-level settings go to every node."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    nodes: int = Field(ge=2, le=1000)
    dataset: Literal["mnist5k", "digits"] = "mnist5k"
    partition: Literal["iid", "dirichlet"] = "iid"
    alpha: float = Field(0.5, gt=0)
    seed: int = Field(0, ge=0, lt=2**31)
    host: str = "127.0.0.1"
    base_port: int = Field(47000, ge=1024, le=65000)
    node: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _node_settings_valid(self) -> TestbedSettings:
        """Check node settings now, before anything is written or started."""
        identity = {"node_id": 0, "port": 1, "data_dir": "."}
        try:
            NodeConfig.model_validate({**self.node, **identity})
        except ValidationError as exc:
            raise ValueError(_describe(exc)) from None
        return self

    @model_validator(mode="after")
    def _model_fits_data(self) -> TestbedSettings:
        shape = INPUT_SHAPES[self.dataset]
        if self.node.get("model") == "lenet5" and shape != LENET5_INPUT_SHAPE:
            raise ValueError(
                f"--model lenet5 needs {LENET5_INPUT_SHAPE} images; dataset "
                f"{self.dataset} has {shape}: use --model mlp or --dataset mnist5k"
            )
        return self

    @model_validator(mode="after")
    def _server_exists(self) -> TestbedSettings:
        server = self.fedavg_server
        if server is not None and server >= self.nodes:
            raise ValueError(
                f"server_id {server}: no such node; the fedavg server must be "
                f"one of nodes 0-{self.nodes - 1}"
            )
        return self

    @property
    def fedavg_server(self) -> int | None:
        """The id of the fedavg server, or None for the serverless protocols."""
        identity = {"node_id": 0, "port": 1, "data_dir": "."}
        config = NodeConfig.model_validate({**self.node, **identity})
        return config.server_id if config.protocol == "fedavg" else None

    @model_validator(mode="after")
    def _ports_fit(self) -> TestbedSettings:
        top = self.base_port + 2 * self.nodes
        if top > 65535:
            raise ValueError(
                f"--base-port {self.base_port} leaves no room for {self.nodes} nodes "
                f"(needs ports up to {top}); choose one below {65535 - 2 * self.nodes}"
            )
        return self


def ports(settings: TestbedSettings, node_id: int) -> tuple[int, int]:
    """(gRPC port, metrics port) of a node on the process backend."""
    grpc_port = settings.base_port + 2 * node_id
    return grpc_port, grpc_port + 1


def bootstrap_peers(n: int, c: int, seed: int) -> list[list[int]]:
    """c random other nodes for each node (all others when n - 1 <= c)."""
    rng = random.Random(seed)
    peers = []
    for me in range(n):
        others = [i for i in range(n) if i != me]
        peers.append(sorted(rng.sample(others, min(c, len(others)))))
    return peers


def with_server(peers: list[int], node_id: int, server: int | None) -> list[int]:
    """A node's peers, with the fedavg server added: every client must reach it."""
    if server is None or server == node_id or server in peers:
        return peers
    return sorted([*peers, server])


def paced(
    nodes: int, cores: int, given: dict[str, Any], pace_s: float = 0.08
) -> dict[str, float]:
    """Cycle lengths that keep the machine below saturation, for the settings
    the user did not give.

    Measured here, a node costs about 33 ms of CPU per second at a 2 s
    overlay and learning cycle, most of it gRPC and torch overhead. Keeping
    nodes x cost under about two thirds of the cores leaves room for
    deadlines to hold; past that, RPCs miss deadlines and the overlay
    thrashes. The overlay cycle gets twice the learning cycle's length, the
    hubs' collection window three quarters of it.
    pace_s is the learning cycle per node per core; containers cost more
    than forked processes, so each backend names its own.
    """
    load = nodes / max(1, cores)
    cycle = max(1.0, round(pace_s * load, 1))
    paced = {
        "cycle_period_s": cycle,
        "overlay_period_s": 2 * cycle,
        # The clients' cycles are not in step: a window of half a cycle
        # closes before the last pushes of a cycle arrive, and a hub runs
        # about 1.6 rounds (and exchanges) a cycle; three quarters catch a
        # cycle's pushes in one round (measured at 50 nodes).
        "delta_s": round(0.75 * cycle, 2),
        "exchange_timeout_s": round(0.3 * cycle, 2),
    }
    return {k: v for k, v in paced.items() if k not in given}


def sized(nodes: int, given: dict[str, Any]) -> dict[str, int]:
    """Hub slots for small testbeds, for the settings the user did not give.

    Hubs do not train; with the default h = 5 a testbed of six nodes or
    fewer would be all hubs and never learn. Keep h below half the nodes.
    """
    h = int(given.get("h", min(5, max(1, (nodes - 1) // 2))))
    fitted = {"h": h, "standby": min(h, 5)}
    return {k: v for k, v in fitted.items() if k not in given}


def node_configs(
    settings: TestbedSettings,
    *,
    addresses: list[str],
    data_dir: Path,
    token_file: Path | None,
    bind: list[tuple[str, int, int]],
    pace_s: float = 0.08,
) -> list[NodeConfig]:
    """One config per node. bind[i] = (bind host, gRPC port, metrics port)."""
    c = int(settings.node.get("c", NodeConfig.model_fields["c"].default))
    peers = bootstrap_peers(settings.nodes, c, settings.seed)
    server = settings.fedavg_server
    peers = [with_server(p, i, server) for i, p in enumerate(peers)]
    return [
        node_config(
            settings,
            node_id=i,
            address=addresses[i],
            bind=bind[i],
            peers=[(p, addresses[p]) for p in peers[i]],
            data_dir=data_dir,
            token_file=token_file,
            pace_s=pace_s,
        )
        for i in range(settings.nodes)
    ]


def node_config(
    settings: TestbedSettings,
    *,
    node_id: int,
    address: str,
    bind: tuple[str, int, int],
    peers: list[tuple[int, str]],
    data_dir: Path,
    token_file: Path | None,
    pace_s: float,
    shard: int | None = None,
) -> NodeConfig:
    """One node's config; also for nodes that join a running testbed, which
    train on the shard of a node that left (shard)."""
    host, port, metrics_port = bind
    data = {
        **paced(settings.nodes, os.cpu_count() or 1, settings.node, pace_s),
        **sized(settings.nodes, settings.node),
        **settings.node,
        "node_id": node_id,
        "bind_host": host,
        "port": port,
        "advertise": address,
        "metrics_port": metrics_port,
        "token_file": token_file,
        "data_dir": data_dir,
        "shard": shard,
        "seed": settings.seed,
        "peers": [{"id": p, "address": a} for p, a in peers],
    }
    try:
        return NodeConfig.model_validate(data)
    except ValidationError as exc:
        raise UsageError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "node settings"
        parts.append(f"node setting {field!r}: {err['msg']}")
    return "; ".join(parts)
