"""The queries behind the Grafana dashboards, ready to send to Prometheus.
Grafana cannot run here, so the dashboards are checked by running every
panel's query against a Prometheus that scraped a real testbed; this reads
them from the dashboard files and fills in what Grafana would."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.errors import UsageError

# The series the testbed exporter writes (job heal-testbed); the
# dashboards may use these and the nodes' own series, nothing else.
TESTBED_SERIES = (
    "heal_testbed_info",
    "heal_testbed_nodes",
    "heal_testbed_hub_agreement",
    "heal_testbed_hubs",
    "heal_testbed_hub_lists",
    "heal_testbed_majority_hub",
    "heal_testbed_mean_accuracy_ratio",
    "heal_testbed_min_accuracy_ratio",
    "heal_testbed_max_accuracy_ratio",
    "heal_testbed_cycle",
    "heal_testbed_faults_active",
    "heal_testbed_fault_active",
    "heal_testbed_fault_events_total",
    "heal_testbed_recovery_hubs_agree_seconds",
    "heal_testbed_recovery_dip_ratio",
    "heal_testbed_recovery_reconverge_seconds",
    "heal_testbed_partition_drift_ratio",
)

_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str  # the dashboard's uid
    panel: str  # the panel's title
    ref_id: str
    expr: str  # variables filled in


def panel_queries(
    dashboards_dir: Path,
    testbed: str,
    *,
    rate_interval: str = "30s",
    interval: str = "15s",
    time_range: str = "15m",
) -> list[PanelQuery]:
    """Every panel target of every dashboard in dashboards_dir, in file and
    panel order. Raises UsageError naming the file and panel when a file
    cannot be read or a query uses a variable Grafana would not fill."""
    values = {
        "testbed": testbed,
        "__rate_interval": rate_interval,
        "__interval": interval,
        "__range": time_range,
    }
    files = sorted(dashboards_dir.glob("*.json"))
    if not files:
        raise UsageError(f"{dashboards_dir}: no dashboard files (*.json)")

    queries = []
    for path in files:
        board = _read(path)
        for panel in _panels(board.get("panels", [])):
            for target in panel.get("targets", []):
                title = str(panel.get("title", ""))
                expr = _fill(
                    str(target.get("expr", "")), values, f"{path.name}, panel {title!r}"
                )
                ref = str(target.get("refId", ""))
                queries.append(PanelQuery(str(board["uid"]), title, ref, expr))
    return queries


def _read(path: Path) -> dict[str, Any]:
    try:
        board = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable dashboard: {exc}") from exc
    if not isinstance(board, dict) or "uid" not in board:
        raise UsageError(f"{path}: not a dashboard (a JSON object with a uid)")
    return board


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Panels in order, with those inside collapsed rows."""
    found = []
    for panel in panels:
        found.append(panel)
        found.extend(_panels(panel.get("panels", [])))
    return found


def _fill(expr: str, values: dict[str, str], where: str) -> str:
    if not expr.strip():
        raise UsageError(f"{where}: a target without an expression")

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            known = ", ".join("$" + key for key in values)
            raise UsageError(f"{where}: unknown variable ${name} (known: {known})")
        return values[name]

    return _VARIABLE.sub(value, expr)
