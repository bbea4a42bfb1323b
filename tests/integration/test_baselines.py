"""The baselines on six real node processes: each learns well above chance,
reports its protocol and roles, and FedAvg stops learning when its server
dies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from controller import testbed
from controller.backends.process import ProcessBackend
from controller.control import ControlClient
from controller.rundir import RunDir
from tests.integration.conftest import mean_accuracy, poll, start_testbed

pytestmark = pytest.mark.integration

NODES = 6
TARGET = 0.75  # chance is 0.1 on ten digits
LEARN_TIMEOUT_S = 40


def protocols(run: RunDir) -> set[str]:
    state = run.load()
    with ControlClient(run.token()) as client:
        replies = client.status({r.id: r.address for r in state.nodes}, timeout=3.0)
    return {r.status.protocol for r in replies.values() if r.status is not None}


def learned(views: list[testbed.NodeView]) -> bool:
    return mean_accuracy(views) > TARGET


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[RunDir]]:
    """Testbeds the test starts go here; each is taken down afterwards."""
    runs: list[RunDir] = []
    yield runs
    for run in runs:
        leftovers = testbed.down(run)
        assert not leftovers, leftovers


@pytest.mark.parametrize("protocol", ["gossip", "epidemic"])
def test_serverless_baselines_learn(
    tmp_path: Path, started: list[RunDir], protocol: str
) -> None:
    run, _ = start_testbed(tmp_path, NODES, protocol=protocol, s=2)
    started.append(run)
    assert protocols(run) == {protocol}

    first = poll(run, lambda vs: all(v.accuracy is not None for v in vs), 10, 0.05)
    later = poll(run, learned, LEARN_TIMEOUT_S, every=0.5)

    assert learned(later), [(v.id, v.cycle, v.accuracy) for v in later]
    assert mean_accuracy(later) > mean_accuracy(first) + 0.2
    assert {v.role for v in later} == {"peer"}
    assert all(v.hubs == [] for v in later)
    assert testbed.majority_hubs(later) == [] and testbed.agreement(later) == 0.0
    print(
        f"{protocol}: mean accuracy {mean_accuracy(first):.3f} -> "
        f"{mean_accuracy(later):.3f} by cycle {max(v.cycle or 0 for v in later)}"
    )


def test_fedavg_learns_and_halts_when_its_server_dies(
    tmp_path: Path, started: list[RunDir]
) -> None:
    server = 2
    run, _ = start_testbed(tmp_path, NODES, protocol="fedavg", server_id=server)
    started.append(run)
    assert protocols(run) == {"fedavg"}

    first = poll(run, lambda vs: all(v.accuracy is not None for v in vs), 10, 0.05)
    alive = poll(run, learned, LEARN_TIMEOUT_S, every=0.5)
    assert learned(alive), [(v.id, v.cycle, v.accuracy) for v in alive]
    assert mean_accuracy(alive) > mean_accuracy(first) + 0.2
    roles = {v.id: v.role for v in alive}
    assert roles == {i: "server" if i == server else "client" for i in range(NODES)}
    assert testbed.majority_hubs(alive) == [server] and testbed.agreement(alive) == 1

    ProcessBackend().kill(run, run.load(), server)

    # Two cycles for pushes in flight at the kill to settle, then the clients'
    # accuracy at that point against five cycles on.
    def cycles_past(mark: dict[int, int], n: int):  # type: ignore[no-untyped-def]
        return lambda vs: all((v.cycle or 0) >= mark[v.id] + n for v in vs if v.alive)

    at_kill = {v.id: v.cycle or 0 for v in alive if v.id != server}
    settled = poll(run, cycles_past(at_kill, 2), 10, every=0.1)
    mark = {v.id: v.cycle or 0 for v in settled if v.alive}
    later = poll(run, cycles_past(mark, 5), 15, every=0.2)

    assert [v.id for v in later if not v.alive] == [server]
    assert all((v.cycle or 0) >= mark[v.id] + 5 for v in later if v.alive)
    before = {v.id: v.accuracy or 0.0 for v in settled if v.alive}
    rises = {v.id: (v.accuracy or 0.0) - before[v.id] for v in later if v.alive}
    assert max(rises.values()) <= 0.002, rises
    assert all(v.hubs == [server] for v in later if v.alive)
    print(
        f"fedavg: mean accuracy {mean_accuracy(first):.3f} -> "
        f"{mean_accuracy(alive):.3f} by cycle {max(v.cycle or 0 for v in alive)}; "
        f"server killed; largest rise over 5 cycles after: {max(rises.values()):.4f}"
    )
