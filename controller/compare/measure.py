"""The figures of one scenario run that a comparison puts side by side, all
from the run's event log: accuracy reached, how soon thresholds were
passed, what the learning cost in messages and bytes, and the recovery
after each fault (the report's figures).

Times are seconds since the scenario started (the testbed was up and every
node answering); cycles are the nodes' median learning cycle, counted from
the nodes' start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.report.events import last_run, read_log
from controller.report.recovery import recovery
from controller.report.timeline import build

THRESHOLDS = (0.80, 0.85)
# The messages that carry models; the rest (cache, backward, ping) are the
# overlay's and the probes'.
LEARNING_TYPES = ("push", "global", "aggregate", "pull")


@dataclass(frozen=True)
class Reached:
    threshold: float
    t_s: float | None  # None: never within the run
    cycle: int | None


@dataclass(frozen=True)
class FaultFigures:
    label: str
    kind: str
    at_s: float
    pre_accuracy: float | None
    hubs_agree_s: float | None
    dip: float | None
    back_within_s: float | None
    # Mean accuracy at the end less before the fault: a protocol that stops
    # learning shows no dip, only no gain.
    gain_after: float | None
    failed: str | None = None  # why the step did not run (e.g. no hubs)


@dataclass(frozen=True)
class RunFigures:
    protocol: str
    seed: int
    nodes: int
    final_accuracy: float | None
    reached: list[Reached]
    cycles: float | None  # learning cycles the run covered
    messages_per_cycle: float | None  # learning messages, all nodes
    all_messages_per_cycle: float | None
    bytes_per_cycle: float | None  # learning bytes
    faults: list[FaultFigures] = field(default_factory=list)
    by_type_per_cycle: dict[str, float] = field(default_factory=dict)  # all types
    curve: list[tuple[float, float]] = field(default_factory=list)  # (t_s, mean)


def measure(log: Path, protocol: str) -> RunFigures:
    block = last_run(read_log(log))
    run = build(block, log)
    header = run.scenario or {}
    seen = [o for o in run.observations if o.mean_accuracy is not None]
    final = seen[-1].mean_accuracy if seen else None

    reached = []
    for threshold in THRESHOLDS:
        first = next((o for o in seen if (o.mean_accuracy or 0) >= threshold), None)
        if first is None:
            reached.append(Reached(threshold, None, None))
        else:
            reached.append(Reached(threshold, first.t_s, first.cycle))

    traffic = [r for r in block.records if r["event"] == "observe" and "sent" in r]
    cycles, learning, every, learning_bytes = _traffic(traffic)
    by_type = _by_type(traffic, cycles)
    failures = {
        str(r.get("step")): str(r.get("error"))
        for r in block.records
        if r["event"] == "step_failed"
    }
    faults = [
        FaultFigures(
            label=f.label,
            kind=f.kind,
            at_s=f.at_s,
            pre_accuracy=f.pre_accuracy,
            hubs_agree_s=f.hubs_agree_s,
            dip=f.dip,
            back_within_s=f.back_within_s,
            gain_after=(
                round(final - f.pre_accuracy, 4)
                if final is not None and f.pre_accuracy is not None
                else None
            ),
        )
        for f in recovery(run)
    ]
    faults += [
        FaultFigures(label, "-", 0.0, None, None, None, None, None, failed=why)
        for label, why in failures.items()
    ]
    return RunFigures(
        protocol=protocol,
        seed=int(header.get("seed") or 0),
        nodes=int(header.get("nodes") or 0),
        final_accuracy=final,
        reached=reached,
        cycles=cycles,
        messages_per_cycle=_per(learning, cycles),
        all_messages_per_cycle=_per(every, cycles),
        bytes_per_cycle=_per(learning_bytes, cycles),
        faults=faults,
        by_type_per_cycle=by_type,
        curve=[(o.t_s, o.mean_accuracy) for o in seen if o.mean_accuracy is not None],
    )


def _span(
    records: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The first and last observation that carry traffic and a cycle."""
    timed = [r for r in records if r.get("cycle") is not None]
    return (timed[0], timed[-1]) if len(timed) >= 2 else None


def _traffic(records: list[dict[str, Any]]) -> tuple[float | None, int, int, int]:
    """Cycles between the first and last observation that carry traffic, and
    the learning messages, all messages and learning bytes sent meanwhile."""
    span = _span(records)
    if span is None:
        return None, 0, 0, 0
    first, last = span

    def grew(key: str, kinds: tuple[str, ...] | None) -> int:
        def total(r: dict[str, Any]) -> int:
            counts: dict[str, int] = r.get(key) or {}
            return sum(v for k, v in counts.items() if kinds is None or k in kinds)

        return total(last) - total(first)

    cycles = float(last["cycle"] - first["cycle"])
    return (
        cycles,
        grew("sent", LEARNING_TYPES),
        grew("sent", None),
        grew("sent_bytes", LEARNING_TYPES),
    )


def _by_type(records: list[dict[str, Any]], cycles: float | None) -> dict[str, float]:
    """Messages per cycle of each type, over the same span as _traffic:
    where a protocol departs from its formula, this says which message
    does."""
    span = _span(records)
    if span is None:
        return {}
    first, last = (r.get("sent") or {} for r in span)
    found = {}
    for kind in sorted(last):
        rate = _per(last[kind] - first.get(kind, 0), cycles)
        if rate:
            found[kind] = rate
    return found


def _per(amount: int, cycles: float | None) -> float | None:
    if cycles is None or cycles <= 0:
        return None
    return round(amount / cycles, 2)
