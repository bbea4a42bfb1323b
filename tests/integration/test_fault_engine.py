"""The fault engine on real node processes: faults reach the nodes through
the in-node way, their effect shows on real pings, and clearing restores
the baseline and the book."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import pytest

from controller import testbed
from controller.control import ControlClient
from controller.errors import UsageError
from controller.faults.api import Faults
from controller.faults.book import load_book
from controller.faults.events import read_events
from controller.rundir import RunDir
from tests.integration.conftest import start_testbed

pytestmark = pytest.mark.integration

NODES = 6


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunDir]:
    run, _ = start_testbed(tmp_path_factory.mktemp("faults"), NODES)
    try:
        connect_all(run)
        yield run
    finally:
        leftovers = testbed.down(run)
        assert not leftovers, leftovers


def connect_all(run: RunDir, timeout: float = 20.0) -> None:
    """Wait until every node reaches every other: a node that called a peer
    before it listened keeps a failed channel for up to a second."""
    deadline = time.monotonic() + timeout
    pending = [(a, b) for a in range(NODES) for b in range(NODES) if a != b]
    while pending and time.monotonic() < deadline:
        pending = [(a, b) for a, b in pending if pings(run, a, b, count=1)[0] < 1]
        if pending:
            time.sleep(0.2)
    assert not pending, f"links not up after {timeout} s: {pending}"


def pings(run: RunDir, source: int, target: int, count: int = 10) -> tuple[int, float]:
    """(answered, median round trip in ms) of pings from source to target."""
    nodes = run.load().nodes
    with ControlClient(run.token()) as client:
        reply = client.probe(
            nodes[source].address,
            nodes[target].address,
            count,
            timeout_s=0.5,
            concurrency=count,
            rpc_timeout=30,
        )
    rtts = list(reply.rtt_ms)
    return len(rtts), statistics.median(rtts) if rtts else float("nan")


def rules_on(run: RunDir, node: int) -> list[str]:
    record = run.load().nodes[node]
    with ControlClient(run.token()) as client:
        reply = client.get_link_faults({node: record.address}, timeout=5)[node]
    assert not isinstance(reply, str), reply
    return [r.fault_id for r in reply.rules]


def test_partition_cuts_across_groups_only_and_heal_restores(run: RunDir) -> None:
    faults = Faults(run)
    assert faults.caps is None  # processes: every link fault goes in-node
    assert pings(run, 0, 4)[0] == 10

    fault = faults.apply("partition", {}, groups=[[0, 1, 2], [3, 4, 5]])
    assert fault is not None
    assert fault.mechanisms == {"innode": list(range(NODES))}
    assert pings(run, 0, 4)[0] == 0
    assert pings(run, 5, 1)[0] == 0
    assert pings(run, 0, 2)[0] == 10
    assert pings(run, 3, 5)[0] == 10

    cleared = faults.clear(kinds={"partition"})
    assert [f.id for f in cleared] == [fault.id]
    assert pings(run, 0, 4)[0] == 10
    assert load_book(run.path).faults == []
    assert all(rules_on(run, n) == [] for n in range(NODES))


def test_per_link_delay_slows_only_the_named_link(run: RunDir) -> None:
    faults = Faults(run)
    _, base = pings(run, 0, 1)
    fault = faults.apply("delay", {"delay_ms": 150}, [0], peers=[1])
    assert fault is not None
    try:
        answered, slow = pings(run, 0, 1)
        _, other = pings(run, 0, 2)
        assert answered == 10
        assert 150 * 0.8 <= slow - base <= 150 * 1.2 + 30, (base, slow)
        assert other - base < 50, (base, other)
        with pytest.raises(UsageError, match="already set by fault"):
            faults.apply("delay", {"delay_ms": 10}, [0, 3])
        assert rules_on(run, 0) == [fault.id]
        assert rules_on(run, 3) == []
    finally:
        faults.clear([fault.id])
    assert pings(run, 0, 1)[1] - base < 50


def test_crashed_node_restarts_on_clear_with_the_link_faults_in_force(
    run: RunDir,
) -> None:
    faults = Faults(run)
    delay = faults.apply("delay", {"delay_ms": 20}, list(range(NODES)))
    crash = faults.apply("crash", targets=[2])
    assert delay is not None and crash is not None
    try:
        live = faults.backend.liveness(run, run.load())
        assert not live[2].alive
        assert [f.kind for f in load_book(run.path).faults] == ["delay", "crash"]

        faults.clear([crash.id])
        assert faults.backend.liveness(run, run.load())[2].alive
        assert rules_on(run, 2) == [delay.id]  # given again after the restart
    finally:
        faults.clear()
    assert load_book(run.path).faults == []

    events = read_events(run.path / "events.jsonl")
    applied = [e for e in events if e["event"] == "fault_applied"]
    cleared = [e for e in events if e["event"] == "fault_cleared"]
    assert {e["fault_id"] for e in applied} >= {delay.id, crash.id}
    assert {e["fault_id"] for e in cleared} >= {delay.id, crash.id}
    crash_event = next(e for e in applied if e["fault_id"] == crash.id)
    assert crash_event["mechanisms"] == {"process:crash": [2]}
