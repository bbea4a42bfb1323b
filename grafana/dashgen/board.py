"""A whole dashboard: the testbed variable, the fault annotation, links to
the other boards, and panels laid out in rows on Grafana's 24-column grid."""

from __future__ import annotations

from .query import DATASOURCE, Json

SCHEMA_VERSION = 39
GRID_COLUMNS = 24
TAG = "heal"

TESTBED_VARIABLE: Json = {
    "current": {},
    "datasource": DATASOURCE,
    "definition": "label_values(heal_testbed_info, testbed)",
    "hide": 0,
    "includeAll": False,
    "label": "Testbed",
    "multi": False,
    "name": "testbed",
    "options": [],
    "query": "label_values(heal_testbed_info, testbed)",
    "refresh": 2,
    "regex": "",
    "sort": 1,
    "type": "query",
}

# Regions where any fault was in force, one per kind, on every time axis.
FAULT_ANNOTATION: Json = {
    "datasource": DATASOURCE,
    "enable": True,
    "expr": 'sum by (kind) (heal_testbed_faults_active{testbed="$testbed"}) > 0',
    "iconColor": "red",
    "name": "faults",
    "step": "5s",
    "tagKeys": "kind",
    "textFormat": "",
    "titleFormat": "fault: {{kind}}",
    "useValueForTime": False,
}

BUILTIN_ANNOTATION: Json = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


def _lay_out(rows: list[list[Json]]) -> list[Json]:
    """Give each panel its id and place it: rows top to bottom, panels left
    to right, each row as tall as its tallest panel."""
    placed: list[Json] = []
    y = 0
    for row in rows:
        x = 0
        for panel in row:
            width, height = panel["gridPos"]["w"], panel["gridPos"]["h"]
            if x + width > GRID_COLUMNS:
                raise ValueError(f"row with {panel['title']!r} is wider than the grid")
            panel["gridPos"] = {"h": height, "w": width, "x": x, "y": y}
            panel["id"] = len(placed) + 1
            placed.append(panel)
            x += width
        y += max(panel["gridPos"]["h"] for panel in row)
    return placed


def dashboard(uid: str, title: str, description: str, rows: list[list[Json]]) -> Json:
    return {
        "annotations": {"list": [BUILTIN_ANNOTATION, FAULT_ANNOTATION]},
        "description": description,
        "editable": False,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [
            {
                "asDropdown": False,
                "includeVars": True,
                "keepTime": True,
                "tags": [TAG],
                "title": "HEAL dashboards",
                "type": "dashboards",
            }
        ],
        "liveNow": False,
        "panels": _lay_out(rows),
        "refresh": "5s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": [TAG],
        "templating": {"list": [TESTBED_VARIABLE]},
        "time": {"from": "now-15m", "to": "now"},
        "timepicker": {"refresh_intervals": ["5s", "10s", "30s", "1m", "5m"]},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }
