"""Locust's CSV statistics read back: one row a node and RPC, and the total.

Locust writes <prefix>_stats.csv at the end of a run (percentiles in
milliseconds, "N/A" where no call was made) and <prefix>_stats_history.csv
as it goes, which gives the progress lines.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

from controller.errors import ControllerError
from controller.load.targets import parse_name

TOTAL = "Aggregated"
_COLUMNS = ("Name", "Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%")


class LoadStatsError(ControllerError):
    """A statistics file that is missing or not Locust's."""


@dataclass(frozen=True)
class Row:
    name: str
    node: int | None  # None for the total
    rpc: str | None
    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "failure_ratio": round(self.failure_ratio, 4)}


@dataclass(frozen=True)
class LoadStats:
    rows: list[Row]  # by node, then RPC
    total: Row


def _number(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


def _row(record: dict[str, str]) -> Row:
    parsed = parse_name(record["Name"])
    return Row(
        name=record["Name"],
        node=parsed[0] if parsed else None,
        rpc=parsed[1] if parsed else None,
        requests=int(record["Request Count"]),
        failures=int(record["Failure Count"]),
        rps=float(record["Requests/s"]),
        p50_ms=_number(record["50%"]),
        p95_ms=_number(record["95%"]),
        p99_ms=_number(record["99%"]),
    )


def read_stats(path: Path) -> LoadStats:
    """Raises LoadStatsError naming the file and what is wrong with it."""
    try:
        with path.open(newline="") as handle:
            records = list(csv.DictReader(handle))
    except OSError as exc:
        raise LoadStatsError(
            f"{path}: {exc.strerror}; Locust did not write it"
        ) from exc
    if not records or any(c not in records[0] for c in _COLUMNS):
        raise LoadStatsError(
            f"{path}: not Locust statistics; need the columns {', '.join(_COLUMNS)}"
        )
    try:
        rows = [_row(r) for r in records]
    except ValueError as exc:
        raise LoadStatsError(f"{path}: a malformed number ({exc})") from exc
    totals = [r for r in rows if r.name == TOTAL]
    if not totals:
        raise LoadStatsError(f"{path}: no {TOTAL} row")
    named = [r for r in rows if r.node is not None]
    named.sort(key=lambda r: (r.node, r.rpc))
    return LoadStats(named, totals[0])


def progress(history: Path) -> tuple[int, int, float] | None:
    """(requests, failures, requests per second) of the newest total in a
    history file; None until Locust has written one."""
    try:
        with history.open(newline="") as handle:
            totals = [r for r in csv.DictReader(handle) if r.get("Name") == TOTAL]
    except OSError:
        return None
    if not totals:
        return None
    last = totals[-1]
    try:
        return (
            int(last["Total Request Count"]),
            int(last["Total Failure Count"]),
            float(last["Requests/s"]),
        )
    except (KeyError, ValueError):
        return None
