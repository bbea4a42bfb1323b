"""The messages plot sums steps over a window of a few overlay cycles, so
that bursts once an overlay cycle do not make it zigzag."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from controller.report.messages import PerCycle
from controller.report.msgplot import smoothed, window_steps
from controller.report.timeline import load_run
from tests.unit.test_report_events import SyntheticLog


def rows(sent: list[float], cycles: list[float | None]) -> list[PerCycle]:
    return [
        PerCycle(5.0 * (i + 1), "cache", s, c, None if not c else s / c)
        for i, (s, c) in enumerate(zip(sent, cycles, strict=True))
    ]


def test_a_window_sums_messages_and_cycles_before_dividing() -> None:
    # Overlay bursts of 50 every 2 s, read every 5 s: 2 or 3 bursts a step.
    steps = rows([100, 150, 100, 150], [5, 5, 5, 5])
    assert [r.per_cycle for r in steps] == [20, 30, 20, 30]
    assert smoothed(steps, 2) == [20, 25, 25, 25]
    assert smoothed(steps, 1) == [20, 30, 20, 30]


def test_steps_without_a_cycle_leave_a_gap_only_when_the_window_has_none() -> None:
    steps = rows([10, 10, 10], [None, 0, 2])
    got = smoothed(steps, 2)
    assert math.isnan(got[0]) and math.isnan(got[1]) and got[2] == 5


@pytest.mark.parametrize(("overlay", "span"), [(2.0, 2), (3.0, 2), (10.0, 6)])
def test_the_window_spans_three_of_the_longer_cycles(
    tmp_path: Path, overlay: float, span: int
) -> None:
    log = SyntheticLog()
    log.started(overlay_period_s=overlay, cycle_period_s=1.0)
    log.observe(0.0, 0.5)
    log.observe(1.0, 0.6)
    run = load_run(log.write(tmp_path / "events.jsonl"))
    assert window_steps(run, 5.0) == span  # readings every 5 s
