"""Figures of a protocol over its repeats: the mean and the spread (sample
standard deviation, and the range) of every figure, and for thresholds
how many runs reached them at all."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from controller.compare.measure import THRESHOLDS, RunFigures


@dataclass(frozen=True)
class Spread:
    mean: float | None
    sd: float | None  # None for fewer than two values
    low: float | None
    high: float | None
    count: int  # runs that had a value

    @staticmethod
    def of(values: Sequence[float | None]) -> Spread:
        known = [v for v in values if v is not None]
        if not known:
            return Spread(None, None, None, None, 0)
        sd = statistics.stdev(known) if len(known) > 1 else None
        return Spread(
            round(statistics.fmean(known), 4),
            None if sd is None else round(sd, 4),
            min(known),
            max(known),
            len(known),
        )


@dataclass
class ProtocolSummary:
    protocol: str
    runs: int
    expected_per_cycle: float | None
    figures: dict[str, Spread] = field(default_factory=dict)
    faults: dict[str, dict[str, Spread]] = field(default_factory=dict)
    failed_steps: dict[str, str] = field(default_factory=dict)
    by_type_per_cycle: dict[str, float] = field(default_factory=dict)  # means


def _cycle(run: RunFigures, i: int) -> float | None:
    cycle = run.reached[i].cycle
    return None if cycle is None else float(cycle)


def _cycles_to(i: int) -> Callable[[RunFigures], float | None]:
    return lambda r: _cycle(r, i)


def _seconds_to(i: int) -> Callable[[RunFigures], float | None]:
    return lambda r: r.reached[i].t_s


FIGURES: dict[str, Callable[[RunFigures], float | None]] = {
    "final_accuracy": lambda r: r.final_accuracy,
    **{f"cycles_to_{t:.2f}": _cycles_to(i) for i, t in enumerate(THRESHOLDS)},
    **{f"seconds_to_{t:.2f}": _seconds_to(i) for i, t in enumerate(THRESHOLDS)},
    "messages_per_cycle": lambda r: r.messages_per_cycle,
    "all_messages_per_cycle": lambda r: r.all_messages_per_cycle,
    "bytes_per_cycle": lambda r: r.bytes_per_cycle,
}
FAULT_FIGURES = ("hubs_agree_s", "dip", "back_within_s", "gain_after")


def summarise(
    protocol: str, runs: list[RunFigures], expected: float | None
) -> ProtocolSummary:
    found = ProtocolSummary(protocol, len(runs), expected)
    for name, get in FIGURES.items():
        found.figures[name] = Spread.of([get(r) for r in runs])
    kinds = sorted({k for r in runs for k in r.by_type_per_cycle})
    for kind in kinds:
        mean = Spread.of([r.by_type_per_cycle.get(kind, 0.0) for r in runs]).mean
        if mean is not None:
            found.by_type_per_cycle[kind] = mean
    labels = list(dict.fromkeys(f.label for r in runs for f in r.faults))
    for label in labels:
        mine = [f for r in runs for f in r.faults if f.label == label]
        failed = [f.failed for f in mine if f.failed]
        if failed and len(failed) == len(mine):
            found.failed_steps[label] = failed[0]
            continue
        ran = [f for f in mine if not f.failed]
        found.faults[label] = {
            key: Spread.of([getattr(f, key) for f in ran]) for key in FAULT_FIGURES
        }
    return found
