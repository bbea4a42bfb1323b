"""Recovery: what each disturbance cost and how long the testbed took to
get over it, measured by the controller's exporter."""

from __future__ import annotations

from .board import dashboard
from .query import Json, sel
from .summary import stat, table
from .timeseries import timeseries

HUBS_AGREE = sel("heal_testbed_recovery_hubs_agree_seconds")
DIP = sel("heal_testbed_recovery_dip_ratio")
RECONVERGE = sel("heal_testbed_recovery_reconverge_seconds")
DRIFT = sel("heal_testbed_partition_drift_ratio")
KEYS = "fault, kind, action"


def build() -> Json:
    stats = [
        stat(
            "Longest hub re-forming",
            "Seconds until hubs agreed again, worst disturbance.",
            f"max({HUBS_AGREE})",
            "s",
            width=6,
        ),
        stat(
            "Deepest accuracy dip",
            "Below the pre-fault mean accuracy, worst disturbance.",
            f"max({DIP})",
            "percentunit",
            width=6,
        ),
        stat(
            "Longest reconvergence",
            "Seconds until mean accuracy was back within 0.01.",
            f"max({RECONVERGE})",
            "s",
            width=6,
        ),
        stat(
            "Partition drift now",
            "Largest accuracy gap between partition sides.",
            f"max({DRIFT})",
            "percentunit",
            width=6,
        ),
    ]
    measures = [
        table(
            "Recovery per disturbance",
            "One row per fault applied or cleared. A column fills in once the "
            "exporter knows it: hubs agree again, the depth of the mean-accuracy dip, "
            "and the time until mean accuracy is back within 0.01 of its level "
            "before the fault.",
            [
                (f"max by ({KEYS}) ({HUBS_AGREE})", "hubs agree after", "s"),
                (f"max by ({KEYS}) ({DIP})", "accuracy dip", "percentunit"),
                (f"max by ({KEYS}) ({RECONVERGE})", "reconverged after", "s"),
            ],
            ["fault", "kind", "action"],
        ),
    ]
    context = [
        timeseries(
            "Mean accuracy",
            "Over the nodes that have evaluated, with the fault windows shaded.",
            [(f"max({sel('heal_testbed_mean_accuracy_ratio')})", "mean accuracy")],
            "percentunit",
            limits=(0.0, 1.0),
        ),
        timeseries(
            "Hub-list agreement",
            "Share of answering nodes that hold the majority hub list.",
            [(f"max({sel('heal_testbed_hub_agreement')})", "agreement")],
            "percentunit",
            limits=(0.0, 1.0),
        ),
    ]
    partitions = [
        timeseries(
            "Partition drift",
            "Largest gap in mean accuracy between the sides of a partition in force.",
            [(f"max by (fault) ({DRIFT})", "{{fault}}")],
            "percentunit",
        ),
        timeseries(
            "Accuracy spread",
            "Highest minus lowest node accuracy: the nodes drift apart while they "
            "cannot reach each other.",
            [
                (
                    f"max({sel('heal_testbed_max_accuracy_ratio')}) - "
                    f"min({sel('heal_testbed_min_accuracy_ratio')})",
                    "spread",
                )
            ],
            "percentunit",
        ),
    ]
    return dashboard(
        "heal-recovery",
        "HEAL recovery",
        "Per disturbance: time for hubs to re-form, accuracy dip, time to reconverge; "
        "partition drift.",
        [stats, measures, context, partitions],
    )
