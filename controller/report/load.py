"""The report's load figures: every Locust run kept in RUN_DIR/load/, its
total and its rows by node and RPC, from the statistics Locust wrote."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from controller.load.stats import LoadStatsError, read_stats
from controller.load.summary import as_json

SUFFIX = "_stats.csv"
ROW_FIELDS = (
    *("node", "rpc", "requests", "failures", "failure_ratio", "rps"),
    *("p50_ms", "p95_ms", "p99_ms"),
)


def load_runs(folder: Path | None) -> tuple[list[dict[str, Any]], list[str]]:
    """(runs oldest first, notes about files that could not be read)."""
    if folder is None or not folder.is_dir():
        return [], []
    runs, notes = [], []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        stamp = path.name.removesuffix(SUFFIX)
        try:
            stats = read_stats(path)
        except LoadStatsError as exc:
            notes.append(f"load run {stamp} left out: {exc}")
            continue
        meta = _meta(folder / f"{stamp}.json")
        runs.append(
            {
                "stamp": stamp,
                "params": meta.get("params"),
                "started": meta.get("started"),
                "stats": path.name,
                **as_json(stats),
            }
        )
    return runs, notes


def _meta(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def write_load(path: Path, runs: list[dict[str, Any]]) -> int:
    """One CSV row a run, node and RPC; returns the rows written."""
    count = 0
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["load_run", *ROW_FIELDS])
        for run in runs:
            for row in run["rows"]:
                out.writerow([run["stamp"], *(row[k] for k in ROW_FIELDS)])
                count += 1
    return count
