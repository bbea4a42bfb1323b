"""netem option lists, exactly as they go on the tc command line."""

import pytest

from netem.errors import PlanError
from netem.specs import (
    Bandwidth,
    BurstLoss,
    Corrupt,
    Delay,
    Duplicate,
    Loss,
    Partition,
    Reorder,
)
from netem.tc import netem_args


@pytest.mark.parametrize(
    ("spec", "args"),
    [
        (Delay(delay_ms=100), ["delay", "100ms"]),
        (Delay(delay_ms=0.5), ["delay", "0.5ms"]),
        (Delay(delay_ms=100, jitter_ms=10), ["delay", "100ms", "10ms"]),
        (
            Delay(delay_ms=100, jitter_ms=10, correlation_pct=25),
            ["delay", "100ms", "10ms", "25%"],
        ),
        (
            Delay(
                delay_ms=100, jitter_ms=10, correlation_pct=25, distribution="normal"
            ),
            ["delay", "100ms", "10ms", "25%", "distribution", "normal"],
        ),
        (
            Delay(delay_ms=80, jitter_ms=2.5, distribution="paretonormal"),
            ["delay", "80ms", "2.5ms", "distribution", "paretonormal"],
        ),
        (Loss(loss_pct=5), ["loss", "5%"]),
        (Loss(loss_pct=0.5, correlation_pct=25), ["loss", "0.5%", "25%"]),
        (BurstLoss(p_pct=1), ["loss", "gemodel", "1%", "100%", "100%", "0%"]),
        (
            BurstLoss(p_pct=2.5, r_pct=40, bad_loss_pct=80, good_loss_pct=0.1),
            ["loss", "gemodel", "2.5%", "40%", "80%", "0.1%"],
        ),
        (Duplicate(duplicate_pct=1), ["duplicate", "1%"]),
        (Duplicate(duplicate_pct=1, correlation_pct=10), ["duplicate", "1%", "10%"]),
        (Corrupt(corrupt_pct=0.1), ["corrupt", "0.1%"]),
        (Corrupt(corrupt_pct=0.1, correlation_pct=5), ["corrupt", "0.1%", "5%"]),
    ],
)
def test_one_option(spec, args):
    assert netem_args([spec]) == args


def test_reorder_alone_brings_its_own_delay_and_no_gap():
    assert netem_args([Reorder(reorder_pct=25)]) == [
        *("delay", "10ms", "reorder", "25%"),
    ]
    assert netem_args([Reorder(reorder_pct=25, correlation_pct=50, delay_ms=20)]) == [
        *("delay", "20ms", "reorder", "25%", "50%"),
    ]


def test_reorder_uses_the_delay_spec_when_there_is_one():
    specs = [Reorder(reorder_pct=25), Delay(delay_ms=100, jitter_ms=5)]

    assert netem_args(specs) == ["delay", "100ms", "5ms", "reorder", "25%"]


def test_reorder_may_repeat_the_delay_it_is_given():
    specs = [Delay(delay_ms=50), Reorder(reorder_pct=25, delay_ms=50)]

    assert netem_args(specs) == ["delay", "50ms", "reorder", "25%"]


def test_everything_together_in_a_fixed_order():
    specs = [
        Reorder(reorder_pct=10),
        Corrupt(corrupt_pct=0.2),
        Duplicate(duplicate_pct=1),
        Loss(loss_pct=5, correlation_pct=20),
        Delay(delay_ms=100, jitter_ms=10, correlation_pct=25, distribution="normal"),
    ]

    assert netem_args(specs) == [
        *("delay", "100ms", "10ms", "25%", "distribution", "normal"),
        *("loss", "5%", "20%"),
        *("duplicate", "1%"),
        *("corrupt", "0.2%"),
        *("reorder", "10%"),
    ]
    assert netem_args(list(reversed(specs))) == netem_args(specs)


def test_burst_loss_with_other_options():
    specs = [Delay(delay_ms=20), BurstLoss(p_pct=1, r_pct=30)]

    assert netem_args(specs) == [
        *("delay", "20ms", "loss", "gemodel", "1%", "30%", "100%", "0%"),
    ]


def test_no_specs_no_options():
    assert netem_args([]) == []


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([Delay(delay_ms=1), Delay(delay_ms=2)], "two 'delay' specs"),
        ([Loss(loss_pct=1), BurstLoss(p_pct=1)], "one loss model"),
        ([Bandwidth(rate_kbit=100)], "'bandwidth' is not a netem option"),
        ([Partition()], "'partition' is not a netem option"),
        ([Delay(delay_ms=10, correlation_pct=20)], "correlation_pct needs jitter_ms"),
        ([Delay(delay_ms=10, distribution="normal")], "'normal' needs jitter_ms"),
        (
            [Delay(delay_ms=100), Reorder(reorder_pct=5, delay_ms=20)],
            "netem has one delay",
        ),
        (["delay 10ms"], "must be fault specs"),
    ],
)
def test_specs_one_netem_cannot_hold(specs, message):
    with pytest.raises(PlanError, match=message):
        netem_args(specs)
