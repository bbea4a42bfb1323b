"""The event log of a run: one JSON object per line, with wall-clock time."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class EventLog:
    def __init__(self, path: Path, start: float | None = None) -> None:
        self.path = path
        self.start = time.time() if start is None else start
        self.last: dict[str, dict[str, Any]] = {}  # event -> its newest record

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        now = time.time()
        record = {
            "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
            "epoch": round(now, 3),
            "elapsed_s": round(now - self.start, 3),
            "event": event,
            **fields,
        }
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record, default=str) + "\n")
        self.last[event] = record
        return record


def read_events(path: Path) -> list[dict[str, Any]]:
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]
