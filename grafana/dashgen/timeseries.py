"""Time-series panels. Each one can carry the fault windows as a shaded
band, so that a dip in a curve reads next to its cause."""

from __future__ import annotations

from .query import DATASOURCE, Json, target, targets

FAULTS_REF = "faults"
FAULTS_EXPR = 'sum(heal_testbed_faults_active{testbed="$testbed"})'


def _override(ref: str, props: list[tuple[str, object]]) -> Json:
    return {
        "matcher": {"id": "byFrameRefID", "options": ref},
        "properties": [{"id": key, "value": value} for key, value in props],
    }


def _fault_band() -> Json:
    """The fault count as a stepped area on a hidden axis of its own,
    clipped at one so that any fault in force fills the panel's height."""
    return _override(
        FAULTS_REF,
        [
            ("displayName", "faults in force"),
            ("unit", "none"),
            ("min", 0),
            ("max", 1),
            ("custom.axisPlacement", "hidden"),
            ("custom.lineInterpolation", "stepAfter"),
            ("custom.lineWidth", 0),
            ("custom.fillOpacity", 15),
            ("custom.stacking", {"group": "faults", "mode": "none"}),
            ("color", {"fixedColor": "red", "mode": "fixed"}),
        ],
    )


def _bold(ref: str) -> Json:
    """A summary line (a mean) drawn over the per-node lines it sums up."""
    return _override(
        ref,
        [("custom.lineWidth", 3), ("color", {"fixedColor": "text", "mode": "fixed"})],
    )


def timeseries(
    title: str,
    description: str,
    queries: list[tuple[str, str]],
    unit: str,
    *,
    per_node: bool = False,
    bold: str | None = None,
    stack: bool = False,
    faults: bool = True,
    limits: tuple[float, float] | None = None,
    width: int = 12,
) -> Json:
    """per_node panels hide their legend: fifty entries would bury the plot.
    bold names the target (a mean) to draw over them."""
    custom = {
        "drawStyle": "line",
        "fillOpacity": 30 if stack else 0,
        "lineInterpolation": "stepAfter" if stack else "linear",
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
    }
    defaults: Json = {"color": {"mode": "palette-classic"}, "custom": custom}
    defaults["unit"] = unit
    if limits is not None:
        defaults["min"], defaults["max"] = limits

    panel_targets = targets(queries)
    overrides = [_bold(bold)] if bold else []
    if faults:
        panel_targets.append(target(FAULTS_EXPR, "faults in force", FAULTS_REF))
        overrides.append(_fault_band())

    legend = {"displayMode": "list", "placement": "bottom", "showLegend": not per_node}
    return {
        "datasource": DATASOURCE,
        "description": description,
        "fieldConfig": {"defaults": defaults, "overrides": overrides},
        "gridPos": {"h": 8, "w": width},
        "options": {
            "legend": {"calcs": [], **legend},
            "tooltip": {"mode": "single" if per_node else "multi", "sort": "desc"},
        },
        "targets": panel_targets,
        "title": title,
        "type": "timeseries",
    }
