"""Measure serving under load: Locust on a testbed, without faults and then
with a partition.

    .venv/bin/python scripts/bench_load.py [--nodes 50] [--users 100]
        [--duration 60] [--cut 0.2] [--base-port 43000] [--run-dir DIR]

Starts a process-backend testbed (or uses the one in --run-dir) and runs
`controller load`'s Locust twice from this host: first with no fault, then
while a partition cuts the last --cut share of the nodes off from the rest.
The generator stands beside node 0 (its calls carry node 0's address), so
the in-node partition treats it as a member of the larger side: calls to
the cut-off side are lost and end at their deadline, as a client of the
larger side would see them. Without that the process backend's in-node
partition would not touch the generator's calls at all. Prints the failure
ratio and latency of each run, and of the two sides under the partition.
Latency per side is the median over its nodes of each node's percentile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from controller import testbed
from controller.faults.api import Faults
from controller.load.run import LoadParams, LoadRun
from controller.load.stats import LoadStats, Row
from controller.load.summary import summary_lines
from controller.plan import TestbedSettings
from controller.rundir import RunDir


def load(run: RunDir, args: argparse.Namespace, as_node: int | None) -> LoadStats:
    params = LoadParams(args.users, args.spawn_rate, args.duration, as_node)
    job = LoadRun(run, params)
    job.start()
    stats = job.finish()
    print(f"  statistics: {job.prefix}_stats.csv")
    for line in summary_lines(stats):
        print(f"  {line}")
    # Locust says when its own process ran out of CPU: then the latency
    # figures include the generator's queueing, not only the nodes'.
    log = Path(f"{job.prefix}.log").read_text(errors="replace")
    if "CPU usage" in log:
        print("  Locust warned that its process ran above 90 % CPU")
    return stats


def side(name: str, rows: list[Row]) -> None:
    calls = sum(r.requests for r in rows)
    failed = sum(r.failures for r in rows)
    ratio = failed / calls if calls else 0.0

    def median(values: list[float | None]) -> str:
        known = [v for v in values if v is not None]
        return f"{statistics.median(known):g} ms" if known else "-"

    print(
        f"  {name:<22} {calls:6d} calls, {failed:6d} failed ({ratio:6.2%}); "
        f"p50 {median([r.p50_ms for r in rows])}, "
        f"p95 {median([r.p95_ms for r in rows])}, "
        f"p99 {median([r.p99_ms for r in rows])}"
    )


def bench(run: RunDir, args: argparse.Namespace) -> None:
    print(f"settling for {args.settle:g} s (nodes train meanwhile)")
    time.sleep(args.settle)
    ids = sorted(r.id for r in run.load().nodes)
    print(f"no fault: {args.users} users for {args.duration:g} s on {len(ids)} nodes")
    load(run, args, None)

    cut = ids[len(ids) - max(1, round(args.cut * len(ids))) :]
    rest = [i for i in ids if i not in cut]
    faults = Faults(run)
    fault = faults.apply("partition", {}, groups=[rest, cut])
    assert fault is not None
    print(
        f"partition: nodes {cut[0]}-{cut[-1]} cut off from {rest[0]}-{rest[-1]} "
        f"({', '.join(fault.mechanisms)}); the generator stands beside node 0"
    )
    try:
        stats = load(run, args, 0)
    finally:
        faults.clear([fault.id])
    side(f"cut-off side ({len(cut)})", [r for r in stats.rows if r.node in cut])
    side(f"rest ({len(rest)})", [r for r in stats.rows if r.node in rest])
    predict = [r for r in stats.rows if r.rpc == "Predict"]
    side("cut-off side, Predict", [r for r in predict if r.node in cut])
    side("rest, Predict", [r for r in predict if r.node in rest])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--cut", type=float, default=0.2, help="share cut off")
    parser.add_argument("--base-port", type=int, default=43000)
    parser.add_argument("--settle", type=float, default=20.0)
    parser.add_argument("--run-dir", type=Path, help="use this running testbed")
    args = parser.parse_args()
    if not 0 < args.cut < 1:
        parser.error(f"--cut {args.cut}: give a share between 0 and 1")

    if args.run_dir:
        bench(RunDir(args.run_dir.resolve()), args)
        return
    with tempfile.TemporaryDirectory(prefix="heal-bench-") as root:
        run = RunDir(Path(root) / f"load-{args.nodes}-{os.getpid()}")
        started = time.monotonic()
        try:
            testbed.up(
                TestbedSettings(nodes=args.nodes, base_port=args.base_port),
                testbed.backend_named("process"),
                run,
                timeout=max(120.0, 4.0 * args.nodes),
                on_phase=lambda _: None,
                on_progress=lambda *_: None,
            )
            print(f"{args.nodes} nodes up in {time.monotonic() - started:.1f} s")
            bench(run, args)
        finally:
            leftovers = testbed.down(run)
            if leftovers:
                print(f"LEFT OVER: {leftovers}")


if __name__ == "__main__":
    main()
