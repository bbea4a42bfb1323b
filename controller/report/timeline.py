"""Turn one run's records into observations, fault windows and the node
changes they imply (events.py picks the records)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from controller.report.events import Block, last_run, read_log
from controller.report.model import (
    Disturbance,
    FaultWindow,
    NodeChange,
    Observation,
    RunData,
)


def load_run(path: Path) -> RunData:
    """The last run of the event log at path."""
    block = last_run(read_log(path))
    return build(block, path)


def build(
    block: Block, source: Path | str, observations: list[Observation] | None = None
) -> RunData:
    """The run of block; its observations, unless others are given (from
    another source, on the same clock)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for record in block.records:
        by_kind.setdefault(record["event"], []).append(record)
    t = block.t_s

    if observations is None:
        observations = [observation(r, t(r)) for r in by_kind.get("observe", [])]
    faults, changes, disturbances = _faults(block)
    churn, churn_changes, churn_starts = _churn(block)
    changes = sorted(changes + churn_changes, key=lambda c: c.t_s)
    # Faults undone as the run ends, after the last observation, are no
    # disturbance: nothing follows them.
    last_seen = max((o.t_s for o in observations), default=float("-inf"))
    disturbances = sorted(
        (
            d
            for d in disturbances + churn_starts
            if d.action == "applied" or d.at_s <= last_seen
        ),
        key=lambda d: d.at_s,
    )
    started = by_kind.get("scenario_started", [None])[0]
    finished = by_kind.get("scenario_finished", [None])[0]
    return RunData(
        source=source,
        scenario=started,
        finished=finished,
        end_s=max([t(r) for r in block.records] + [last_seen, 0.0]),
        observations=sorted(observations, key=lambda o: o.t_s),
        faults=sorted(faults + churn, key=lambda f: f.applied_s),
        changes=changes,
        disturbances=disturbances,
        step_failures=by_kind.get("step_failed", []),
        runner_recovery=by_kind.get("recovery", []),
        runs_in_log=block.runs_in_log,
    )


def observation(r: dict[str, Any], t_s: float) -> Observation:
    """An observation from an "observe" record."""
    return Observation(
        t_s=t_s,
        alive=int(r.get("alive") or 0),
        healthy=r.get("healthy"),
        mean_accuracy=r.get("mean_accuracy"),
        min_accuracy=r.get("min_accuracy"),
        max_accuracy=r.get("max_accuracy"),
        agreement=float(r.get("agreement") or 0.0),
        hubs=tuple(r.get("hubs") or ()),
        cycle=r.get("cycle"),
    )


def _faults(
    block: Block,
) -> tuple[list[FaultWindow], list[NodeChange], list[Disturbance]]:
    """Applied faults matched with their clearing. Faults cleared by a
    scenario step, or by their `for` running out, are disturbances too: one
    per step, or per fault when no step cleared it."""
    windows: list[FaultWindow] = []
    open_at: dict[str, int] = {}  # fault id -> index in windows
    changes: list[NodeChange] = []
    cleared: dict[str, Disturbance] = {}
    for r in block.records:
        t = block.t_s(r)
        kind = str(r.get("kind"))
        if r["event"] == "fault_applied":
            window = _window(r, t)
            if kind != "restart":
                open_at[window.fault_id] = len(windows)
            windows.append(window)
            if kind in ("crash", "restart"):
                up = kind == "restart"
                changes += [NodeChange(t, n, up, kind) for n in window.targets]
        elif r["event"] == "fault_cleared" and r.get("fault_id") in open_at:
            index = open_at.pop(r["fault_id"])
            old = windows[index]
            windows[index] = replace(old, cleared_s=t, cleared_by=r.get("step"))
            if old.kind == "crash":
                changes += [NodeChange(t, n, True, "cleared") for n in old.targets]
            label = r.get("step") or f"{old.fault_id} ended"
            cleared.setdefault(label, Disturbance(label, old.kind, "cleared", t))

    applied = [Disturbance(w.fault_id, w.kind, "applied", w.applied_s) for w in windows]
    return windows, changes, applied + list(cleared.values())


def _window(r: dict[str, Any], t: float) -> FaultWindow:
    kind = str(r.get("kind"))
    groups = r.get("groups")
    return FaultWindow(
        # A restart has no id: it is over once applied.
        fault_id=str(r.get("fault_id") or r.get("step") or f"{kind}@{t:g}s"),
        kind=kind,
        step=r.get("step"),
        applied_s=t,
        cleared_s=t if kind == "restart" else None,
        targets=tuple(r.get("targets") or ()),
        mechanisms=dict(r.get("mechanisms") or {}),
        peers=None if r.get("peers") is None else tuple(r["peers"]),
        groups=None if groups is None else tuple(tuple(g) for g in groups),
        took_s=r.get("took_s"),
    )


def _churn(
    block: Block,
) -> tuple[list[FaultWindow], list[NodeChange], list[Disturbance]]:
    """Churn logs each leave and join; a step's churn spans its first to its
    last event (when the step fired is not in the log)."""
    events: dict[str, list[dict[str, Any]]] = {}
    for r in block.records:
        if r["event"] == "churn":
            events.setdefault(str(r.get("step") or "churn"), []).append(r)

    windows, changes, starts = [], [], []
    for label, rs in events.items():
        first, last = block.t_s(rs[0]), block.t_s(rs[-1])
        mechanisms: dict[str, list[int]] = {}
        for r in rs:
            up = r.get("action") == "join"
            changes.append(NodeChange(block.t_s(r), int(r["node"]), up, r["action"]))
            for way, ids in (r.get("mechanisms") or {}).items():
                mechanisms.setdefault(way, []).extend(ids)
        touched = tuple(dict.fromkeys(int(r["node"]) for r in rs))
        windows.append(
            FaultWindow(label, "churn", label, first, last, touched, mechanisms)
        )
        starts.append(Disturbance(label, "churn", "applied", first))
    return windows, changes, starts
