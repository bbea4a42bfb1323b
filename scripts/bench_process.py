"""Benchmark the process backend: time to healthy, time to a target mean
accuracy, hub agreement, memory and CPU per node, and a clean `down`.

    .venv/bin/python scripts/bench_process.py --nodes 10 25 50

Prints one row per testbed size. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

from controller import testbed
from controller.backends.process import ProcessBackend
from controller.plan import TestbedSettings
from controller.rundir import RunDir


def node_processes(run: RunDir) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if str(run.path) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def measure(
    nodes: int, target: float, limit: float, base_port: int
) -> dict[str, object]:
    run = RunDir(Path(tempfile.mkdtemp(prefix=f"bench-{nodes}-")).resolve() / "tb")
    settings = TestbedSettings(nodes=nodes, base_port=base_port)
    used_before = psutil.virtual_memory().used
    started = time.monotonic()
    testbed.up(
        settings,
        ProcessBackend(),
        run,
        timeout=300,
        on_phase=lambda _: None,
        on_progress=lambda *_: None,
    )
    healthy_s = time.monotonic() - started
    try:
        reached_s = None
        while time.monotonic() - started < limit:
            views = testbed.collect(run)
            accs = [v.accuracy for v in views if v.accuracy is not None]
            if accs and statistics.mean(accs) >= target:
                reached_s = time.monotonic() - started
                break
            time.sleep(2)

        # Steady state: CPU over 20 s, then memory and agreement.
        procs = node_processes(run)
        cpu0, wall0 = cpu_seconds(procs), time.monotonic()
        time.sleep(20)
        cores = (cpu_seconds(procs) - cpu0) / (time.monotonic() - wall0)
        views = testbed.collect(run)
        pss = [v.memory_mib for v in views if v.memory_mib is not None]
        used_mib = (psutil.virtual_memory().used - used_before) / 2**20
        accs = [v.accuracy for v in views if v.accuracy is not None]
        return {
            "nodes": nodes,
            "healthy_s": round(healthy_s, 1),
            f"to_{target}_s": None if reached_s is None else round(reached_s, 1),
            "mean_acc": round(statistics.mean(accs), 3) if accs else None,
            "agreement": round(testbed.agreement(views), 2),
            "pss_mib_mean": round(statistics.mean(pss), 1) if pss else None,
            "rss_mib_max": round(max(p.memory_info().rss for p in procs) / 2**20),
            "ram_used_mib_per_node": round(used_mib / nodes, 1),
            "cores_used": round(cores, 2),
        }
    finally:
        leftovers = testbed.down(run)
        if leftovers or node_processes(run):
            print(f"down left processes behind: {leftovers}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--target", type=float, default=0.85)
    parser.add_argument("--limit", type=float, default=600, help="seconds per size")
    parser.add_argument("--base-port", type=int, default=47000)
    args = parser.parse_args()
    for n in args.nodes:
        print(measure(n, args.target, args.limit, args.base_port), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
