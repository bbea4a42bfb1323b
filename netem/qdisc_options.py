"""The options `tc -j qdisc show` prints for each of our qdiscs, and how
they compare with what the tree asked for.

Names and units are tc's: tbf prints bytes/s, bytes and microseconds; netem
prints times in seconds and shares as fractions, nested in groups, and its
correlations always, even when zero. Nested objects are flattened here as
"group.key".
"""

from __future__ import annotations

import math
from typing import Any

from netem.specs import BurstLoss, Corrupt, Delay, Duplicate, Loss, Reorder
from netem.tc import Qdisc
from netem.units import num

# tc prints rates rounded to four digits, and sizes and times after a round
# trip through kernel units.
RATE_TOLERANCE = 0.01
FRACTION_TOLERANCE = 1e-6
# Units of the options `tc -j qdisc show` prints, for messages.
_UNITS = {
    "rate": " bytes/s",
    "burst": " bytes",
    "lat": " us",
    "limit": " bytes",
    "delay.delay": " s",
    "delay.jitter": " s",
}
# netem's option groups in `tc -j` output (the loss ones are exclusive).
_NETEM_GROUPS = {
    *("delay", "loss-random", "loss-gemodel", "loss-state"),
    *("duplicate", "reorder", "corrupt", "rate", "slot"),
}


def expected_options(qdisc: Qdisc) -> dict[str, float]:
    """The options the kernel should show for the qdisc."""
    if qdisc.kind == "tbf" and qdisc.rate is not None:
        return {
            "rate": qdisc.rate.rate_kbit * 1000 / 8,
            "burst": qdisc.rate.burst_kbyte * 1024,
            "lat": qdisc.rate.queue_ms * 1000,
        }
    if qdisc.kind == "htb":
        return {"default": qdisc.default_minor}
    if qdisc.kind == "bfifo":
        return {"limit": qdisc.limit_bytes}
    return _netem_options(qdisc)


def _netem_options(qdisc: Qdisc) -> dict[str, float]:
    options: dict[str, float] = {}
    reorder_at = None
    for spec in qdisc.netem:
        if isinstance(spec, Delay):
            options["delay.delay"] = spec.delay_ms / 1000
            options["delay.jitter"] = spec.jitter_ms / 1000
            options["delay.correlation"] = spec.correlation_pct / 100
        elif isinstance(spec, Loss):
            options["loss-random.loss"] = spec.loss_pct / 100
            options["loss-random.correlation"] = spec.correlation_pct / 100
        elif isinstance(spec, BurstLoss):
            options["loss-gemodel.p"] = spec.p_pct / 100
            options["loss-gemodel.r"] = spec.r_pct / 100
            options["loss-gemodel.1-h"] = spec.bad_loss_pct / 100
            options["loss-gemodel.1-k"] = spec.good_loss_pct / 100
        elif isinstance(spec, Duplicate):
            options["duplicate.duplicate"] = spec.duplicate_pct / 100
            options["duplicate.correlation"] = spec.correlation_pct / 100
        elif isinstance(spec, Corrupt):
            options["corrupt.corrupt"] = spec.corrupt_pct / 100
            options["corrupt.correlation"] = spec.correlation_pct / 100
        elif isinstance(spec, Reorder):
            options["reorder.reorder"] = spec.reorder_pct / 100
            options["reorder.correlation"] = spec.correlation_pct / 100
            reorder_at = spec.delay_ms / 1000
    if reorder_at is not None:
        options.setdefault("delay.delay", reorder_at)
        options.setdefault("delay.jitter", 0)
        options.setdefault("delay.correlation", 0)
        options["gap"] = 1  # tc's default when reordering without a gap
    return options


def compare_options(want: dict[str, float], have: dict[str, Any]) -> list[str]:
    """One line per option that differs, is missing or was not asked for."""
    flat = _flatten(have)
    differences = []
    for key, value in want.items():
        unit = _UNITS.get(key, "")
        held = flat.get(key)
        if held is None:
            # Older tc prints no gap; the reorder option itself is checked.
            if key != "gap":
                differences.append(
                    f"{key}: asked {num(value)}{unit}, kernel shows none"
                )
        elif not _close(value, held):
            differences.append(
                f"{key}: asked {num(value)}{unit}, kernel holds {num(held)}{unit}"
            )
    for key, held in flat.items():
        not_asked = key.split(".")[0] in _NETEM_GROUPS or (key == "gap" and held)
        if not_asked and key not in want:
            differences.append(f"{key}: kernel holds {num(held)}, not asked")
    return differences


def _flatten(options: dict[str, Any]) -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in options.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                if isinstance(item, int | float) and not isinstance(item, bool):
                    flat[f"{key}.{inner}"] = float(item)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[key] = float(value)
        elif key == "default" and isinstance(value, str):
            flat[key] = float(int(value, 16))  # htb prints its default in hex
    return flat


def _close(want: float, have: float) -> bool:
    return math.isclose(want, have, rel_tol=RATE_TOLERANCE, abs_tol=FRACTION_TOLERANCE)
