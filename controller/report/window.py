"""The stretch of wall-clock time a report covers, whatever its source.

With a scenario run in the event log, the window is that run's, from its
start to its last record. Otherwise it is the testbed's life, from `up`
(state.json's created) to `down` (its stopped), or to now while it runs;
faults applied by hand then fall inside it. Every source puts t = 0 at the
window's start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from controller.errors import NoTestbedError
from controller.report.events import Block, last_run, read_log
from controller.rundir import RunDir


@dataclass(frozen=True)
class Window:
    start_epoch: float
    end_epoch: float
    block: Block  # the event log's records in the window; none without a log
    log: Path | None
    origin: str  # what t = 0 is, for plots

    @property
    def scenario(self) -> bool:
        return self.block.runs_in_log > 0


def window_for(run: RunDir, log: Path | None, now: float | None = None) -> Window:
    created, stopped = _life(run)
    now = time.time() if now is None else now
    now = now if stopped is None else stopped
    if log is not None:
        block = last_run(read_log(log))
        last = float(block.records[-1]["epoch"])
        if block.runs_in_log > 0:
            return Window(block.start_epoch, last, block, log, "scenario start")
        if created is not None and created < block.start_epoch:
            block = replace(block, start_epoch=created)
            return Window(created, max(now, last), block, log, "the testbed's start")
        return Window(
            block.start_epoch, max(now, last), block, log, "the first logged event"
        )

    if created is None:
        raise NoTestbedError(
            f"{run.path} has neither an event log nor a testbed state "
            "(state.json): nothing tells which time to report on; run a "
            "scenario (`controller scenario run FILE`) or start a testbed "
            "(`controller up`) first"
        )
    return Window(created, now, Block([], created, 0), None, "the testbed's start")


def _life(run: RunDir) -> tuple[float | None, float | None]:
    """When the testbed came up and when it went down; None where unknown
    (no readable state, or still running)."""
    try:
        state = run.load()
    except NoTestbedError:
        return None, None
    return state.created, state.stopped if state.phase == "down" else None
