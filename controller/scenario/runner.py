"""Run a scenario's timeline against a running testbed.

Every observe_period_s the runner asks every node for its status and
records an observation; steps fire when their time (seconds from the start)
or their cycle (reached by the majority) comes. Everything applied, undone,
observed and recovered goes to the event log, one JSON object per line.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from controller import testbed
from controller.backends.base import Backend
from controller.errors import ControllerError
from controller.faults.api import Faults
from controller.faults.book import load_book
from controller.faults.churn import Churn
from controller.faults.events import EventLog
from controller.rundir import RunDir
from controller.scenario.load_steps import BackgroundLoads
from controller.scenario.recovery import Observation, Recovery
from controller.scenario.schema import Scenario
from controller.scenario.selectors import format_ids, resolve
from controller.scenario.steps import ClearStep, LoadStep, StepBase
from controller.scenario.traffic import Tally
from netem.specs import Churn as ChurnSpec

TICK_S = 0.1
PROGRESS_EVERY_S = 10.0  # a status line on the terminal


FAULT_RECORDS = ("fault_applied", "fault_cleared")  # what a step's change writes


@dataclass
class Outcome:
    recoveries: list[dict[str, Any]] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)


class ScenarioRunner:
    def __init__(
        self,
        scenario: Scenario,
        run: RunDir,
        backend: Backend,
        say: Callable[[str], None],
        keep_faults: bool = False,
    ) -> None:
        self.scenario = scenario
        self.run = run
        self.backend = backend
        self.say = say
        self.keep_faults = keep_faults
        self.events = EventLog(run.path / "events.jsonl")
        self.faults = Faults(run, backend, self.events)
        self.history: list[Observation] = []
        self.traffic = Tally()
        self.recoveries: list[Recovery] = []
        self.churns: list[tuple[Churn, str, float]] = []
        self.loads = BackgroundLoads(run, self.events, say)
        self.outcome = Outcome()
        self.periods = _periods(run)
        self._completed = False  # stays False when interrupted
        self._next_progress = 0.0

    def execute(self) -> Outcome:
        sc = self.scenario
        start = time.time()
        self.events.start = start
        self.events.write(
            "scenario_started",
            scenario=sc.name,
            nodes=len(self.run.load().nodes),
            backend=self.backend.name,
            seed=sc.seed,
            steps=len(sc.steps),
            end_s=sc.end_s,
            **self.periods,
        )
        timed = list(sc.timed_steps)
        cycled = list(sc.cycle_steps)
        next_observation = start
        try:
            while True:
                now = time.time()
                elapsed = now - start
                if now >= next_observation:
                    self._observe(elapsed)
                    next_observation += sc.observe_period_s
                cycle = self.history[-1].cycle if self.history else None
                while timed and timed[0].at is not None and timed[0].at <= elapsed:
                    self._step(timed.pop(0), elapsed)
                while (
                    cycled and cycle is not None and cycle >= (cycled[0].at_cycle or 0)
                ):
                    self._step(cycled.pop(0), elapsed)
                for fault in self.faults.expire():
                    self.say(
                        f"[{elapsed:7.1f} s] {fault.id}: undone ({fault.kind} ended)"
                    )
                self._churn(elapsed)
                self.loads.poll(elapsed)
                if elapsed >= sc.end_s:
                    self._completed = True
                    break
                time.sleep(TICK_S)
        finally:
            self._finish(time.time() - start)
        return self.outcome

    def _observe(self, elapsed: float) -> None:
        views = testbed.collect(self.run, self.backend, memory=False)
        self.traffic.read(views)
        healthy = [v for v in views if v.healthy]
        accs = [v.accuracy for v in healthy if v.accuracy is not None]
        cycles = [v.cycle for v in healthy if v.cycle is not None]
        obs = Observation(
            t_s=round(elapsed, 3),
            alive=sum(v.alive for v in views),
            mean_accuracy=statistics.fmean(accs) if accs else None,
            agreement=testbed.agreement(views),
            hubs=tuple(testbed.majority_hubs(views)),
            live_ids=frozenset(v.id for v in views if v.alive),
            cycle=int(statistics.median(cycles)) if cycles else None,
        )
        self.history.append(obs)
        if elapsed >= self._next_progress:
            self._next_progress += PROGRESS_EVERY_S
            acc = "-" if obs.mean_accuracy is None else f"{obs.mean_accuracy:.3f}"
            # The nodes may still name hubs (a FedAvg server) that are gone.
            gone = [h for h in obs.hubs if h not in obs.live_ids]
            self.say(
                f"[{elapsed:7.1f} s] {obs.alive} alive, cycle {obs.cycle}, mean "
                f"accuracy {acc}, hubs {format_ids(list(obs.hubs)) or '-'} "
                f"(agreement {obs.agreement:.0%}"
                + (f"; {format_ids(gone)} down" if gone else "")
                + ")"
            )
        self.events.write(
            "observe",
            alive=obs.alive,
            healthy=len(healthy),
            mean_accuracy=_r(obs.mean_accuracy),
            min_accuracy=_r(min(accs)) if accs else None,
            max_accuracy=_r(max(accs)) if accs else None,
            agreement=round(obs.agreement, 3),
            hubs=list(obs.hubs),
            cycle=obs.cycle,
            **self.traffic.snapshot(),
        )
        for rec in self.recoveries:
            was_done = rec.done
            rec.observe(obs)
            if rec.done and not was_done:
                self._report(rec)

    def _report(self, rec: Recovery) -> None:
        summary = rec.summary(self.periods.get("overlay_period_s"))
        self.events.write("recovery", **summary)
        self.outcome.recoveries.append(summary)
        agree = (
            "hubs never agreed again"
            if summary["hubs_agree_s"] is None
            else f"hubs agree after {_fmt(summary['hubs_agree_s'])} s "
            f"({_fmt(summary['hubs_agree_overlay_cycles'])} overlay cycles)"
        )
        back = (
            "not back by the end"
            if summary["back_within_s"] is None
            else f"back within {_fmt(summary['back_within_s'])} s"
        )
        self.say(
            f"          {rec.fault_id}: {agree}, accuracy dip "
            f"{_fmt(summary['dip'])}, {back}"
        )

    def _step(self, step: StepBase, elapsed: float) -> None:
        label = step.id or f"steps[{step.index}]"
        self.events.last.clear()  # so that it holds what this step writes
        try:
            what = self._carry_out(step, label)
        except ControllerError as exc:
            self.outcome.failed_steps.append(label)
            self.events.write("step_failed", step=label, do=step.do, error=str(exc))
            self.say(f"[{elapsed:7.1f} s] {label}: {step.do} FAILED: {exc}")
            return
        # Recovery is timed from when the fault is wholly in force: when its
        # record was written, the moment a report of the log takes too.
        written = [self.events.last[e] for e in FAULT_RECORDS if e in self.events.last]
        done = (
            max(r["epoch"] for r in written) if written else time.time()
        ) - self.events.start
        self.say(f"[{elapsed:7.1f} s] {label}: {what} (took {done - elapsed:.1f} s)")
        if isinstance(step, LoadStep):
            return  # load is no fault: nothing to recover from
        rec = Recovery.start(label, step.do, done, self.history)
        self.recoveries.append(rec)

    def _carry_out(self, step: StepBase, label: str) -> str:
        sc = self.scenario
        rng = random.Random(sc.seed * 1_000_003 + step.index)
        last = self.history[-1]
        live = sorted(last.live_ids)
        hubs = list(last.hubs)

        if isinstance(step, ClearStep):
            cleared = self.faults.clear(step.faults, None, step=label)
            return "clear " + (", ".join(f.id for f in cleared) or "(nothing in force)")
        if step.do == "heal":
            cleared = self.faults.clear(None, {"partition"}, step=label)
            return "heal " + (", ".join(f.id for f in cleared) or "(no partition)")
        if step.do == "unpause":
            cleared = self.faults.clear(None, {"pause"}, step=label)
            return "unpause " + (", ".join(f.id for f in cleared) or "(nothing paused)")
        if isinstance(step, LoadStep):
            return self.loads.start(step, label)

        spec = step.spec
        assert spec is not None
        params = spec.model_dump()
        if step.do == "churn":
            assert isinstance(spec, ChurnSpec)
            return self._start_churn(spec, step, label)
        groups = None
        targets: list[int] = []
        if step.do == "partition":
            groups, taken = [], set()
            for selector in step.groups or []:
                if selector.group == "rest":
                    continue
                picked = resolve(selector, live, hubs, rng)
                groups.append(picked)
                taken |= set(picked)
            for index, selector in enumerate(step.groups or []):
                if selector.group == "rest":
                    groups.insert(index, [n for n in live if n not in taken])
        else:
            pool = (
                sorted(set(live) | {r.id for r in self.run.load().nodes})
                if step.do == "restart"
                else live
            )
            targets = resolve(step.on, pool, hubs, rng) if step.on else live
        peers = resolve(step.peers, live, hubs, rng) if step.peers else None
        fault = self.faults.apply(
            step.do,
            params,
            targets,
            peers=peers,
            groups=groups,
            via=step.via,
            duration_s=step.for_s,
            fault_id=step.id or f"{step.do}-{step.index}",
            step=label,
        )
        if fault is None:
            return f"{step.do} on nodes {format_ids(targets)}"
        ways = "; ".join(f"{m} on {format_ids(n)}" for m, n in fault.mechanisms.items())
        shown = " ".join(f"{k}={v}" for k, v in params.items())
        until = f" for {step.for_s:g} s" if step.for_s else ""
        return (
            f"{step.do} {shown} on {format_ids(fault.targets)}{until} ({ways})".replace(
                "  ", " "
            )
        )

    def _start_churn(self, spec: ChurnSpec, step: StepBase, label: str) -> str:
        duration = step.for_s or max(0.0, self.scenario.end_s - (step.at or 0.0))
        churn = self.faults.start_churn(
            spec, duration, self.scenario.seed, step.id or label, step=label
        )
        self.churns.append((churn, label, time.time() + duration))
        leaves = churn.leaves_left()
        return (
            f"churn of {leaves} leaves and {len(churn.events) - leaves} joins "
            f"over {duration:g} s"
        )

    def _churn(self, elapsed: float) -> None:
        for churn, label, _end in self.churns:
            for record in self.faults.churn_step(churn, step=label):
                node, action = record["node"], record["action"]
                self.say(f"[{elapsed:7.1f} s] {label}: node {node} {action}s")
        for churn, label, _end in self.churns:
            if not churn.events:  # every drawn leave and join done
                self.faults.end_churn(churn, step=label)
        self.churns = [c for c in self.churns if c[0].events]

    def _finish(self, elapsed: float) -> None:
        for rec in self.recoveries:
            if not rec.done:
                self._report(rec)
        for churn, label, _end in self.churns:  # cut short by the end
            self.faults.end_churn(churn, step=label)
        self.loads.stop(elapsed)
        if not self.keep_faults:
            crashed = sorted(
                {n for f in load_book(self.run.path).faults if f.kind == "crash"
                 for n in f.targets}
            )  # fmt: skip
            if crashed:  # a restart waits for the nodes to answer: seconds each
                self.say(
                    f"[{elapsed:7.1f} s] end: restarting the crashed nodes "
                    f"{format_ids(crashed)} to clear their crash"
                )
            started = time.monotonic()
            cleared = self.faults.clear()
            if cleared:
                names = ", ".join(f.id for f in cleared)
                self.say(
                    f"[{elapsed:7.1f} s] end: cleared {names} "
                    f"(took {time.monotonic() - started:.1f} s)"
                )
        self.events.write(
            "scenario_finished",
            scenario=self.scenario.name,
            failed_steps=self.outcome.failed_steps,
            recoveries=len(self.outcome.recoveries),
            interrupted=not self._completed,
        )


def _periods(run: RunDir) -> dict[str, float]:
    """The cycle lengths the nodes actually run with (paced or given)."""
    try:
        config = json.loads((run.node_dir(0) / "config.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {
        k: float(config[k])
        for k in ("overlay_period_s", "cycle_period_s")
        if k in config
    }


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
