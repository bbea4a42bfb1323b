"""Run a comparison's variants one after another, each on a fresh testbed
that goes down when its scenario ends, and rewrite the comparison's files
after every run, so that an interrupted comparison keeps what it measured.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller import testbed
from controller.backends.process_place import place_all
from controller.cliutil import err
from controller.compare import expected, write
from controller.compare.measure import RunFigures, measure
from controller.compare.plan import Variant
from controller.compare.plot import accuracy_plot
from controller.compare.summary import ProtocolSummary, summarise
from controller.errors import ConflictError, ControllerError
from controller.monitoring.cli import start_monitoring, stop_monitoring
from controller.rundir import CURRENT, RunDir, runs_root
from controller.scenario.run_cli import settings_for, testbed_for
from controller.scenario.runner import ScenarioRunner


@dataclass(frozen=True)
class Options:
    backend: str | None
    base_port: int
    timeout: float | None
    monitoring: str
    prometheus_port: int


@dataclass
class Comparison:
    scenario: str
    folder: Path
    about: dict[str, Any]
    runs: list[tuple[str, RunFigures]] = field(default_factory=list)
    shapes: dict[str, expected.Shape] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # runs that did not finish

    def summaries(self) -> list[ProtocolSummary]:
        protocols = list(dict.fromkeys(r.protocol for _, r in self.runs))
        found = []
        for protocol in protocols:
            shape = self.shapes.get(protocol)
            found.append(
                summarise(
                    protocol,
                    [r for _, r in self.runs if r.protocol == protocol],
                    None if shape is None else expected.per_cycle(shape),
                )
            )
        return found

    def write(self) -> None:
        f = {k: self.folder / v for k, v in write.FILES.items()}
        summaries = self.summaries()
        about = self.about | {"failed_runs": self.failed}
        write.write_runs(f["runs"], self.runs)
        write.write_table(f["table"], summaries)
        write.write_json(f["json"], about, self.runs, summaries)
        write.write_markdown(f["markdown"], about, summaries)
        accuracy_plot(self.scenario, [r for _, r in self.runs], f["plot"])


def resolve_backend(name: str) -> str:
    """One backend for every run of a comparison: auto is decided once."""
    if name != "auto":
        return name
    chosen, why = testbed.default_backend()
    err.print(f"backend: {chosen} ({why})", highlight=False)
    return chosen


def check_ready(variants: list[Variant], backend: str, base_port: int) -> None:
    """What would stop a run, checked before the first starts: a testbed of
    a variant's name up already, a bad --base-port, ports in use."""
    for v in variants:
        settings = settings_for(v.scenario, base_port)
        if backend == "process":
            place_all(settings)  # ConflictError naming the ports taken
    check_free(variants)


def check_free(variants: list[Variant]) -> None:
    """No variant's testbed may be up already: a comparison starts fresh."""
    for v in variants:
        run = RunDir((runs_root() / v.name).resolve())
        if run.state_file.exists() and run.load().phase in ("starting", "up"):
            raise ConflictError(
                f"testbed {v.name} is up; a comparison starts its own: stop it "
                f"(`controller down --run-dir {run.path}`) first"
            )


def run_all(
    comparison: Comparison,
    variants: list[Variant],
    options: Options,
    say: Callable[[str], None],
) -> None:
    with _current_kept():
        _run_all(comparison, variants, options, say)


@contextlib.contextmanager
def _current_kept() -> Iterator[None]:
    """Leave runs/current where it pointed: each variant's testbed takes it
    while it is up, and a plain `status` or `down` afterwards must reach the
    user's own testbed, not a comparison's that is gone."""
    link = runs_root() / CURRENT
    before = os.readlink(link) if link.is_symlink() else None
    try:
        yield
    finally:
        if link.is_symlink() or link.exists():
            link.unlink()
        if before is not None:
            link.symlink_to(before)


def _run_all(
    comparison: Comparison,
    variants: list[Variant],
    options: Options,
    say: Callable[[str], None],
) -> None:
    for number, v in enumerate(variants, start=1):
        say(
            f"[bold][{number}/{len(variants)}][/] {v.protocol}, seed {v.seed}: "
            f"testbed {v.name}"
        )
        try:
            run = _run_one(v, options, say)
        except ControllerError as exc:
            comparison.failed.append(f"{v.name}: {exc}")
            say(f"[red]{v.name} failed:[/] {exc}")
            continue
        comparison.runs.append((v.name, measure(run.path / "events.jsonl", v.protocol)))
        shape = expected.shape(run)
        if shape is not None:
            comparison.shapes.setdefault(v.protocol, shape)
        comparison.write()


def _run_one(v: Variant, options: Options, say: Callable[[str], None]) -> RunDir:
    run = testbed_for(
        v.scenario, v.name, options.backend, options.base_port, options.timeout
    )
    try:
        start_monitoring(run, options.monitoring, options.prometheus_port)
        backend = testbed.backend_named(run.load().backend)
        ScenarioRunner(
            v.scenario, run, backend, lambda line: say("  " + line), keep_faults=True
        ).execute()
    finally:
        left = testbed.down(run)
        stop_monitoring(run)
        if left:
            say(f"[yellow]left behind by {v.name}:[/] {left}")
    return run
