"""Every Prometheus series a node exports, in one registry per node."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from node.faults import LinkFaults

# Message types, as counted on the wire (label values are fixed).
MESSAGE_TYPES = ("cache", "backward", "push", "global", "aggregate", "pull", "ping")


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.accuracy = Gauge(
            "heal_model_accuracy_ratio",
            "Test accuracy of the current model",
            registry=r,
        )
        self.loss = Gauge("heal_model_loss", "Test cross-entropy loss", registry=r)
        self.cycle = Gauge("heal_cycle", "Learning cycles completed", registry=r)
        self.overlay_cycle = Gauge(
            "heal_overlay_cycle", "Elevator cycles completed", registry=r
        )
        self.is_hub = Gauge(
            "heal_overlay_is_hub", "1 while this node is a hub", registry=r
        )
        self.hub_view = Gauge(
            "heal_overlay_hub_view",
            "1 for each node this node sees as a hub",
            ["hub"],
            registry=r,
        )
        self.cache_size = Gauge(
            "heal_overlay_cache_peers", "Peers in the Elevator cache", registry=r
        )
        self.backward_size = Gauge(
            "heal_overlay_backward_peers", "Peers in the backward list", registry=r
        )
        self.role_changes = Counter(
            "heal_overlay_role_changes_total", "Hub/client role changes", registry=r
        )
        self.sent = Counter(
            "heal_transport_messages_sent_total", "Messages sent", ["type"], registry=r
        )
        self.received = Counter(
            "heal_transport_messages_received_total",
            "Messages received",
            ["type"],
            registry=r,
        )
        self.bytes_sent = Counter(
            "heal_transport_sent_bytes_total",
            "Payload bytes sent",
            ["type"],
            registry=r,
        )
        self.bytes_received = Counter(
            "heal_transport_received_bytes_total",
            "Payload bytes received",
            ["type"],
            registry=r,
        )
        self.rpc_failures = Counter(
            "heal_transport_rpc_failures_total",
            "Outgoing RPCs that failed",
            ["type", "code"],
            registry=r,
        )
        self.deadlines_missed = Counter(
            "heal_deadlines_missed_total",
            "Waits that ended at their deadline",
            ["kind"],
            registry=r,
        )
        self.aggregation_models = Gauge(
            "heal_aggregation_models", "Models in the last hub aggregate", registry=r
        )
        self.aggregation_hubs = Gauge(
            "heal_aggregation_hub_aggregates",
            "Hub aggregates averaged in the last exchange (own included)",
            registry=r,
        )
        self.rounds = Counter(
            "heal_aggregation_rounds_total", "Hub rounds completed", registry=r
        )
        self.train_seconds = Counter(
            "heal_train_seconds_total", "Time spent training", registry=r
        )
        self.train_samples = Gauge(
            "heal_train_samples", "Samples in this node's shard", registry=r
        )
        self.gossip_fallback = Gauge(
            "heal_gossip_fallback", "1 while no hub is reachable", registry=r
        )
        self._last_global = 0.0
        self.global_age = Gauge(
            "heal_global_model_age_seconds",
            "Seconds since the last global model was adopted (-1: never)",
            registry=r,
        )
        self.global_age.set_function(self.global_age_seconds)
        for kind in MESSAGE_TYPES:
            self.sent.labels(kind)
            self.received.labels(kind)
        self.accuracy.set(-1)

    def global_adopted(self) -> None:
        self._last_global = time.monotonic()

    def global_age_seconds(self) -> float:
        return time.monotonic() - self._last_global if self._last_global else -1.0

    def sent_by_type(self) -> dict[str, int]:
        """Messages sent so far, by type (the types sent at least once)."""
        return self._by_type("heal_transport_messages_sent_total")

    def bytes_sent_by_type(self) -> dict[str, int]:
        return self._by_type("heal_transport_sent_bytes_total")

    def _by_type(self, name: str) -> dict[str, int]:
        found = {}
        for kind in MESSAGE_TYPES:
            value = self.registry.get_sample_value(name, {"type": kind})
            if value:
                found[kind] = int(value)
        return found

    def set_hubs(self, hubs: list[int]) -> None:
        self.hub_view.clear()
        for hub in hubs:
            self.hub_view.labels(str(hub)).set(1)

    def watch_link_faults(self, faults: LinkFaults) -> None:
        """Export the in-node link faults' counters, read at scrape time."""
        self.registry.register(_LinkFaultCollector(faults))

    def serve(self, host: str, port: int) -> None:
        start_http_server(port, addr=host, registry=self.registry)


class _LinkFaultCollector(Collector):
    """heal_linkfault_*: what the in-node link faults did to messages."""

    EFFECTS = ("dropped", "delayed", "throttled", "duplicated")
    DIRECTIONS = ("egress", "ingress")

    def __init__(self, faults: LinkFaults) -> None:
        self._faults = faults

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        messages = CounterMetricFamily(
            "heal_linkfault_messages",
            "Messages an in-node link fault dropped, delayed, throttled or duplicated",
            labels=["direction", "effect"],
        )
        for direction in self.DIRECTIONS:
            for effect in self.EFFECTS:
                count = self._faults.counts[direction, effect]
                messages.add_metric([direction, effect], count)
        yield messages
        held = CounterMetricFamily(
            "heal_linkfault_held_seconds",
            "Time messages were held back by in-node delays and rate limits",
            labels=["direction"],
        )
        for direction in self.DIRECTIONS:
            held.add_metric([direction], self._faults.held_s[direction])
        yield held
        current = self._faults.current()
        yield GaugeMetricFamily(
            "heal_linkfault_rules", "In-node link rules in force", len(current.rules)
        )
        yield GaugeMetricFamily(
            "heal_linkfault_version",
            "Version of the rule set the controller last sent",
            current.version,
        )
