"""The report's recovery figures against the runner's own, on a synthetic run
that the runner's recovery tracking follows as it would live: the runner
times an observation when it asks the nodes, the log when the answers are
in, so the two may differ by up to an observation period."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from controller.report.recovery import Figures, recovery
from controller.report.timeline import load_run
from controller.scenario.recovery import Observation, Recovery
from tests.unit.test_report_events import SyntheticLog

NODES = 20
PERIOD_S = 1.0
OVERLAY_S = 2.4
END_S = 170

# (step label, what it does, fault kind, grid second it fires after)
STEPS = [
    ("kill-hubs", "crash", "crash", 40),
    ("split", "partition", "partition", 80),
    ("heal", "heal", "partition", 110),
    ("slow", "delay", "delay", 140),
]


def world(t: float, rng: random.Random) -> tuple[float, tuple[int, ...], float]:
    """Mean accuracy, majority hubs and agreement at t: a learning curve with
    a dip after the crash and one while partitioned, hubs re-formed 3.6 s
    after the crash and agreeing again 4 s after the heal."""
    acc = 0.9 - 0.5 * math.exp(-t / 12)
    if t >= 40.7:
        acc -= 0.06 * math.exp(-(t - 40.7) / 4)
    if 80.7 <= t < 110.7:
        acc -= 0.03 * min(1.0, (t - 80.7) / 5)
    acc += rng.uniform(-0.002, 0.002)
    hubs: tuple[int, ...] = (0, 1, 2, 3, 4)
    agreement = 1.0
    if t >= 40.7:
        hubs = (0, 1, 2, 3, 4) if t < 42 else (5, 6, 7, 8, 9)
        agreement = 0.4 if t < 44.3 else 1.0
    if 80.7 <= t < 114.7:
        agreement = 0.5
    return round(acc, 4), hubs, agreement


def simulated_run(path: Path) -> Path:
    rng = random.Random(7)
    log = SyntheticLog()
    log.started(nodes=NODES, end_s=float(END_S), overlay_period_s=OVERLAY_S)
    history: list[Observation] = []
    tracking: list[Recovery] = []
    live = frozenset(range(NODES))
    steps = list(STEPS)

    def report(rec: Recovery, at: float) -> None:
        log.add("recovery", at, **rec.summary(OVERLAY_S))

    for second in range(END_S + 1):
        t = second + rng.uniform(0.0, 0.05)
        acc, hubs, agreement = world(t, rng)
        obs = Observation(t, len(live), acc, agreement, hubs, live, second)
        history.append(obs)
        logged = t + rng.uniform(0.02, 0.3)  # the answers took this long
        log.observe(logged, acc, hubs, agreement, alive=len(live), cycle=second)
        for rec in tracking:
            was_done = rec.done
            rec.observe(obs)
            if rec.done and not was_done:
                report(rec, logged)

        if steps and steps[0][3] == second:
            label, do, kind, _ = steps.pop(0)
            at = second + 0.7  # fired at 0.4 s past, applied in 0.3 s
            if do == "crash":
                live = live - {0, 1, 2, 3, 4}
                log.applied(at, label, kind, [0, 1, 2, 3, 4])
            elif do == "heal":
                log.cleared(at, "split", kind, label)
            else:
                log.applied(at, label, kind, sorted(live))
            tracking.append(Recovery.start(label, do, at, history))

    for rec in tracking:
        if not rec.done:
            report(rec, END_S + 0.5)
    log.finished(END_S + 0.6)
    return log.write(path)


def matched(tmp_path: Path) -> list[tuple[dict[str, Any], Figures]]:
    run = load_run(simulated_run(tmp_path / "events.jsonl"))
    mine = {f.label: f for f in recovery(run)}
    return [(r, mine[r["fault_id"]]) for r in run.runner_recovery]


def close(a: float | None, b: float | None, within: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= within


def test_every_runner_record_has_a_report_row_at_the_same_moment(tmp_path):
    pairs = matched(tmp_path)
    assert sorted(r["fault_id"] for r, _ in pairs) == sorted(s[0] for s in STEPS)
    for runner, mine in pairs:
        assert mine.at_s == runner["at_s"]


def test_figures_agree_with_the_runners_within_one_observation(tmp_path):
    pairs = matched(tmp_path)
    for runner, mine in pairs:
        label = runner["fault_id"]
        assert mine.pre_accuracy == runner["pre_accuracy"], label
        assert close(mine.hubs_agree_s, runner["hubs_agree_s"], PERIOD_S), label
        assert close(mine.back_within_s, runner["back_within_s"], PERIOD_S), label
        assert close(mine.dip, runner["dip"], 1e-4), label
        assert list(mine.hubs_after) == runner["hubs_after"], label

    # Not a vacuous match: the run has real recoveries to time.
    figures = {r["fault_id"]: r for r, _ in pairs}
    assert figures["kill-hubs"]["hubs_agree_s"] > 3
    assert figures["kill-hubs"]["back_within_s"] > 1
    assert figures["split"]["dip"] > 0.02
    assert figures["heal"]["hubs_agree_s"] > 3
