"""Five HEAL nodes as containers: up, training, a crashed container, down."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from controller import plan, testbed
from controller.backends.docker import DockerBackend
from controller.backends.docker_engine import network_name
from controller.rundir import RunDir
from tests.docker.conftest import FAST, labelled, nothing_left, sweep, unique_name

pytestmark = pytest.mark.docker

NODES = 5


def poll(
    run: RunDir,
    backend: DockerBackend,
    done: Callable[[list[testbed.NodeView]], bool],
    timeout: float,
) -> list[testbed.NodeView]:
    deadline = time.monotonic() + timeout
    while True:
        views = testbed.collect(run, backend, with_logs=True)
        if done(views) or time.monotonic() > deadline:
            return views
        time.sleep(1.0)


def mean_accuracy(views: list[testbed.NodeView]) -> float:
    accs = [v.accuracy for v in views if v.alive and v.accuracy is not None]
    return sum(accs) / len(accs) if accs else 0.0


def test_up_train_crash_down(engine: docker.DockerClient, tmp_path: Path) -> None:
    name = unique_name("e2e")
    run = RunDir((tmp_path / name).resolve())
    backend = DockerBackend()
    settings = plan.TestbedSettings(nodes=NODES, seed=3, node=dict(FAST))
    try:
        started = testbed.up(
            settings,
            backend,
            run,
            timeout=120,
            on_phase=lambda _: None,
            on_progress=lambda *_: None,
        )
        assert len(started) == NODES and all(v.healthy for v in started)

        # One internal network; node i at the subnet's (i + 2)th address.
        net = engine.networks.get(network_name(name))
        assert net.attrs["Internal"] is True
        subnet = ipaddress.IPv4Network(net.attrs["IPAM"]["Config"][0]["Subnet"])
        state = run.load()
        for record in state.nodes:
            assert record.container == f"heal-{name}-n{record.id:03d}"
            assert record.address == f"{subnet.network_address + 2 + record.id}:50051"

        # The engine's health check, run at once instead of waiting for it.
        container = engine.containers.get(state.nodes[0].container)
        probe = container.exec_run(["python", "-m", "node.healthcheck"])
        assert probe.exit_code == 0, probe.output

        first = poll(run, backend, lambda vs: all(v.accuracy for v in vs), 60)
        later = poll(run, backend, lambda vs: mean_accuracy(vs) >= 0.8, 120)
        assert mean_accuracy(later) >= 0.8, [(v.id, v.accuracy) for v in later]
        assert mean_accuracy(later) > mean_accuracy(first)
        assert all(v.memory_mib and 50 < v.memory_mib < 512 for v in later), [
            v.memory_mib for v in later
        ]

        backend.kill(run, state, NODES - 1)
        views = poll(run, backend, lambda vs: not vs[-1].alive, 30)
        crashed = views[-1]
        assert not crashed.alive and crashed.exit_code == 137, crashed
        assert crashed.last_log, "a dead node's last log lines are shown"
        assert all(v.alive for v in views[:-1])

        assert testbed.down(run) == []
        assert nothing_left(engine, name), labelled(engine, name)
        saved = backend.log_lines(run, state, NODES - 1)
        assert "is gone" in saved[-1] and len(saved) > 1
    finally:
        sweep(engine, run.path, name)
