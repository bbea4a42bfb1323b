"""The load generator's figures as Prometheus series, served by the Locust
process while it runs and found through a discovery file of its own (job
heal-load), so that dashboards draw them beside the nodes' accuracy.

The target carries the testbed's labels; the series carry node and rpc.
Latency is a histogram: quantiles come from histogram_quantile, which can
sum the buckets over nodes, where precomputed quantiles could not be.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from controller.monitoring.discovery import common_labels
from controller.monitoring.paths import load_targets, nodes_targets, write_json
from controller.rundir import RunDir

# Seconds; from a loopback round trip to a call held to its deadline.
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
LABELS = ["node", "rpc"]


class LoadMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter(
            "heal_load_requests", "Calls made, failed or not", LABELS, registry=r
        )
        self.failures = Counter(
            "heal_load_failures", "Calls that failed", LABELS, registry=r
        )
        self.latency = Histogram(
            "heal_load_latency_seconds",
            "Time from call to reply or failure",
            LABELS,
            buckets=BUCKETS_S,
            registry=r,
        )
        self.users = Gauge("heal_load_users", "Locust users running", registry=r)

    def record(self, name: tuple[int, str], seconds: float, failed: bool) -> None:
        node, rpc = str(name[0]), name[1]
        self.requests.labels(node, rpc).inc()
        # Made at zero with the first call, so that a rate of failures
        # reads 0 rather than no data.
        failures = self.failures.labels(node, rpc)
        if failed:
            failures.inc()
        self.latency.labels(node, rpc).observe(seconds)


def advertise(run: RunDir, address: str, pid: int) -> bool:
    """List the generator for Prometheus when the testbed is monitored;
    True when a target was written."""
    if not nodes_targets(run).exists():
        return False
    state = run.load()
    write_json(
        load_targets(run, pid),
        [{"targets": [address], "labels": common_labels(state)}],
    )
    return True


def withdraw(run: RunDir, pid: int) -> None:
    load_targets(run, pid).unlink(missing_ok=True)
