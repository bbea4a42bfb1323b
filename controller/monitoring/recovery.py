"""Recovery figures while a testbed runs: the report's own computation
(controller/report/recovery.py) applied to the exporter's observations and
the faults of the event log, so that a dashboard and a later report agree."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from controller.monitoring.snapshot import Recovery
from controller.report.events import Block
from controller.report.recovery import recovery
from controller.report.timeline import build

FAULT_EVENTS = {"fault_applied": "applied", "fault_cleared": "cleared"}


def read_records(path: Path) -> list[dict[str, Any]]:
    """The event log's records; a line being written (or torn) is skipped."""
    records = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("epoch"), int | float):
            records.append(record)
    return records


def event_counts(records: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    return dict(
        Counter(
            (str(r.get("kind")), FAULT_EVENTS[r["event"]])
            for r in records
            if r.get("event") in FAULT_EVENTS
        )
    )


def figures(
    records: list[dict[str, Any]],
    observations: list[dict[str, Any]],
    start_epoch: float,
    source: Path,
) -> list[Recovery]:
    """Recovery after each fault of the log since start_epoch, judged on
    the exporter's observations (the runner's own, if any, are left out)."""
    faults = [
        r
        for r in records
        if r.get("event") != "observe" and float(r["epoch"]) >= start_epoch
    ]
    if not faults or not observations:
        return []
    merged = sorted(faults + observations, key=lambda r: float(r["epoch"]))
    run = build(Block(merged, start_epoch, 0), source)
    return [
        Recovery(
            fault=f.label,
            kind=f.kind,
            action=f.action,
            hubs_agree_s=f.hubs_agree_s,
            dip=f.dip,
            reconverge_s=f.back_within_s,
        )
        for f in recovery(run)
    ]
