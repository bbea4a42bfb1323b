"""One node's container: its config with container paths, mounts and limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker

from controller.backends.docker_engine import (
    CONFIG_IN,
    DATA_IN,
    LABEL_NODE,
    LABEL_ROLE,
    LABEL_TESTBED,
    TOKEN_IN,
    container_name,
    network_name,
)
from controller.backends.docker_options import DockerOptions
from controller.rundir import RunDir
from node.config import NodeConfig
from node.data import META_FILE, TEST_FILE, shard_file

_SECOND_NS = 1_000_000_000
# Each check starts a Python process in the container, about 0.05 s of CPU
# (see node.healthcheck): every 30 s, fifty containers spend under a tenth of
# a core on them.
HEALTHCHECK = docker.types.Healthcheck(
    test=["CMD", "python", "-m", "node.healthcheck", CONFIG_IN],
    interval=30 * _SECOND_NS,
    timeout=5 * _SECOND_NS,
    retries=3,
    start_period=60 * _SECOND_NS,
)
LOG_CONFIG = docker.types.LogConfig(
    type="json-file", config={"max-size": "20m", "max-file": "2"}
)


def write_container_config(run: RunDir, config: NodeConfig) -> Path:
    """The node's config as its container sees it, written into the run dir."""
    inside = config.model_copy(
        update={"data_dir": Path(DATA_IN), "token_file": Path(TOKEN_IN)}
    )
    node_dir = run.node_dir(config.node_id)
    node_dir.mkdir(parents=True, exist_ok=True)
    # A log saved when an earlier testbed of this name was removed.
    run.node_log(config.node_id).unlink(missing_ok=True)
    path = node_dir / "config.json"
    path.write_text(inside.model_dump_json(indent=2) + "\n")
    return path.resolve()


def mounts(run: RunDir, shard: int, config_file: Path) -> list[docker.types.Mount]:
    """The node's own files, read-only: shard, test split, meta, config, token."""
    data = run.data_dir.resolve()
    files = {
        f"{DATA_IN}/{shard_file(shard)}": data / shard_file(shard),
        f"{DATA_IN}/{TEST_FILE}": data / TEST_FILE,
        f"{DATA_IN}/{META_FILE}": data / META_FILE,
        CONFIG_IN: config_file,
        TOKEN_IN: run.token_file.resolve(),
    }
    return [
        docker.types.Mount(target, str(source), type="bind", read_only=True)
        for target, source in files.items()
    ]


def create_kwargs(
    run: RunDir,
    config: NodeConfig,
    *,
    image: str,
    options: DockerOptions,
    endpoint: Any,
) -> dict[str, Any]:
    """Arguments for containers.create(); endpoint carries the static address."""
    config_file = write_container_config(run, config)
    net = network_name(run.name)
    return {
        "image": image,
        "command": ["--config", CONFIG_IN],
        "name": container_name(run.name, config.node_id),
        "hostname": f"n{config.node_id:03d}",
        "labels": {
            LABEL_TESTBED: run.name,
            LABEL_NODE: str(config.node_id),
            LABEL_ROLE: "node",
        },
        "cap_add": ["NET_ADMIN"],
        "mem_limit": options.memory_bytes,
        "memswap_limit": options.memory_bytes,
        "nano_cpus": options.nano_cpus,
        "healthcheck": HEALTHCHECK,
        "mounts": mounts(run, config.data_shard, config_file),
        "network": net,
        "networking_config": {net: endpoint},
        "log_config": LOG_CONFIG,
    }
