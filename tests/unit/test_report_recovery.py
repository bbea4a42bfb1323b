"""Recovery figures recomputed from a hand-made log whose answers are known
by construction."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.report.recovery import Figures, recovery
from controller.report.timeline import load_run
from tests.unit.test_report_events import SyntheticLog


def crash_then_partition(path: Path) -> Path:
    """Observations every second from 0 to 30 s, cycle = t.

    10.5 s: hubs 0 and 1 crash. They stay listed while the others have not
    noticed (11 s), new hubs 2, 3 are agreed at 13 s; accuracy falls from
    0.90 to 0.80 (12-14 s) and is back within 0.01 at 15 s. A second, deeper
    fall at 16 s comes after it was back and is not this fault's dip.
    20.5 s: a partition splits the nodes; the hubs of the halves differ
    (agreement 0.5) and the nodes drift apart (spread 0.35 at 22 s) while the
    mean stays. 25.5 s: a heal step; one hub list again at 26 s.
    """
    log = SyntheticLog()
    log.started()
    for t in range(11):
        log.observe(float(t), 0.90, cycle=t)
    log.applied(10.5, "kill-hubs", "crash", [0, 1])
    log.observe(11.0, 0.895, hubs=(0, 1), alive=8, cycle=11)  # stale, dead hubs
    log.observe(12.0, 0.85, hubs=(2, 3), agreement=0.5, alive=8, cycle=12)
    log.observe(13.0, 0.80, hubs=(2, 3), agreement=0.95, alive=8, cycle=13)
    log.observe(14.0, 0.88, hubs=(2, 3), alive=8, cycle=14)
    log.observe(15.0, 0.895, hubs=(2, 3), alive=8, cycle=15)
    log.observe(16.0, 0.70, hubs=(2, 3), alive=8, cycle=16)
    for t in range(17, 21):
        log.observe(float(t), 0.90, hubs=(2, 3), alive=8, cycle=t)

    log.applied(20.5, "split", "partition", [], groups=[[2, 4, 6], [3, 5, 7]])
    for t in range(21, 26):
        spread = 0.35 if t == 22 else 0.2
        log.observe(float(t), 0.9, (2, 3), 0.5, alive=8, cycle=t, spread=spread)
    log.cleared(25.5, "split", "partition", "heal")
    for t in range(26, 31):
        log.observe(float(t), 0.90, hubs=(2, 4), alive=8, cycle=t)
    log.cleared(30.5, "kill-hubs", "crash", None)
    log.finished(30.5)
    return log.write(path)


@pytest.fixture
def figures(tmp_path: Path) -> dict[str, Figures]:
    run = load_run(crash_then_partition(tmp_path / "events.jsonl"))
    return {f"{f.label} {f.action}": f for f in recovery(run)}


def test_one_row_per_applied_fault_and_per_clearing_step(figures):
    assert list(figures) == ["kill-hubs applied", "split applied", "heal cleared"]


def test_crash_of_the_hubs(figures):
    f = figures["kill-hubs applied"]
    assert f.at_s == 10.5
    assert f.pre_accuracy == 0.9
    # 11 s lists the dead hubs with full agreement: not agreed yet.
    assert f.hubs_agree_s == 2.5
    assert f.hubs_agree_overlay_cycles == 1.25  # 2 s overlay cycles
    assert f.hubs_after == (2, 3)
    assert f.dipped_at_s == 1.5
    assert f.back_within_s == 4.5
    assert f.back_within_cycles == 5  # cycle 15 against 10 before
    assert f.min_accuracy == 0.8
    assert f.dip == 0.1  # the fall to 0.70 at 16 s came after it was back
    # The crash held to the end, through the partition's drift.
    assert f.spread_max == 0.35


def test_partition_never_agrees_while_in_force_and_spread_shows_the_drift(figures):
    f = figures["split applied"]
    assert f.pre_accuracy == 0.9
    assert f.hubs_agree_s == 5.5  # only at 26 s, after the heal
    assert f.hubs_after == (2, 4)
    assert f.dipped_at_s is None
    assert f.back_within_s == 0.0  # never away
    assert f.dip == 0.0
    assert f.spread_max == 0.35


def test_heal_is_timed_from_the_clearing_step(figures):
    f = figures["heal cleared"]
    assert (f.kind, f.at_s) == ("partition", 25.5)
    assert f.hubs_agree_s == 0.5
    assert f.hubs_agree_overlay_cycles == 0.25
    assert f.back_within_s == 0.0
    assert f.spread_max is None


def test_accuracy_not_back_by_the_end_and_hubs_never_agreeing(tmp_path):
    log = SyntheticLog()
    log.started()
    for t in range(3):
        log.observe(float(t), 0.6 + 0.1 * t, cycle=t)  # baseline 0.7
    log.applied(2.5, "c", "crash", [0])
    log.observe(3.0, 0.5, agreement=0.95, cycle=3)  # hub 0 is down
    log.observe(4.0, 0.65, hubs=(1, 2), agreement=0.8, cycle=4)
    run = load_run(log.write(tmp_path / "events.jsonl"))
    (f,) = recovery(run)
    assert f.pre_accuracy == 0.7
    assert f.hubs_agree_s is None
    assert f.hubs_agree_overlay_cycles is None
    assert f.dipped_at_s == 0.5
    assert f.back_within_s is None
    assert f.dip == 0.2


def test_no_accuracy_before_the_fault_leaves_accuracy_figures_empty(tmp_path):
    log = SyntheticLog()
    log.started()
    log.observe(0.0, None, hubs=())
    log.applied(0.5, "d", "delay", [1])
    log.observe(1.0, 0.4)
    (f,) = recovery(load_run(log.write(tmp_path / "events.jsonl")))
    assert f.pre_accuracy is None
    assert f.dip is None
    assert f.back_within_s is None
    assert f.hubs_agree_s == 0.5
