"""Observations the testbed's exporter wrote (monitor/observations.jsonl):
the same fields as the event log's "observe" records, made whenever the
exporter looked, whether or not a scenario ran."""

from __future__ import annotations

from pathlib import Path

from controller.errors import UsageError
from controller.report.events import parse_line, whole
from controller.report.model import Observation
from controller.report.timeline import observation
from controller.report.window import Window


def read_observations(path: Path, window: Window) -> list[Observation]:
    """The file's observations inside the window, on its clock; none when
    the file does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from exc

    lines = data.split(b"\n")
    found = []
    for number, raw in enumerate(lines, start=1):
        if number == len(lines) and not whole(raw):
            break  # the exporter is writing this line right now
        record = parse_line(path, number, raw)
        if not isinstance(record, dict) or record.get("event") != "observe":
            continue
        epoch = record.get("epoch")
        if not isinstance(epoch, int | float):
            raise UsageError(f"{path}:{number}: no numeric 'epoch' field")
        if window.start_epoch <= epoch <= window.end_epoch:
            t_s = round(float(epoch) - window.start_epoch, 3)
            found.append(observation(record, t_s))
    return sorted(found, key=lambda o: o.t_s)
