"""Queries as Grafana stores them. Every one goes to the provisioned
datasource and is limited to the testbed chosen at the top of the board."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

DATASOURCE: Json = {"type": "prometheus", "uid": "heal-prometheus"}


def sel(metric: str, *matchers: str) -> str:
    """A selector of the chosen testbed: one Prometheus may hold several
    testbeds, so no query may go without it."""
    return metric + "{" + ", ".join(('testbed="$testbed"', *matchers)) + "}"


def target(expr: str, legend: str, ref: str, *, table: bool = False) -> Json:
    """Tables take one instant value per series; graphs take ranges."""
    query: Json = {
        "datasource": DATASOURCE,
        "editorMode": "code",
        "expr": expr,
        "instant": table,
        "legendFormat": legend,
        "range": not table,
        "refId": ref,
    }
    if table:
        query["format"] = "table"
    return query


def ref_id(index: int) -> str:
    return chr(ord("A") + index)


def targets(queries: list[tuple[str, str]]) -> list[Json]:
    """Targets A, B, C, ... from (expression, legend) pairs."""
    return [target(expr, legend, ref_id(i)) for i, (expr, legend) in enumerate(queries)]
