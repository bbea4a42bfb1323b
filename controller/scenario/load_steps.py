"""`do: load` steps: Locust runs in the background while the timeline goes
on; the event log records when each load started and what it measured."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from controller.errors import ControllerError
from controller.faults.events import EventLog
from controller.load.run import LoadParams, LoadRun
from controller.load.summary import total_line
from controller.rundir import RunDir
from controller.scenario.steps import LoadStep


@dataclass
class BackgroundLoads:
    run: RunDir
    events: EventLog
    say: Callable[[str], None]
    jobs: list[tuple[LoadRun, str]] = field(default_factory=list)

    def start(self, step: LoadStep, label: str) -> str:
        params = LoadParams(step.users, step.spawn_rate, step.duration_s, step.as_node)
        job = LoadRun(self.run, params)
        job.start()
        self.jobs.append((job, label))
        self.events.write(
            "load_started",
            step=label,
            users=step.users,
            spawn_rate=step.spawn_rate,
            duration_s=step.duration_s,
            as_node=step.as_node,
            stats=str(job.prefix),
        )
        beside = "" if step.as_node is None else f", beside node {step.as_node}"
        return (
            f"load of {step.users} users for {step.duration_s:g} s{beside} "
            "(in the background)"
        )

    def poll(self, elapsed: float) -> None:
        """Collect the loads that have ended."""
        for job, label in [j for j in self.jobs if not j[0].running]:
            self._collect(job, label, elapsed)

    def stop(self, elapsed: float) -> None:
        """The scenario ends: end every load still going, keep its figures."""
        for job, _label in self.jobs:
            job.stop()
        for job, label in list(self.jobs):
            self._collect(job, label, elapsed)

    def _collect(self, job: LoadRun, label: str, elapsed: float) -> None:
        self.jobs.remove((job, label))
        try:
            stats = job.finish()
        except ControllerError as exc:
            self.events.write("load_failed", step=label, error=str(exc))
            self.say(f"[{elapsed:7.1f} s] {label}: load FAILED: {exc}")
            return
        total = stats.total
        self.events.write(
            "load_finished",
            step=label,
            requests=total.requests,
            failures=total.failures,
            failure_ratio=round(total.failure_ratio, 4),
            rps=round(total.rps, 2),
            p50_ms=total.p50_ms,
            p95_ms=total.p95_ms,
            p99_ms=total.p99_ms,
        )
        self.say(f"[{elapsed:7.1f} s] {label}: load done: {total_line(total)}")
