"""Real node processes on loopback, started and stopped through the controller."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from controller import testbed
from controller.backends.process import ProcessBackend, port_free
from controller.plan import TestbedSettings
from controller.rundir import RunDir

# Short cycles so that a test sees dozens of them in seconds.
FAST = {
    "c": 8,
    "h": 2,
    "standby": 3,
    "overlay_period_s": 1.0,
    "cycle_period_s": 0.5,
    "delta_s": 0.3,
    "exchange_timeout_s": 0.3,
    "local_steps": 5,
    "rpc_timeout_s": 0.8,
}


def fast_testbed(nodes: int) -> dict[str, object]:
    """A scenario file's testbed header: process nodes on FAST settings."""
    node = {k: v for k, v in FAST.items() if not k.endswith("period_s")}
    return {
        "nodes": nodes,
        "backend": "process",
        "cycle_period_s": FAST["cycle_period_s"],
        "overlay_period_s": FAST["overlay_period_s"],
        "set": node,
    }


def free_base_port(nodes: int) -> int:
    """A port range no one listens on, different for parallel test runs."""
    start = 20000 + (os.getpid() % 200) * 100
    for base in range(start, 60000, 2 * nodes + 2):
        if all(port_free("127.0.0.1", p) for p in range(base, base + 2 * nodes)):
            return base
    raise RuntimeError("no free port range on 127.0.0.1")


def start_testbed(
    tmp: Path, nodes: int, backend: ProcessBackend | None = None, **node: object
) -> tuple[RunDir, TestbedSettings]:
    settings = TestbedSettings(
        nodes=nodes,
        dataset="mnist5k",
        seed=1,
        base_port=free_base_port(nodes),
        node={**FAST, **node},
    )
    run = RunDir((tmp / "tb").resolve())
    testbed.up(
        settings,
        backend or ProcessBackend(),
        run,
        timeout=90,
        on_phase=lambda _: None,
        on_progress=lambda *_: None,
    )
    return run, settings


def poll(
    run: RunDir,
    done: Callable[[list[testbed.NodeView]], bool],
    timeout: float,
    every: float = 0.25,
) -> list[testbed.NodeView]:
    """Views of every node, polled until done(views) or the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        views = testbed.collect(run)
        if done(views) or time.monotonic() > deadline:
            return views
        time.sleep(every)


def first_evaluations(run: RunDir) -> list[testbed.NodeView]:
    """Views as soon as every node has evaluated its model once."""
    return poll(run, lambda vs: all(v.accuracy is not None for v in vs), 10, every=0.05)


def mean_accuracy(views: list[testbed.NodeView]) -> float:
    accs = [v.accuracy for v in views if v.alive and v.accuracy is not None]
    return sum(accs) / len(accs) if accs else 0.0


@pytest.fixture(scope="module")
def small_testbed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunDir, list[testbed.NodeView]]]:
    """A 16-node testbed, and every node's view after its first evaluation."""
    run, _ = start_testbed(tmp_path_factory.mktemp("small"), 16)
    try:
        yield run, first_evaluations(run)
    finally:
        leftovers = testbed.down(run)
        assert not leftovers, leftovers
