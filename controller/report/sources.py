"""Where a report's observations come from, and saying which and why.

Faults, node changes and disturbances always come from the event log, the
exact record of what was done. The observations come from Prometheus when
it answers and holds the testbed's series in the window (then per-node
series come too), else from the log: its own "observe" records, or when
the run has none, those the exporter wrote beside it. A scenario run's
own observations, when finer than Prometheus's points, are used even with
Prometheus: recovery times need them.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from controller.errors import UsageError
from controller.monitoring.paths import (
    monitoring_dir,
    observations_file,
    prometheus_url,
    stack_file,
)
from controller.report import prom
from controller.report.model import Observation, RunData
from controller.report.obsfile import read_observations
from controller.report.promapi import (
    Fetch,
    Prometheus,
    PrometheusError,
    check_url,
    http_fetch,
)
from controller.report.timeline import build
from controller.report.window import Window, window_for
from controller.rundir import RunDir

SourceName = Literal["auto", "prometheus", "log"]
MAX_POINTS = 5_000  # per series; the step widens to stay below


@dataclass
class Loaded:
    run: RunData
    said: list[str]  # which source was used, and why not the other


def load(
    run_dir: RunDir,
    log: Path | None,
    source: SourceName = "auto",
    url: str | None = None,
    step: float = prom.DEFAULT_STEP_S,
    fetch: Fetch = http_fetch,
) -> Loaded:
    if not math.isfinite(step) or step <= 0:
        raise UsageError(
            f"--step {step:g}: give the seconds between points, a number above 0"
        )
    # A bad --prometheus is an error even when the log is chosen.
    client = Prometheus(url, fetch) if url is not None else None
    window = window_for(run_dir, log)
    if source == "log":
        return _from_log(run_dir, window, "--source log")

    name = f"--prometheus {url}"
    if client is None:
        recorded = prometheus_url(run_dir)
        if recorded is None:
            why = "no --prometheus URL, and no Prometheus recorded for this runs root"
            if source == "prometheus":
                raise UsageError(f"--source prometheus: {why}; give --prometheus URL")
            return _from_log(run_dir, window, f"Prometheus not used: {why}")
        where = stack_file(monitoring_dir(run_dir))
        client = Prometheus(check_url(recorded, str(where)), fetch)
        name = f"Prometheus {recorded} (from {where})"

    # A long life at a short step would take thousands of queries; a
    # report needs no more than a few thousand points a series.
    widest = (window.end_epoch - window.start_epoch) / MAX_POINTS
    step = max(step, math.ceil(widest))
    why_not = client.not_ready()
    if why_not is None:
        try:
            data = prom.fetch(client, run_dir.name, window, step)
            if not data.empty:
                return _from_prometheus(run_dir, window, client, data, step)
            why_not = (
                f"it holds no series with testbed={run_dir.name!r} between "
                f"{_when(window.start_epoch)} and {_when(window.end_epoch)}"
            )
        except PrometheusError as exc:
            why_not = str(exc)
    if source == "prometheus":
        raise PrometheusError(f"{name}: {why_not}")
    return _from_log(run_dir, window, f"{name} not used: {why_not}")


PERIODS = ("cycle_period_s", "overlay_period_s")


def _node_periods(run_dir: RunDir) -> dict[str, float]:
    """The cycle lengths node 0 was started with (the same for all)."""
    try:
        config = json.loads((run_dir.node_dir(0) / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return {
        k: float(config[k]) for k in PERIODS if isinstance(config.get(k), int | float)
    }


def _from_log(run_dir: RunDir, window: Window, why: str) -> Loaded:
    where: Path | str = window.log or run_dir.path
    run = build(window.block, where)
    said = f"observations from the event log {window.log}"
    if not run.observations:
        exported = observations_file(run_dir)
        run = build(window.block, exported, read_observations(exported, window))
        said = f"observations from the exporter's records {exported}"
        if window.log is not None:
            run.notes.append(f"Observations from {exported}: the event log has none.")
    run.testbed, run.origin = run_dir.name, window.origin
    run.node_periods = _node_periods(run_dir)
    return Loaded(run, [f"source: {said}", f"  ({why})"])


def _from_prometheus(
    run_dir: RunDir,
    window: Window,
    client: Prometheus,
    data: prom.PromData,
    step: float,
) -> Loaded:
    said = [
        f"source: Prometheus at {client.url} (testbed={run_dir.name}, a point "
        f"every {step:g} s); faults from "
        + (str(window.log) if window.log else "nowhere: there is no event log")
    ]
    # A scenario run observes every observe_period_s, finer than the
    # exporter's polls and Prometheus's scrapes put together (5 s each):
    # recovery times from those would be seconds late. Its own observations
    # then make the series and the recovery figures; Prometheus gives what
    # only it has, the per-node series.
    logged = build(window.block, window.log) if window.log else None
    if logged is not None and _finer(logged.observations, data.observations):
        run = logged
        said.append(
            f"  observations and recovery from the event log (a point every "
            f"{_period(logged.observations):g} s); per-node series from Prometheus"
        )
    else:
        run = build(window.block, client.url, data.observations)
    run.per_node, run.testbed, run.origin = data.per_node, run_dir.name, window.origin
    run.node_periods = _node_periods(run_dir)
    if not data.testbed_series:
        note = (
            f"No heal_testbed_* series for testbed={run_dir.name} (its exporter "
            "was not scraped): observations are made from the nodes' series, "
            "counting the nodes Prometheus could scrape as alive."
        )
        run.notes.append(note)
        said.append("  " + note)
    return Loaded(run, said)


def _period(observations: list[Observation]) -> float:
    """The median gap between observations, in seconds (inf for fewer than
    two)."""
    gaps = sorted(b.t_s - a.t_s for a, b in itertools.pairwise(observations))
    return round(gaps[len(gaps) // 2], 2) if gaps else math.inf


def _finer(logged: list[Observation], scraped: list[Observation]) -> bool:
    return len(logged) >= 2 and _period(logged) < _period(scraped)


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
