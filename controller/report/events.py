"""Read an event log and pick the run to report on.

A log may hold several scenario runs, one after another, and faults applied
by hand between them. The report covers the last scenario run, from its
scenario_started to its scenario_finished (or to the end of the log when
the run was cut short); a log without any scenario is taken whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.errors import UsageError

LOG_NAME = "events.jsonl"
RUN_FIRST = "scenario_started"
RUN_LAST = "scenario_finished"


@dataclass(frozen=True)
class Block:
    """The records of one run, with the wall-clock moment its clock starts."""

    records: list[dict[str, Any]]
    start_epoch: float
    runs_in_log: int  # scenario runs in the whole log

    def t_s(self, record: dict[str, Any]) -> float:
        """Seconds since the run started. The epoch, not elapsed_s: records
        written by another process (a fault applied by hand during the run)
        count their elapsed_s from their own start."""
        return round(float(record["epoch"]) - self.start_epoch, 3)


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every record of the log, in file order; a bad line is an error."""
    try:
        lines = path.read_bytes().split(b"\n")
    except FileNotFoundError as exc:
        raise UsageError(
            f"{path} does not exist: run a scenario first "
            "(`controller scenario run FILE`), which writes it"
        ) from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from exc

    records = []
    for number, raw in enumerate(lines, start=1):
        if number == len(lines) and raw.strip() and not whole(raw):
            break  # a line without its newline: a writer stopped mid-record
        record = parse_line(path, number, raw)
        if record is None:
            continue
        if not isinstance(record, dict) or "event" not in record:
            raise UsageError(f"{path}:{number}: not an event (no 'event' field)")
        if not isinstance(record.get("epoch"), int | float):
            raise UsageError(f"{path}:{number}: no numeric 'epoch' field")
        records.append(record)
    if not records:
        raise UsageError(
            f"{path} holds no events: run a scenario first "
            "(`controller scenario run FILE`)"
        )
    return records


def last_run(records: list[dict[str, Any]]) -> Block:
    """The last scenario run of the log, or the whole log if it has none."""
    starts = [i for i, r in enumerate(records) if r["event"] == RUN_FIRST]
    if not starts:
        return Block(records, float(records[0]["epoch"]), 0)

    first = starts[-1]
    last = len(records)
    for index in range(first + 1, len(records)):
        if records[index]["event"] == RUN_LAST:
            last = index + 1
            break
    opening = records[first]
    # elapsed_s of the opening record is the runner's delay in writing it.
    start = float(opening["epoch"]) - float(opening.get("elapsed_s", 0.0))
    return Block(records[first:last], start, len(starts))


def parse_line(path: Path, number: int, raw: bytes) -> Any:
    """One line of a JSON Lines file as JSON; None for a blank line."""
    line = decode_line(path, number, raw)
    if not line.strip():
        return None
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{number}: not JSON ({exc.msg})") from exc


def decode_line(path: Path, number: int, raw: bytes) -> str:
    """One line of a JSON Lines file as text; our writers write UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}:{number}: not UTF-8 text (byte {exc.start + 1} of the line "
            f"is {raw[exc.start]:#04x}); each line must be one JSON record"
        ) from exc


def whole(raw: bytes) -> bool:
    """Whether a line's bytes are one complete JSON value."""
    try:
        json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return False
    return True
