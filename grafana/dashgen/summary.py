"""Stat and table panels: the current value of a measure, and one row per
fault or disturbance."""

from __future__ import annotations

from .query import DATASOURCE, Json, ref_id, target


def stat(
    title: str,
    description: str,
    expr: str,
    unit: str,
    *,
    instant: bool = False,
    width: int = 4,
) -> Json:
    """The last value, over a sparkline of the time range unless instant."""
    return {
        "datasource": DATASOURCE,
        "description": description,
        "fieldConfig": {
            "defaults": {
                "color": {"mode": "thresholds"},
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{"color": "blue", "value": None}],
                },
                "unit": unit,
            },
            "overrides": [],
        },
        "gridPos": {"h": 4, "w": width},
        "options": {
            "colorMode": "value",
            "graphMode": "none" if instant else "area",
            "justifyMode": "auto",
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "textMode": "auto",
        },
        "targets": [
            {**target(expr, title, "A"), "instant": instant, "range": not instant}
        ],
        "title": title,
        "type": "stat",
    }


def table(
    title: str,
    description: str,
    columns: list[tuple[str, str | None, str]],
    keys: list[str],
    *,
    width: int = 24,
) -> Json:
    """One row per combination of keys (the labels the queries keep).
    columns: (expression, column title or None to hide the value, unit).
    Several queries are merged on their keys into one row each."""
    panel_targets = [
        target(expr, "", ref_id(i), table=True)
        for i, (expr, _, _) in enumerate(columns)
    ]
    value_names = (
        ["Value"]
        if len(columns) == 1
        else [f"Value #{t['refId']}" for t in panel_targets]
    )

    hidden = {"Time": True}
    renames = {}
    overrides = []
    for value, (_, name, unit) in zip(value_names, columns, strict=True):
        if name is None:
            hidden[value] = True
            continue
        renames[value] = name
        overrides.append(
            {
                "matcher": {"id": "byName", "options": name},
                "properties": [{"id": "unit", "value": unit}],
            }
        )
    order = {key: i for i, key in enumerate(keys)}
    transformations = [{"id": "merge", "options": {}}] if len(columns) > 1 else []
    transformations.append(
        {
            "id": "organize",
            "options": {
                "excludeByName": hidden,
                "indexByName": order,
                "renameByName": renames,
            },
        }
    )
    return {
        "datasource": DATASOURCE,
        "description": description,
        "fieldConfig": {
            "defaults": {"custom": {"align": "auto"}},
            "overrides": overrides,
        },
        "gridPos": {"h": 8, "w": width},
        "options": {"cellHeight": "sm", "showHeader": True},
        "targets": panel_targets,
        "title": title,
        "transformations": transformations,
        "type": "table",
    }
