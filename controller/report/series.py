"""The report's tables as CSV: observations, faults, recovery figures.

Node lists are written space-separated ("2 5 8") so that a cell stays one
field; a missing figure is an empty cell.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

from controller.report.model import RunData
from controller.report.recovery import Figures

SERIES_COLUMNS = (
    "t_s",
    "alive",
    "healthy",
    "mean_accuracy",
    "min_accuracy",
    "max_accuracy",
    "agreement",
    "hubs",
    "cycle",
    "down",
    "faults_in_force",
)
FAULT_COLUMNS = (
    "fault_id",
    "kind",
    "step",
    "applied_s",
    "cleared_s",
    "duration_s",
    "targets",
    "peers",
    "groups",
    "mechanisms",
    "took_s",
    "cleared_by",
)
RECOVERY_COLUMNS = tuple(Figures.__dataclass_fields__)


def write_series(path: Path, run: RunData) -> int:
    rows = []
    for o in run.observations:
        in_force = [
            f.fault_id
            for f in run.faults
            if f.applied_s <= o.t_s and (f.cleared_s is None or o.t_s < f.cleared_s)
        ]
        rows.append(
            (
                o.t_s,
                o.alive,
                o.healthy,
                o.mean_accuracy,
                o.min_accuracy,
                o.max_accuracy,
                o.agreement,
                nodes(o.hubs),
                o.cycle,
                nodes(sorted(run.down_at(o.t_s))),
                " ".join(in_force),
            )
        )
    return write(path, SERIES_COLUMNS, rows)


def write_faults(path: Path, run: RunData) -> int:
    rows = []
    for f in run.faults:
        duration = None if f.cleared_s is None else round(f.cleared_s - f.applied_s, 3)
        rows.append(
            (
                f.fault_id,
                f.kind,
                f.step,
                f.applied_s,
                f.cleared_s,
                duration,
                nodes(f.targets),
                None if f.peers is None else nodes(f.peers),
                None if f.groups is None else " | ".join(nodes(g) for g in f.groups),
                "; ".join(f"{way}: {nodes(ns)}" for way, ns in f.mechanisms.items()),
                f.took_s,
                f.cleared_by,
            )
        )
    return write(path, FAULT_COLUMNS, rows)


def write_recovery(path: Path, figures: list[Figures]) -> int:
    rows = []
    for fig in figures:
        row = asdict(fig)
        row["hubs_after"] = nodes(fig.hubs_after)
        row["sides_at_heal"] = " | ".join(
            "" if m is None else str(m) for m in fig.sides_at_heal
        )
        rows.append(tuple(row[c] for c in RECOVERY_COLUMNS))
    return write(path, RECOVERY_COLUMNS, rows)


def nodes(ids: Iterable[int]) -> str:
    return " ".join(str(i) for i in ids)


def write(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> int:
    """Write the table; return its number of data rows."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow("" if v is None else v for v in row)
    return len(rows)
