"""Node faults on containers: pause, unpause, crash and restart, a node that
joins, commands run in a container's namespace, and `down` after it all."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

import docker
import pytest

from controller import plan, testbed
from controller.backends.base import RUNNER_FAILED
from controller.backends.docker import DockerBackend
from controller.backends.docker_engine import network_name
from controller.errors import ConflictError
from controller.rundir import RunDir
from tests.docker.conftest import FAST, labelled, nothing_left, sweep, unique_name
from tests.integration.test_node_faults import Statuses, joiner, statuses, wait_for

pytestmark = pytest.mark.docker

NODES = 4


def test_node_faults_and_runner(engine: docker.DockerClient, tmp_path: Path) -> None:
    name = unique_name("faults")
    run = RunDir((tmp_path / name).resolve())
    backend = DockerBackend()
    settings = plan.TestbedSettings(nodes=NODES, seed=3, node=dict(FAST))
    try:
        testbed.up(
            settings,
            backend,
            run,
            timeout=120,
            on_phase=lambda _: None,
            on_progress=lambda *_: None,
        )
        state = run.load()
        ip = {r.id: r.address.split(":")[0] for r in state.nodes}

        # Each runner works in its own container's namespace, by nsenter
        # from the host and by the exec API alike.
        kinds = {}
        for by_nsenter in (True, False):
            backend.namespace_runners = by_nsenter
            kinds[by_nsenter] = backend.runners(run, state, range(NODES))
            for node_id, runner in kinds[by_nsenter].items():
                code, output = runner(["ip", "-o", "-4", "addr", "show", "eth0"])
                assert code == 0 and f" {ip[node_id]}/" in output, output
            code, output = kinds[by_nsenter][0](["ip", "link", "show", "nothing0"])
            assert code != 0 and "nothing0" in output, (code, output)
        assert type(kinds[True][0]).__name__ == "NamespaceRunner"
        runners = kinds[False]  # the exec API refuses paused and dead ones

        # Pause: alive but silent, and exec refused; unpause: answers again.
        backend.pause(run, state, 1)
        live = backend.liveness(run, state)
        assert live[1].alive and live[1].paused, live[1]
        assert not any(live[i].paused for i in live if i != 1), live
        assert statuses(run, [1]) == {}
        assert runners[1](["true"])[0] == RUNNER_FAILED
        backend.unpause(run, state, 1)
        assert not backend.liveness(run, state)[1].paused
        assert 1 in wait_for(run, [1], lambda s: 1 in s, timeout=10)

        # Crash and restart: the same id answers at the same address with
        # its cycle counter started afresh, in a fresh namespace.
        before = wait_for(run, [2], lambda s: 2 in s and s[2].cycle >= 8, 60)[2]
        backend.kill(run, state, 2)
        assert not backend.liveness(run, state)[2].alive
        with pytest.raises(ConflictError, match="exited"):
            backend.pause(run, state, 2)
        backend.unpause(run, state, 2)  # not paused: left alone
        assert runners[2](["true"])[0] == RUNNER_FAILED
        backend.namespace_runners = True  # no pid: falls back to exec
        assert backend.runner(run, state, 2)(["true"])[0] == RUNNER_FAILED
        backend.restart(run, state, 2)
        after = wait_for(run, [2], lambda s: 2 in s, timeout=60)
        assert 2 in after, backend.log_lines(run, state, 2)[-10:]
        assert after[2].cycle < before.cycle // 2, (after[2].cycle, before.cycle)
        code, output = runners[2](["ip", "-o", "-4", "addr", "show", "eth0"])
        assert code == 0 and f" {ip[2]}/" in output, output

        # Node 4 joins knowing only node 0, at the next address of the network.
        record = backend.add_node(run, state, settings, joiner(run, peers=[0]))
        net = engine.networks.get(network_name(name))
        subnet = ipaddress.IPv4Network(net.attrs["IPAM"]["Config"][0]["Subnet"])
        assert record.id == NODES
        assert record.address == f"{subnet.network_address + 2 + NODES}:50051"
        assert [r.id for r in run.load().nodes] == list(range(NODES + 1))
        new = wait_for(
            run, [NODES], lambda s: NODES in s and len(s[NODES].cache) >= 3, 60
        )
        assert NODES in new, backend.log_lines(run, state, NODES)[-10:]
        assert len(new[NODES].cache) >= 3, list(new[NODES].cache)

        def known_by_others(found: Statuses) -> bool:
            return sum(NODES in s.cache for i, s in found.items() if i != NODES) >= 2

        others = wait_for(run, list(range(NODES)), known_by_others, timeout=30)
        assert known_by_others(others), {i: list(s.cache) for i, s in others.items()}

        # down takes a paused container too, without waiting out the timeout.
        backend.pause(run, state, 3)
        began = time.monotonic()
        assert testbed.down(run, timeout=20) == []
        assert time.monotonic() - began < 10
        assert nothing_left(engine, name), labelled(engine, name)
    finally:
        sweep(engine, run.path, name)
