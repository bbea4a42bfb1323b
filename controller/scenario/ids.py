"""Node ids as scenario files write them: "0-4,7,12-15", and back."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

# Far above any testbed (at most 1000 nodes); bounds what a range may expand to.
MAX_ID = 99_999
_RANGE = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


def parse_ids(value: Any) -> tuple[int, ...]:
    """Sorted unique ids from "0-4,7", a single id, or a list of ids."""
    if isinstance(value, int) and not isinstance(value, bool):
        items: list[Any] = [value]
    elif isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = value.split(",")
    else:
        raise ValueError(f"ids: expected '0-4,7' or a list of ids, got {value!r}")
    ids: set[int] = set()
    for item in items:
        ids.update(_id_range(item))
    if not ids:
        raise ValueError("ids: the list is empty")
    return tuple(sorted(ids))


def _id_range(item: Any) -> range:
    if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
        low = high = item
    elif isinstance(item, str) and (match := _RANGE.fullmatch(item)):
        low, high = int(match[1]), int(match[2] or match[1])
    else:
        raise ValueError(
            f"{item!r} is not a node id or range; write ids >= 0 and ranges "
            "low-high, e.g. '0-4,7', or one of all, hubs, clients, rest"
        )
    if high < low:
        raise ValueError(f"range {item!r} runs backwards; write it as {high}-{low}")
    if high > MAX_ID:
        raise ValueError(f"id {high}: a testbed has at most 1000 nodes")
    return range(low, high + 1)


def format_ids(ids: Collection[int]) -> str:
    """Ids as compact ranges: [0, 1, 2, 5] -> "0-2,5"."""
    runs: list[list[int]] = []
    for i in sorted(set(ids)):
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
