"""A load run in a few lines, and the same figures for JSON files."""

from __future__ import annotations

from collections import defaultdict

from controller.load.stats import LoadStats, Row


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g} ms"


def total_line(total: Row) -> str:
    return (
        f"{total.requests} requests, {total.failures} failures "
        f"({total.failure_ratio:.2%}), {total.rps:.1f} requests/s; latency "
        f"p50 {_ms(total.p50_ms)}, p95 {_ms(total.p95_ms)}, p99 {_ms(total.p99_ms)}"
    )


def failing_nodes(stats: LoadStats) -> dict[int, int]:
    """Failures by node, for the nodes with any."""
    failures: dict[int, int] = defaultdict(int)
    for row in stats.rows:
        if row.failures and row.node is not None:
            failures[row.node] += row.failures
    return dict(sorted(failures.items()))


def summary_lines(stats: LoadStats) -> list[str]:
    lines = [total_line(stats.total)]
    failing = failing_nodes(stats)
    if failing:
        shown = ", ".join(f"node {n}: {f}" for n, f in failing.items())
        lines.append(f"failures by node: {shown}")
    return lines


def as_json(stats: LoadStats) -> dict[str, object]:
    return {
        "total": stats.total.as_json(),
        "rows": [row.as_json() for row in stats.rows],
    }
