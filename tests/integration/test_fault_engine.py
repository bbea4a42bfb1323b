"""The fault engine on real node processes: faults reach the nodes through
the in-node way, their effect shows on real pings, and clearing restores
the baseline and the book."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable, Iterator

import pytest

from controller import testbed
from controller.control import ControlClient
from controller.errors import UsageError
from controller.faults.api import Faults
from controller.faults.book import load_book
from controller.faults.churn import Churn, ChurnEvent
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


def pings(
    run: RunDir,
    source: int,
    target: int,
    count: int = 10,
    stat: Callable[[list[float]], float] = statistics.median,
) -> tuple[int, float]:
    """(answered, median round trip in ms) of pings from source to target;
    stat=min gives the fastest, which a busy machine raises least."""
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
    return len(rtts), stat(rtts) if rtts else float("nan")


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
    # The fastest of each batch: a delay is a floor under every round trip,
    # and on a loaded machine the median wanders by tens of milliseconds.
    _, base = pings(run, 0, 1, stat=min)
    fault = faults.apply("delay", {"delay_ms": 150}, [0], peers=[1])
    assert fault is not None
    try:
        answered, slow = pings(run, 0, 1, stat=min)
        _, other = pings(run, 0, 2, stat=min)
        assert answered == 10
        assert 150 * 0.8 <= slow - base <= 150 * 1.2 + 30, (base, slow)
        assert other - base < 50, (base, other)
        with pytest.raises(UsageError, match="already set by fault"):
            faults.apply("delay", {"delay_ms": 10}, [0, 3])
        assert rules_on(run, 0) == [fault.id]
        assert rules_on(run, 3) == []
    finally:
        faults.clear([fault.id])
    assert pings(run, 0, 1, stat=min)[1] - base < 50


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


def probe_rtts(
    run: RunDir, a: int, b: int, count: int, timeout_s: float
) -> list[float]:
    nodes = run.load().nodes
    with ControlClient(run.token()) as client:
        reply = client.probe(
            nodes[a].address,
            nodes[b].address,
            count,
            timeout_s=timeout_s,
            concurrency=min(count, 30),
            rpc_timeout=60,
        )
    return list(reply.rtt_ms)


def test_jitter_spreads_round_trips_around_the_delay(run: RunDir) -> None:
    faults = Faults(run)
    _, base = pings(run, 0, 1, stat=min)
    fault = faults.apply("delay", {"delay_ms": 100, "jitter_ms": 40}, [0])
    assert fault is not None
    try:
        rtts = probe_rtts(run, 0, 1, 60, timeout_s=1.0)
    finally:
        faults.clear([fault.id])
    assert len(rtts) == 60
    # The median of uniform 100 +- 40 is 100; a busy machine adds to it.
    assert 80 <= statistics.median(rtts) - base <= 140, rtts
    assert min(rtts) >= 55, rtts  # none faster than 100 - 40
    # Uniform over 100 +- 40 ms: a spread near 80 ms, a deviation near 23.
    assert max(rtts) - min(rtts) >= 40, rtts
    assert 10 <= statistics.stdev(rtts) <= 40, rtts


def test_burst_loss_loses_its_stationary_share(run: RunDir) -> None:
    faults = Faults(run)
    # Good -> bad with 10 %, bad -> good with 40 %: a fifth of the time bad,
    # where everything is lost.
    params = {"p_pct": 10, "r_pct": 40}
    fault = faults.apply("burst_loss", params, [2])
    assert fault is not None
    try:
        answered = len(probe_rtts(run, 2, 3, 300, timeout_s=0.4))
    finally:
        faults.clear([fault.id])
    lost = 1 - answered / 300
    assert 0.08 <= lost <= 0.35, lost


def test_reorder_lets_its_share_through_at_once(run: RunDir) -> None:
    faults = Faults(run)
    fault = faults.apply("reorder", {"reorder_pct": 50, "delay_ms": 150}, [4])
    assert fault is not None
    try:
        rtts = probe_rtts(run, 4, 5, 100, timeout_s=1.0)
    finally:
        faults.clear([fault.id])
    assert len(rtts) == 100
    fast = sum(r < 75 for r in rtts) / len(rtts)
    assert 0.3 <= fast <= 0.7, rtts
    assert all(r < 75 or r >= 140 for r in rtts), rtts


def test_churn_replaces_a_leaver_by_a_fresh_node_on_its_shard(run: RunDir) -> None:
    faults = Faults(run)
    events = [ChurnEvent(0.0, "leave"), ChurnEvent(0.0, "join")]
    churn = Churn(events, random.Random(4), time.time())

    done = faults.churn_step(churn)

    assert [e["action"] for e in done] == ["leave", "join"]
    leaver, joiner = done[0]["node"], done[1]["node"]
    state = run.load()
    assert joiner == NODES and len(state.nodes) == NODES + 1
    live = faults.backend.liveness(run, state)
    assert not live[leaver].alive and live[joiner].alive
    config = json.loads((run.node_dir(joiner) / "config.json").read_text())
    assert config["shard"] == leaver
    views = {v.id: v for v in testbed.collect(run)}
    assert views[joiner].healthy, views[joiner]
    assert churn.events == [] and churn.free_shards == []
