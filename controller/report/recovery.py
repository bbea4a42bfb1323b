"""Recovery after every disturbance, computed from the observations alone.

The runner writes its own figures as it goes; these are worked out again
from the log, so that the two can be held against each other and so that a
run whose runner died still gets them. From the moment a fault is applied
(or cleared by a step):

- hubs agree: the first observation where the majority hub list is held by
  at least AGREEMENT of the live nodes and no hub on it is known to be down
  (crashed or left, from the faults and churn in the log);
- pre-fault accuracy: the mean accuracy of the last BASELINE_OBSERVATIONS
  observations before the moment;
- back within: accuracy counts as away once it is more than TOLERANCE below
  the pre-fault level, and back when it next comes within TOLERANCE; one
  that never went away is back at once (0 s);
- dip: the pre-fault level less the lowest mean accuracy until it was back,
  or, when it never went away, until the next disturbance.

The accuracy gap between the sides of a partition needs per-node series
(drift.py), which only Prometheus has; spread_max, the widest gap between
the best and the worst node while the fault was in force, bounds it from
above whatever the source.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.report.drift import Drift, drift
from controller.report.model import Disturbance, FaultWindow, Observation, RunData

AGREEMENT = 0.9
TOLERANCE = 0.01
BASELINE_OBSERVATIONS = 3


@dataclass(frozen=True)
class Figures:
    label: str
    kind: str
    action: str  # "applied" or "cleared"
    at_s: float
    pre_accuracy: float | None
    hubs_agree_s: float | None  # None: not within the run
    hubs_agree_overlay_cycles: float | None
    hubs_after: tuple[int, ...]
    min_accuracy: float | None
    dip: float | None
    dipped_at_s: float | None  # None: never more than TOLERANCE below
    back_within_s: float | None  # None: away until the run ended
    back_within_cycles: int | None  # learning cycles, median over nodes
    spread_max: float | None
    # Partitions, from per-node series: the gap between the sides' means.
    drift_max: float | None = None
    drift_max_at_s: float | None = None  # since the fault was applied
    drift_at_heal: float | None = None
    sides_at_heal: tuple[float | None, ...] = ()


def recovery(run: RunData) -> list[Figures]:
    figures = []
    for d in run.disturbances:
        later = [x.at_s for x in run.disturbances if x.at_s > d.at_s]
        figures.append(_figures(run, d, min(later, default=float("inf"))))
    return figures


def baseline(before: list[Observation]) -> float | None:
    accs = [o.mean_accuracy for o in before if o.mean_accuracy is not None]
    recent = accs[-BASELINE_OBSERVATIONS:]
    return sum(recent) / len(recent) if recent else None


def hubs_agree(obs: Observation, down: set[int]) -> bool:
    return bool(obs.hubs) and obs.agreement >= AGREEMENT and not down & set(obs.hubs)


def _figures(run: RunData, d: Disturbance, next_at: float) -> Figures:
    before = [o for o in run.observations if o.t_s < d.at_s]
    after = [o for o in run.observations if o.t_s >= d.at_s]
    pre = baseline(before)
    agreed = next((o for o in after if hubs_agree(o, run.down_at(o.t_s))), None)
    hubs_s = None if agreed is None else agreed.t_s - d.at_s
    overlay = run.period("overlay_period_s")

    # Accuracy away and back.
    dipped = back = None
    if pre is not None:
        for o in after:
            if o.mean_accuracy is None:
                continue
            low = o.mean_accuracy < pre - TOLERANCE
            if low and dipped is None:
                dipped = o
            elif not low and dipped is not None:
                back = o
                break
    until = back.t_s if back else next_at if dipped is None else float("inf")
    accs = [o.mean_accuracy for o in after if o.t_s <= until]
    lowest = min((a for a in accs if a is not None), default=None)

    pre_cycle = before[-1].cycle if before else None
    fault = _fault(run, d)
    gaps = _drift(run, fault)
    back_s = None if pre is None else 0.0 if dipped is None else _since(back, d)
    return Figures(
        label=d.label,
        kind=d.kind,
        action=d.action,
        at_s=d.at_s,
        pre_accuracy=_r(pre),
        hubs_agree_s=_r(hubs_s),
        hubs_agree_overlay_cycles=(
            round(hubs_s / overlay, 2) if hubs_s is not None and overlay else None
        ),
        hubs_after=agreed.hubs if agreed else (),
        min_accuracy=_r(lowest),
        dip=_r(max(0.0, pre - lowest))
        if pre is not None and lowest is not None
        else None,
        dipped_at_s=_since(dipped, d),
        back_within_s=back_s,
        back_within_cycles=(
            back.cycle - pre_cycle
            if back and back.cycle is not None and pre_cycle is not None
            else None
        ),
        spread_max=_spread(run, d, fault),
        drift_max=gaps.max_gap,
        drift_max_at_s=gaps.max_gap_at_s,
        drift_at_heal=gaps.gap_at_heal,
        sides_at_heal=gaps.sides_at_heal,
    )


def _fault(run: RunData, d: Disturbance) -> FaultWindow | None:
    """The fault whose application d is; None for clearings."""
    if d.action != "applied":
        return None
    return next(
        (f for f in run.faults if f.fault_id == d.label and f.applied_s == d.at_s),
        None,
    )


def _drift(run: RunData, fault: FaultWindow | None) -> Drift:
    found = None
    if fault is not None and run.per_node is not None:
        found = drift(fault, run.per_node, run.end_s)
    return found or Drift(None, None, None, ())


def _spread(run: RunData, d: Disturbance, fault: FaultWindow | None) -> float | None:
    """The widest best-to-worst accuracy gap while an applied fault held."""
    if d.action != "applied":
        return None
    end = run.end_s if fault is None or fault.cleared_s is None else fault.cleared_s
    spreads = [
        o.spread
        for o in run.observations
        if d.at_s <= o.t_s <= end and o.spread is not None
    ]
    return _r(max(spreads)) if spreads else None


def _since(obs: Observation | None, d: Disturbance) -> float | None:
    return None if obs is None else _r(obs.t_s - d.at_s)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
