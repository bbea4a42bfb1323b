"""Node faults on real node processes: pause, unpause, crash and restart, a
node that joins, and `down` after all of it leaving no process behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from controller import testbed
from controller.backends.base import Placement
from controller.backends.process import ProcessBackend
from controller.backends.process_procs import spawn_launcher
from controller.control import ControlClient
from controller.errors import ConflictError, UsageError
from controller.plan import TestbedSettings
from controller.rundir import RunDir
from node.config import NodeConfig, Peer
from protos import heal_pb2
from tests.integration.conftest import start_testbed

pytestmark = pytest.mark.integration

NODES = 5
Statuses = dict[int, heal_pb2.NodeStatus]


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[RunDir, TestbedSettings]]:
    run, settings = start_testbed(tmp_path, NODES)
    try:
        yield run, settings
    finally:
        if run.load().phase != "down":
            testbed.down(run)


def statuses(run: RunDir, ids: list[int], timeout: float = 1.0) -> Statuses:
    """The status of each node in ids that answered within timeout."""
    addresses = {r.id: r.address for r in run.load().nodes if r.id in ids}
    with ControlClient(run.token()) as client:
        replies = client.status(addresses, timeout)
    return {i: r.status for i, r in replies.items() if r.status is not None}


def wait_for(
    run: RunDir, ids: list[int], done: Callable[[Statuses], bool], timeout: float
) -> Statuses:
    deadline = time.monotonic() + timeout
    while True:
        found = statuses(run, ids)
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def processes_naming(path: Path) -> list[str]:
    """Command lines of every process that names path in its arguments."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if any(str(path) in arg for arg in argv):
            found.append(" ".join(argv))
    return found


def joiner(run: RunDir, peers: list[int]) -> Callable[[Placement], NodeConfig]:
    """config_for: node 0's config, moved to the placement, with peers."""

    def config_for(placement: Placement) -> NodeConfig:
        template = json.loads((run.node_dir(0) / "config.json").read_text())
        state = run.load()
        return NodeConfig.model_validate(
            {
                **template,
                "node_id": placement.node_id,
                "bind_host": placement.bind_host,
                "port": placement.port,
                "metrics_port": placement.metrics_port,
                "advertise": placement.address,
                "peers": [
                    Peer(id=r.id, address=r.address)
                    for r in state.nodes
                    if r.id in peers
                ],
            }
        )

    return config_for


def test_pause_unpause(started: tuple[RunDir, TestbedSettings]) -> None:
    run, _ = started
    backend, state = ProcessBackend(), run.load()

    at_pause = statuses(run, [0, 1])
    backend.pause(run, state, 1)
    live = backend.liveness(run, state)
    assert live[1].alive and live[1].paused, live[1]
    assert not any(live[i].paused for i in live if i != 1), live
    assert statuses(run, [1]) == {}, "a paused node answers nothing"
    assert set(statuses(run, [0, 2, 3, 4])) == {0, 2, 3, 4}
    goal = at_pause[0].cycle + 3
    moved = wait_for(run, [0], lambda s: 0 in s and s[0].cycle >= goal, 20)
    assert moved[0].cycle >= goal, "the others go on meanwhile"

    backend.unpause(run, state, 1)
    assert not backend.liveness(run, state)[1].paused
    answered = wait_for(run, [1], lambda s: 1 in s, timeout=5)
    assert 1 in answered, "an unpaused node answers again"
    # It ran no cycle while paused, and runs on from where it was.
    assert answered[1].cycle <= at_pause[1].cycle + 2, (answered, at_pause)
    later = wait_for(run, [1], lambda s: s[1].cycle > answered[1].cycle, timeout=5)
    assert later[1].cycle > answered[1].cycle


def test_crash_restart_join_then_down(
    started: tuple[RunDir, TestbedSettings],
) -> None:
    run, settings = started
    backend, state = ProcessBackend(), run.load()

    # Crash node 2 after some cycles; restart brings it back at its address
    # as a fresh process whose cycle counter starts again.
    before = wait_for(run, [2], lambda s: 2 in s and s[2].cycle >= 10, timeout=30)[2]
    old_pid = state.nodes[2].pid
    assert old_pid is not None
    old = psutil.Process(old_pid)
    backend.kill(run, state, 2)
    assert psutil.wait_procs([old], timeout=5)[0], "SIGKILL ended the node"
    assert not backend.liveness(run, state)[2].alive
    with pytest.raises(ConflictError, match="not running"):
        backend.pause(run, state, 2)
    backend.unpause(run, state, 2)  # not paused: left alone
    with pytest.raises(UsageError, match="no such node"):
        backend.restart(run, state, 42)

    restarted_at = time.monotonic()
    backend.restart(run, state, 2)
    saved = run.load().nodes[2]
    assert saved.pid not in (None, old_pid) and saved.address == state.nodes[2].address
    after = wait_for(run, [2], lambda s: 2 in s, timeout=30)
    assert 2 in after, backend.log_lines(run, state, 2)[-10:]
    assert after[2].id == 2
    assert after[2].cycle < before.cycle // 2, (after[2].cycle, before.cycle)
    assert after[2].uptime_seconds < time.monotonic() - restarted_at + 1

    # A running node restarts too.
    running_pid = saved.pid
    backend.restart(run, state, 3)
    assert run.load().nodes[3].pid != running_pid
    assert 3 in wait_for(run, [3], lambda s: 3 in s, timeout=30)

    # Node 5 joins, knowing only nodes 0 and 1; it learns the others and
    # they learn it.
    record = backend.add_node(run, state, settings, joiner(run, peers=[0, 1]))
    assert record.id == NODES
    assert [r.id for r in run.load().nodes] == list(range(NODES + 1))
    assert backend.liveness(run, state)[NODES].alive
    new = wait_for(
        run, [NODES], lambda s: NODES in s and len(s[NODES].cache) >= 4, timeout=30
    )
    assert NODES in new, backend.log_lines(run, state, NODES)[-10:]
    assert len(new[NODES].cache) >= 4, list(new[NODES].cache)

    def known_by_others(found: Statuses) -> bool:
        return sum(NODES in s.cache for i, s in found.items() if i != NODES) >= 3

    others = wait_for(run, list(range(NODES)), known_by_others, timeout=30)
    assert known_by_others(others), {i: list(s.cache) for i, s in others.items()}

    # down stops a paused node, and what a controller that died in the
    # middle of restart did not record: node 3 as before its restart, and a
    # launcher that no state or pid file knows, still importing.
    backend.pause(run, state, 4)
    raw = json.loads(run.state_file.read_text())
    raw["extra_launchers"] = []
    raw["nodes"][3]["pid"] = running_pid
    run.state_file.write_text(json.dumps(raw))
    unknown = run.node_dir(99)
    unknown.mkdir()
    shutil.copy(run.node_dir(0) / "config.json", unknown / "config.json")
    orphan = spawn_launcher(run, [unknown])

    try:
        began = time.monotonic()
        assert testbed.down(run, timeout=20) == []
        assert time.monotonic() - began < 10, "a paused node stops without SIGKILL"
        assert processes_naming(run.path) == []
    finally:
        if orphan.poll() is None:  # down missed it: do not leave it running
            os.killpg(orphan.pid, signal.SIGKILL)
