"""Plans are checked when made; each error says what is wrong."""

import math

import pytest

from netem.errors import PlanError
from netem.plan import Drop, KernelPlan, Shape
from netem.specs import Bandwidth, Delay, IngressLoss, Loss

RATE = Bandwidth(rate_kbit=1000)


def test_a_valid_plan():
    plan = KernelPlan(
        shapes=(
            Shape(("10.0.0.2",), netem=(Delay(delay_ms=10), Loss(loss_pct=1))),
            Shape(("10.0.0.3", "10.0.0.4"), rate=RATE),
            Shape((), rate=RATE),
        ),
        drops=(Drop("out", ("10.0.0.2",)), Drop("out", ("10.0.0.2",), pct=10)),
    )

    assert plan.summary() == "3 shapes, 2 drops"
    assert KernelPlan().empty and KernelPlan().summary() == "nothing"


def test_lists_become_tuples():
    shape = Shape(["10.0.0.2"], netem=[Delay(delay_ms=1)])
    plan = KernelPlan(shapes=[shape], drops=[Drop("in", ["10.0.0.3"])])

    assert plan.shapes[0].peers == ("10.0.0.2",)
    assert isinstance(plan.drops[0].peers, tuple)
    assert hash(plan) == hash(KernelPlan(shapes=(shape,), drops=plan.drops))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Shape(("10.0.0.300",), rate=RATE), "'10.0.0.300' is not an IPv4"),
        (lambda: Shape(("fe80::1",), rate=RATE), "not an IPv4 address"),
        (lambda: Shape((167772162,), rate=RATE), "not an IPv4 address"),
        (lambda: Shape(("10.0.0.2", "10.0.0.2"), rate=RATE), "lists a peer twice"),
        (lambda: Shape(("10.0.0.2",)), "neither netem specs nor rate"),
        (lambda: Shape((), netem=(IngressLoss(loss_pct=5),)), "not a netem option"),
        (lambda: Shape((), netem=(RATE,)), "'bandwidth' is not a netem option"),
        (lambda: Shape((), rate=Delay(delay_ms=5)), "must be a Bandwidth spec"),
        (
            lambda: Shape((), rate=Bandwidth(rate_kbit=100, burst_kbyte=1)),
            "cannot hold a full-size frame; use at least 1.56",
        ),
        (lambda: Drop("out", ()), "a drop needs peers"),
        (lambda: Drop("both", ("10.0.0.2",)), "use 'out' or 'in'"),
        (lambda: Drop("in", ("10.0.0.2",), pct=0), r"use a share in \(0, 100\]"),
        (lambda: Drop("in", ("10.0.0.2",), pct=100.5), "pct=100.5"),
        (lambda: Drop("in", ("10.0.0.2",), pct=math.nan), "pct=nan"),
        (lambda: Drop("in", ("10.0.0.2", "x")), "drop peer 'x'"),
    ],
)
def test_bad_shapes_and_drops(make, message):
    with pytest.raises(PlanError, match=message):
        make()


def test_peer_sets_of_shapes_must_not_overlap():
    one = Shape(("10.0.0.2", "10.0.0.3"), rate=RATE)
    two = Shape(("10.0.0.3",), netem=(Delay(delay_ms=5),))

    with pytest.raises(PlanError, match=r"peer 10.0.0.3 is in shapes 1 and 2"):
        KernelPlan(shapes=(one, two))


def test_one_whole_interface_shape_at_most():
    with pytest.raises(PlanError, match="more than one whole-interface shape"):
        KernelPlan(shapes=(Shape((), rate=RATE), Shape((), netem=(Loss(loss_pct=1),))))


def test_plan_items_must_be_shapes_and_drops():
    with pytest.raises(PlanError, match="plan drops must be Drop"):
        KernelPlan(drops=(Shape((), rate=RATE),))


def test_plan_error_is_a_value_error():
    with pytest.raises(ValueError):
        Drop("out", ())
