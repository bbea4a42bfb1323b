"""Serving under load: what `controller load` measured (job heal-load), on
the convergence board so that latency and failures read beside accuracy.
No data while no load runs."""

from __future__ import annotations

from .fault_rows import PER_SECOND, rate
from .query import Json
from .summary import stat
from .timeseries import timeseries

REQUESTS = "heal_load_requests_total"
FAILURES = "heal_load_failures_total"
BUCKETS = "heal_load_latency_seconds_bucket"


def quantile(q: float) -> str:
    """Over every node and RPC: the buckets summed before the quantile."""
    return f"histogram_quantile({q:g}, {rate(BUCKETS, 'le')})"


def build() -> list[list[Json]]:
    figures = [
        stat("Load: calls", "Predict and Status calls.", rate(REQUESTS), PER_SECOND),
        stat(
            "Load: failed share",
            "Failed calls over all calls.",
            f"{rate(FAILURES)} / {rate(REQUESTS)}",
            "percentunit",
        ),
        stat("Load: p95 latency", "Over all nodes and RPCs.", quantile(0.95), "s"),
    ]
    curves = [
        timeseries(
            "Load: calls and failures per second",
            "Calls the load generator made, and those that failed, by RPC.",
            [
                (rate(REQUESTS, "rpc"), "{{rpc}}"),
                (rate(FAILURES, "rpc"), "{{rpc}} failed"),
            ],
            PER_SECOND,
            width=8,
        ),
        timeseries(
            "Load: latency p50, p95, p99",
            "From call to reply or failure; a call held by a fault counts "
            "until its deadline.",
            [(quantile(0.5), "p50"), (quantile(0.95), "p95"), (quantile(0.99), "p99")],
            "s",
            width=8,
        ),
        timeseries(
            "Load: failures per node",
            "Failed calls a second, each node a line; a crashed or cut-off "
            "node stands out.",
            [(rate(FAILURES, "node"), "node {{node}}")],
            PER_SECOND,
            per_node=True,
            width=8,
        ),
    ]
    return [figures, curves]
