"""Measure the docker backend: image build, time to N healthy, memory a node.

    .venv/bin/python scripts/bench_docker.py [--sizes 10,25,50] [--cold]

For each size: `up` on a fresh testbed (default node settings), then the
mean and total container memory after --settle seconds of training, then
`down`. --cold first rebuilds the node image without the engine's cache
(about 1-2 minutes). Other node programs running on the machine spoil the
figures: the script warns when it sees any.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from controller import testbed
from controller.backends.docker import DockerBackend
from controller.backends.docker_engine import connect
from controller.image import REPO_ROOT, ensure_image
from controller.plan import TestbedSettings
from controller.rundir import RunDir


def other_nodes() -> int:
    """Node processes outside containers (the process backend's)."""
    count = 0
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        count += any("node.launcher" in arg for arg in cmdline)
    return count


def bench_image(cold: bool) -> None:
    client = connect()
    if cold:
        info = ensure_image(client, repo_root=REPO_ROOT, force=True)
        print(f"image build, cold:   {info.seconds:6.1f} s  ({info.tag})")
    info = ensure_image(client, repo_root=REPO_ROOT)
    state = "cached" if info.cached else "built"
    print(f"image build, {state}: {info.seconds:6.2f} s  ({info.tag})")


def bench_size(nodes: int, root: Path, settle: float) -> None:
    run = RunDir(root / f"bench-{nodes}-{os.getpid()}")
    backend = DockerBackend()
    done: dict[str, float] = {}
    started = time.monotonic()

    def on_progress(what: str, count: int, total: int) -> None:
        if count == total and what not in done:
            done[what] = time.monotonic() - started

    try:
        testbed.up(
            TestbedSettings(nodes=nodes),
            backend,
            run,
            timeout=300,
            on_phase=lambda _: None,
            on_progress=on_progress,
        )
        healthy = time.monotonic() - started
        time.sleep(settle)
        live = backend.liveness(run, run.load())
        memory = [x.memory_mib for x in live.values() if x.memory_mib is not None]
    finally:
        down_started = time.monotonic()
        leftovers = testbed.down(run)
        down_s = time.monotonic() - down_started
    print(
        f"{nodes:3d} nodes: all started {done.get('started', float('nan')):5.1f} s, "
        f"all healthy {healthy:5.1f} s; memory after {settle:.0f} s: mean "
        f"{statistics.mean(memory):5.0f} MiB a node, total "
        f"{sum(memory) / 1024:5.2f} GiB ({len(memory)} read); down {down_s:4.1f} s"
        + (f"; LEFT OVER: {leftovers}" if leftovers else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,25,50", help="comma-separated N")
    parser.add_argument("--cold", action="store_true", help="rebuild the image")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]

    busy = other_nodes()
    if busy:
        print(f"warning: {busy} node.launcher processes run; figures will suffer")
    print(f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB")
    bench_image(args.cold)
    with tempfile.TemporaryDirectory(prefix="heal-bench-") as root:
        for nodes in sizes:
            bench_size(nodes, Path(root), args.settle)


if __name__ == "__main__":
    main()
