"""Observations from range-query grids: from the testbed's own series when
its exporter was scraped, else from the nodes' series alone.

Made from the nodes alone, an observation counts the nodes Prometheus
could scrape: "alive" and "healthy" are both that count (a paused or
crashed node is no target to tell apart), and the majority hub list and
the agreement are worked out as `controller status` does, over those nodes.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

from controller.report.model import Observation
from controller.report.pernode import NodeSample, PerNode

Grid = dict[float, float]  # t_s -> value


def node_samples(
    accuracy: dict[tuple[float, int], float],
    loss: dict[tuple[float, int], float],
    cycle: dict[tuple[float, int], float],
) -> list[NodeSample]:
    keys = sorted(set(accuracy) | set(loss) | set(cycle))
    return [
        NodeSample(
            t,
            node,
            accuracy.get((t, node)),
            loss.get((t, node)),
            _int(cycle.get((t, node))),
        )
        for t, node in keys
    ]


def hub_views(
    found: list[tuple[int, int, Grid]],
) -> dict[float, dict[int, tuple[int, ...]]]:
    """(node, hub, grid) series -> t_s -> node -> the hubs it sees."""
    views: dict[float, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for node, hub, points in found:
        for t in points:
            views[t][node].add(hub)
    return {
        t: {n: tuple(sorted(hs)) for n, hs in by_node.items()}
        for t, by_node in sorted(views.items())
    }


def from_testbed(
    single: dict[str, Grid], hubs: list[tuple[int, Grid]], per_node: PerNode
) -> list[Observation]:
    """One observation per step in which the exporter was scraped."""
    times = sorted(set().union(*single.values()))
    answering = {t: len(ss) for t, ss in per_node.by_time().items()}
    return [
        Observation(
            t_s=t,
            alive=int(single["alive"].get(t, 0)),
            healthy=answering.get(t, 0) if per_node.samples else None,
            mean_accuracy=_r(single["mean"].get(t)),
            min_accuracy=_r(single["min"].get(t)),
            max_accuracy=_r(single["max"].get(t)),
            agreement=round(single["agreement"].get(t, 0.0), 3),
            hubs=tuple(sorted(hub for hub, points in hubs if t in points)),
            cycle=_int(single["cycle"].get(t)),
        )
        for t in times
    ]


def from_nodes(per_node: PerNode) -> list[Observation]:
    found = []
    for t, samples in per_node.by_time().items():
        accs = [s.accuracy for s in samples if s.accuracy is not None]
        cycles = [s.cycle for s in samples if s.cycle is not None]
        views = per_node.hub_views.get(t, {})
        lists = [views.get(s.node, ()) for s in samples]
        held = Counter(hs for hs in lists if hs)
        majority = held.most_common(1)[0][0] if held else ()
        found.append(
            Observation(
                t_s=t,
                alive=len(samples),
                healthy=len(samples),
                mean_accuracy=_r(statistics.fmean(accs)) if accs else None,
                min_accuracy=_r(min(accs)) if accs else None,
                max_accuracy=_r(max(accs)) if accs else None,
                agreement=round(held[majority] / len(samples), 3) if majority else 0.0,
                hubs=majority,
                cycle=int(statistics.median(cycles)) if cycles else None,
            )
        )
    return found


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
