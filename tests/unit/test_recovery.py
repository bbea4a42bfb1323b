"""Recovery figures from a hand-made series of observations."""

from __future__ import annotations

from controller.scenario.recovery import Observation, Recovery


def obs(
    t: float, acc: float, hubs: tuple[int, ...], live: set[int], agree=1.0, cycle=None
):
    return Observation(t, len(live), acc, agree, hubs, frozenset(live), cycle)


EVERYONE = set(range(10))
AFTER = EVERYONE - {0, 1}


def history() -> list[Observation]:
    return [obs(t, 0.90, (0, 1), EVERYONE, cycle=t) for t in range(8, 11)]


def test_hubs_reform_and_accuracy_dip_and_return_are_timed_from_the_fault():
    rec = Recovery.start("crash-1", "crash", 10.5, history())
    series = [
        obs(11, 0.90, (0, 1), AFTER, cycle=11),  # dead hubs still listed
        obs(12, 0.85, (2, 3), AFTER, agree=0.5, cycle=12),  # not agreed yet
        obs(13, 0.80, (2, 3), AFTER, agree=0.95, cycle=13),  # agreed; lowest
        obs(14, 0.88, (2, 3), AFTER, cycle=14),  # within 0.02 only
        obs(15, 0.895, (2, 3), AFTER, cycle=15),  # back within 0.01
        obs(16, 0.70, (2, 3), AFTER, cycle=16),  # after done: ignored
    ]
    for o in series:
        rec.observe(o)
    s = rec.summary(overlay_period_s=1.0)
    assert s["pre_accuracy"] == 0.9
    assert s["hubs_agree_s"] == 2.5
    assert s["hubs_agree_overlay_cycles"] == 2.5
    assert s["hubs_after"] == [2, 3]
    assert s["dip"] == 0.1
    assert s["dipped_at_s"] == 1.5
    assert s["back_within_s"] == 4.5
    assert s["back_within_cycles"] == 5  # cycle 15 against 10 before


def test_no_dip_means_back_at_once_and_unreached_figures_stay_empty():
    rec = Recovery.start("delay-1", "delay", 10.5, history())
    rec.observe(obs(11, 0.899, (0, 1), EVERYONE, agree=0.5))
    s = rec.summary(overlay_period_s=2.0)
    assert s["back_within_s"] == 0.0
    assert s["hubs_agree_s"] is None
    assert s["hubs_agree_overlay_cycles"] is None
