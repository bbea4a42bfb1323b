"""A run's observations and per-node series from Prometheus: range queries
over the report's window, one point a step, for the series that carry the
testbed's label (see the metric contract in controller/monitoring).

Every query aggregates down to the labels the report keys on (node, hub,
type), so that the target labels Prometheus adds do not split a series.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.report import derive
from controller.report.model import Observation
from controller.report.pernode import MessageSample, PerNode
from controller.report.promapi import Prometheus, PrometheusError, Series
from controller.report.window import Window

DEFAULT_STEP_S = 5.0  # the scrape interval of the testbed's Prometheus

# The testbed's own series, from its exporter; {sel} selects the testbed.
TESTBED = {
    "alive": 'max(heal_testbed_nodes{{{sel},state="alive"}})',
    "mean": "max(heal_testbed_mean_accuracy_ratio{{{sel}}})",
    "min": "max(heal_testbed_min_accuracy_ratio{{{sel}}})",
    "max": "max(heal_testbed_max_accuracy_ratio{{{sel}}})",
    "agreement": "max(heal_testbed_hub_agreement{{{sel}}})",
    "cycle": "max(heal_testbed_cycle{{{sel}}})",
    "hubs": "max by (hub) (heal_testbed_majority_hub{{{sel}}} == 1)",
}
# Each node's series. Accuracy is -1 until the first evaluation, and the
# loss meaningless until then.
NODES = {
    "accuracy": "max by (node) (heal_model_accuracy_ratio{{{sel}}} >= 0)",
    "loss": (
        "max by (node) (heal_model_loss{{{sel}}} "
        "and heal_model_accuracy_ratio{{{sel}}} >= 0)"
    ),
    "cycle": "max by (node) (heal_cycle{{{sel}}})",
    "hub_view": "max by (node, hub) (heal_overlay_hub_view{{{sel}}} == 1)",
    "sent": "sum by (node, type) (heal_transport_messages_sent_total{{{sel}}})",
}


@dataclass
class PromData:
    observations: list[Observation]
    per_node: PerNode
    testbed_series: bool  # the exporter's heal_testbed_* series were there

    @property
    def empty(self) -> bool:
        return not self.observations and not self.per_node.samples


def selector(testbed: str) -> str:
    value = testbed.replace("\\", "\\\\").replace('"', '\\"')
    return f'testbed="{value}"'


def fetch(prom: Prometheus, testbed: str, window: Window, step: float) -> PromData:
    sel = selector(testbed)

    def grid(query: str) -> list[tuple[dict[str, str], dict[float, float]]]:
        found = prom.query_range(
            query.format(sel=sel), window.start_epoch, window.end_epoch, step
        )
        return [(s.labels, _on_clock(s, window)) for s in found]

    tb = {name: grid(q) for name, q in TESTBED.items()}
    nodes = {name: grid(q) for name, q in NODES.items()}
    per_node = PerNode(step)
    per_node.samples = derive.node_samples(
        *(_by_node(nodes[k]) for k in ("accuracy", "loss", "cycle"))
    )
    per_node.messages = [
        MessageSample(t, _node(labels), labels.get("type", ""), value)
        for labels, points in nodes["sent"]
        for t, value in points.items()
    ]
    per_node.hub_views = derive.hub_views(
        [(_node(labels), _hub(labels), points) for labels, points in nodes["hub_view"]]
    )

    single = {k: v[0][1] if v else {} for k, v in tb.items() if k != "hubs"}
    hubs = [(_hub(labels), points) for labels, points in tb["hubs"]]
    observations = derive.from_testbed(single, hubs, per_node)
    if observations:
        return PromData(observations, per_node, True)
    return PromData(derive.from_nodes(per_node), per_node, False)


def _on_clock(series: Series, window: Window) -> dict[float, float]:
    return {round(t - window.start_epoch, 3): v for t, v in series.points}


def _by_node(
    found: list[tuple[dict[str, str], dict[float, float]]],
) -> dict[tuple[float, int], float]:
    return {
        (t, _node(labels)): value
        for labels, points in found
        for t, value in points.items()
    }


def _node(labels: dict[str, str]) -> int:
    return _int_label(labels, "node")


def _hub(labels: dict[str, str]) -> int:
    return _int_label(labels, "hub")


def _int_label(labels: dict[str, str], name: str) -> int:
    try:
        return int(labels[name])
    except (KeyError, ValueError) as exc:
        raise PrometheusError(
            f"a series has {name}={labels.get(name)!r}; the metric contract "
            f"makes {name} a node id (0, 1, ...)"
        ) from exc
