"""The report's summary for programs: what ran and every figure, as JSON
(markdown.py renders it for people), and one line per fault for the
terminal."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from controller.report import recovery as rec
from controller.report.model import RunData
from controller.report.recovery import Figures

RUNNER_FIELDS = ("fault_id", "kind", "at_s", "hubs_agree_s", "dip", "back_within_s")


def as_json(
    run: RunData, figures: list[Figures], files: dict[str, str]
) -> dict[str, Any]:
    sc = run.scenario or {}
    last = next(
        (o for o in reversed(run.observations) if o.mean_accuracy is not None), None
    )
    return {
        "source": str(run.source),
        "testbed": run.testbed,
        "per_node_series": run.per_node is not None,
        "run": {
            "scenario": sc.get("scenario"),
            "started": sc.get("time"),
            "finished": run.finished is not None,
            "interrupted": _interrupted(run),
            "backend": sc.get("backend"),
            "nodes": sc.get("nodes"),
            "seed": sc.get("seed"),
            "end_s": sc.get("end_s"),
            "overlay_period_s": run.period("overlay_period_s"),
            "cycle_period_s": run.period("cycle_period_s"),
            "observe_period_s": _r(run.observe_period_s),
            "observations": len(run.observations),
            "final_mean_accuracy": last.mean_accuracy if last else None,
            "failed_steps": [f.get("step") for f in run.step_failures],
            "runs_in_log": run.runs_in_log,
        },
        "thresholds": {
            "agreement": rec.AGREEMENT,
            "tolerance": rec.TOLERANCE,
            "baseline_observations": rec.BASELINE_OBSERVATIONS,
        },
        "faults": [asdict(f) for f in run.faults],
        "recovery": [asdict(f) for f in figures],
        "runner_recovery": [
            {k: r.get(k) for k in RUNNER_FIELDS} for r in run.runner_recovery
        ],
        "files": files,
        "notes": notes(run),
    }


def write_json(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=2) + "\n")


def one_line(f: Figures) -> str:
    """A fault's recovery in one line, for the terminal."""
    cycles = f.hubs_agree_overlay_cycles
    agree = (
        "hubs never agreed again"
        if f.hubs_agree_s is None
        else f"hubs agree after {fmt(f.hubs_agree_s)} s"
        + (f" ({fmt(cycles)} overlay cycles)" if cycles is not None else "")
    )
    back = (
        "accuracy not back by the end"
        if f.back_within_s is None
        else f"back within {fmt(f.back_within_s)} s"
    )
    return (
        f"{f.label} ({f.kind} {f.action} at {fmt(f.at_s)} s): {agree}, "
        f"accuracy dip {fmt(f.dip)}, {back}"
    )


def notes(run: RunData) -> list[str]:
    found = []
    if run.runs_in_log > 1:
        found.append(
            f"The log holds {run.runs_in_log} scenario runs; this report covers "
            "the last one."
        )
    if run.scenario is not None and run.finished is None:
        found.append(
            "The run has no scenario_finished record: it was cut short, or it "
            "is still going."
        )
    if _interrupted(run):
        planned = (run.scenario or {}).get("end_s")
        ended = (run.finished or {}).get("elapsed_s")
        found.append(
            f"The run was interrupted after {fmt(ended)} s"
            + (f" of its planned {fmt(planned)} s" if planned is not None else "")
            + "; the figures cover what it saw until then."
        )
    if any(f.kind == "churn" for f in run.faults):
        found.append(
            "Churn is timed from its first leave or join; the runner times it "
            "from the step that started it."
        )
    partitions = any(f.kind == "partition" and f.groups for f in run.faults)
    if partitions and run.per_node is None:
        found.append(
            "The accuracy gap between the sides of a partition needs per-node "
            "series, which the log does not hold; the widest spread (best less "
            "worst node) bounds it from above. Prometheus has them: see "
            "`controller report --source prometheus`."
        )
    elif partitions and run.per_node is not None:
        found.append(
            "Partition drift is the gap between the mean accuracies of the "
            "partition's sides, from each node's series, sampled every "
            f"{run.per_node.step_s:g} s while it held."
        )
    return run.notes + found


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _interrupted(run: RunData) -> bool:
    return bool((run.finished or {}).get("interrupted"))
