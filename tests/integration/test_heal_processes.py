"""HEAL on 16 real node processes: hubs emerge and agree, accuracy rises, and
killing every hub leads to new agreeing hubs while training goes on."""

from __future__ import annotations

import pytest

from controller import testbed
from controller.backends.process import ProcessBackend
from controller.rundir import RunDir
from tests.integration.conftest import mean_accuracy, poll

pytestmark = pytest.mark.integration


Testbed = tuple[RunDir, list[testbed.NodeView]]


def test_hubs_emerge_and_agree(small_testbed: Testbed) -> None:
    run, _ = small_testbed
    views = poll(run, lambda v: testbed.agreement(v) == 1.0, timeout=30)

    hubs = testbed.majority_hubs(views)
    assert len(hubs) == 2, views
    assert testbed.agreement(views) == 1.0, [(v.id, v.hubs) for v in views]
    roles = {v.id: v.role for v in views}
    assert all(roles[h] == "hub" for h in hubs), roles
    assert sum(r == "hub" for r in roles.values()) == 2, roles


def test_accuracy_rises(small_testbed: Testbed) -> None:
    run, first = small_testbed
    later = poll(run, lambda v: mean_accuracy(v) >= 0.8, timeout=60)

    assert mean_accuracy(later) >= 0.8, [(v.id, v.accuracy) for v in later]
    assert mean_accuracy(later) > mean_accuracy(first) + 0.05, mean_accuracy(first)
    assert max(v.loss or 0 for v in later) < min(v.loss or 9 for v in first)
    assert min(v.cycle or 0 for v in later) > max(v.cycle or 0 for v in first)


def test_killing_every_hub_reforms_hubs_within_three_overlay_cycles(
    small_testbed: Testbed,
) -> None:
    run, _ = small_testbed
    views = poll(run, lambda v: testbed.agreement(v) == 1.0, timeout=30)
    old_hubs = testbed.majority_hubs(views)
    assert old_hubs
    accuracy_before = mean_accuracy(views)
    state = run.load()
    backend = ProcessBackend()

    for hub in old_hubs:
        backend.kill(run, state, hub)
    at_kill = {v.id: v.overlay_cycle or 0 for v in views if v.id not in old_hubs}

    def reformed(views: list[testbed.NodeView]) -> bool:
        hubs = testbed.majority_hubs(views)
        live = [v for v in views if v.alive]
        return (
            len(live) == len(views) - len(old_hubs)
            and bool(hubs)
            and not set(hubs) & set(old_hubs)
            and testbed.agreement(views) >= 0.9
        )

    after = poll(run, reformed, timeout=20, every=0.1)
    assert reformed(after), [(v.id, v.alive, v.hubs) for v in after]
    cycles = sorted((v.overlay_cycle or 0) - at_kill[v.id] for v in after if v.alive)
    # The median survivor got there within 3 overlay cycles (+1: the cycle
    # that was running at the kill may have started before it).
    assert cycles[len(cycles) // 2] <= 4, cycles

    # Training goes on under the new hubs.
    cycle_now = {v.id: v.cycle or 0 for v in after if v.alive}
    later = poll(
        run,
        lambda v: all((x.cycle or 0) >= cycle_now[x.id] + 5 for x in v if x.alive),
        timeout=30,
    )
    assert all((x.cycle or 0) >= cycle_now[x.id] + 5 for x in later if x.alive)
    assert mean_accuracy(later) >= accuracy_before - 0.05
