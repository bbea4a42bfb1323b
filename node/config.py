"""A node's configuration: one validated, immutable object, from a file or flags."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# LeNet-5's layer sizes are fixed by its 28x28 single-channel input.
LENET5_INPUT_SHAPE = (1, 28, 28)

# The learning protocols a node runs (node.protocols.registry has one class
# for each); heal is the default, the others are its baselines.
Protocol = Literal["heal", "fedavg", "gossip", "epidemic"]
PROTOCOLS: tuple[str, ...] = get_args(Protocol)


class ConfigError(ValueError):
    """The configuration is invalid; the message names the field and the fix."""


class Peer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int = Field(ge=0)
    address: str = Field(min_length=3, description="host:port of the Node service")


class NodeConfig(BaseModel):
    """Everything one node needs. Defaults follow the HEAL paper where sensible."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    # Identity and endpoints
    node_id: int = Field(ge=0)
    bind_host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535, description="gRPC port (Node + Control)")
    advertise: str = Field("", description="host:port peers use; default bind:port")
    metrics_port: int = Field(0, ge=0, le=65535, description="0 disables metrics")
    token_file: Path | None = Field(None, description="control token; None = no auth")
    peers: tuple[Peer, ...] = Field((), description="bootstrap peers")

    # Data and model
    data_dir: Path
    shard: int | None = Field(
        None, ge=0, description="data shard to train on; default: the node id"
    )
    model: Literal["mlp", "lenet5"] = "mlp"
    protocol: Protocol = Field("heal", description=f"one of {', '.join(PROTOCOLS)}")

    # Elevator
    c: int = Field(20, ge=1, description="cache size")
    h: int = Field(5, ge=1, description="hub slots")
    standby: int = Field(
        5, ge=0, description="cache slots for the next-ranked nodes; 0 = paper"
    )
    backward_sample: int = Field(100, ge=1)
    overlay_period_s: float = Field(2.0, gt=0)
    dead_memory_cycles: int = Field(
        3, ge=0, description="overlay cycles a silent peer stays excluded"
    )

    # HEAL
    s: int = Field(
        1, ge=1, description="hubs a client pushes to; epidemic: peers a model goes to"
    )
    cycle_period_s: float = Field(2.0, gt=0, description="minimum cycle length")
    delta_s: float = Field(1.0, gt=0, description="hub collection window")
    exchange_timeout_s: float = Field(0.6, gt=0, description="wait for other hubs")
    client_deadline_s: float = Field(
        0.0, ge=0, description="wait for a global model; 0 = derived"
    )
    suspect_cycles: int = Field(3, ge=1, description="cycles a silent hub is avoided")
    rpc_timeout_s: float = Field(1.0, gt=0, description="overlay and ping RPCs")
    weighting: Literal["samples", "uniform"] = "samples"

    # Baselines
    server_id: int = Field(0, ge=0, description="fedavg: the node that aggregates")

    # Training
    local_steps: int = Field(10, ge=0)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(0.05, gt=0)
    optimizer: Literal["sgd", "adam"] = "sgd"
    momentum: float = Field(0.0, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    seed: int = Field(0, ge=0, lt=2**31)

    # Transport
    # A model must fit: the MLP is about 0.3 MB on the wire.
    max_message_bytes: int = Field(64 * 1024 * 1024, ge=4 * 1024 * 1024)
    log_json: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _check(self) -> NodeConfig:
        if self.h + self.standby >= self.c:
            raise ValueError(
                f"h + standby ({self.h} + {self.standby}) must be smaller than "
                f"c ({self.c})"
            )
        if self.protocol == "heal" and self.s > self.h:
            raise ValueError(f"s ({self.s}) must not exceed h ({self.h})")
        if any(p.id == self.node_id for p in self.peers):
            raise ValueError(f"peers must not contain the node itself ({self.node_id})")
        return self

    @property
    def address(self) -> str:
        return self.advertise or f"{self.bind_host}:{self.port}"

    @property
    def data_shard(self) -> int:
        return self.node_id if self.shard is None else self.shard

    @property
    def global_deadline_s(self) -> float:
        """How long a client waits for a hub's global model."""
        if self.client_deadline_s > 0:
            return self.client_deadline_s
        return self.delta_s + self.exchange_timeout_s + 2.0


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a JSON or YAML config file into a dict (not yet validated)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid JSON/YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top")
    return data


def validate(data: dict[str, Any], source: str) -> NodeConfig:
    try:
        return NodeConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from exc


def parse_args(argv: list[str] | None = None) -> NodeConfig:
    """`python -m node --config FILE [--field value ...]`; flags override the file."""
    parser = argparse.ArgumentParser(
        prog="python -m node",
        description="Run one HEAL testbed node (gRPC server, Elevator, HEAL cycle).",
    )
    parser.add_argument("--config", type=Path, help="JSON or YAML config file")
    for name, field in NodeConfig.model_fields.items():
        if name == "peers":
            parser.add_argument(
                "--peers", help="bootstrap peers as id=host:port,id=host:port"
            )
            continue
        default = "required" if field.is_required() else f"default {field.default}"
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar="VALUE",
            help=f"{field.description or name.replace('_', ' ')} ({default})",
        )
    args = parser.parse_args(argv)

    data: dict[str, Any] = load_config_file(args.config) if args.config else {}
    for name in NodeConfig.model_fields:
        value = getattr(args, name)
        if value is None:
            continue
        if name == "peers":
            value = _parse_peers(value)
        data[name] = value
    return validate(data, str(args.config or "flags"))


def _parse_peers(text: str) -> list[dict[str, Any]]:
    peers = []
    for item in filter(None, text.split(",")):
        ident, sep, address = item.partition("=")
        if not sep or not ident.isdigit():
            raise ConfigError(f"--peers: '{item}' is not id=host:port")
        peers.append({"id": int(ident), "address": address})
    return peers
