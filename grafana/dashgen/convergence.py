"""Convergence: how accurate the nodes are, how far apart, and how fast
they learn, with the fault windows beside every curve; and, while a load
runs, how they serve."""

from __future__ import annotations

from . import load_rows
from .board import dashboard
from .query import Json, sel
from .summary import stat
from .timeseries import FAULTS_EXPR, timeseries

# Nodes report -1 until their first evaluation, and a loss of 0 until then.
EVALUATED = f"({sel('heal_model_accuracy_ratio')} >= 0)"
ACCURACY = f"{sel('heal_model_accuracy_ratio')} >= 0"
LOSS = f"{sel('heal_model_loss')} and on (node) {EVALUATED}"
MEAN = f"max({sel('heal_testbed_mean_accuracy_ratio')})"
MIN = f"min({sel('heal_testbed_min_accuracy_ratio')})"
MAX = f"max({sel('heal_testbed_max_accuracy_ratio')})"
SPREAD = f"{MAX} - {MIN}"
CYCLE_RATE = f"rate({sel('heal_cycle')}[$__rate_interval])"
UNIT = (0.0, 1.0)


def build() -> Json:
    stats = [
        stat(
            "Mean accuracy", "Over the nodes that have evaluated.", MEAN, "percentunit"
        ),
        stat(
            "Lowest accuracy", "The worst node that has evaluated.", MIN, "percentunit"
        ),
        stat("Highest accuracy", "The best node.", MAX, "percentunit"),
        stat("Spread", "Highest minus lowest node accuracy.", SPREAD, "percentunit"),
        stat(
            "Learning cycle",
            "Median learning cycle of the nodes that answer.",
            f"max({sel('heal_testbed_cycle')})",
            "none",
        ),
        stat(
            "Faults in force", "Faults of every kind now in force.", FAULTS_EXPR, "none"
        ),
    ]
    accuracy = [
        timeseries(
            "Accuracy per node",
            "Test accuracy of each node's current model; hover for the node.",
            [(ACCURACY, "node {{node}}")],
            "percentunit",
            per_node=True,
            limits=UNIT,
        ),
        timeseries(
            "Accuracy: mean, min, max, spread",
            "Over the nodes that have evaluated; spread is max minus min.",
            [(MEAN, "mean"), (MIN, "min"), (MAX, "max"), (SPREAD, "spread")],
            "percentunit",
            limits=UNIT,
        ),
    ]
    learning = [
        timeseries(
            "Loss per node, and mean",
            "Test cross-entropy of each node that has evaluated; the bold line "
            "is their mean.",
            [(LOSS, "node {{node}}"), (f"avg({LOSS})", "mean")],
            "none",
            per_node=True,
            bold="B",
        ),
        timeseries(
            "Learning cycles per second",
            "Cycles each node completes per second: the mean, and the slowest.",
            [
                (f"avg({CYCLE_RATE})", "mean per node"),
                (f"min({CYCLE_RATE})", "slowest"),
            ],
            "none",
        ),
    ]
    return dashboard(
        "heal-convergence",
        "HEAL convergence",
        "Accuracy, loss and learning pace of the testbed's nodes, and how they "
        "serve under load.",
        [stats, accuracy, learning, *load_rows.build()],
    )
