"""Measure how long applying and clearing faults takes on a testbed.

    .venv/bin/python scripts/bench_faults.py [--nodes 50] [--backend docker]
        [--repeat 3] [--run-dir DIR]

Starts a testbed (or uses the one in --run-dir), then, --repeat times:
applies a two-group partition (first half / second half) and clears it,
timing each including the kernel probe and the read-back of every node's
state, and likewise a delay on every node. Prints which mechanism each
fault used. Other node programs on the machine spoil the figures.
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
from controller.plan import TestbedSettings
from controller.rundir import RunDir


def timed(what: str, action) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    action()
    took = time.monotonic() - started
    print(f"  {what:<28} {took:6.2f} s")
    return took


def bench(run: RunDir, repeat: int, settle: float) -> None:
    print(f"settling for {settle:g} s (nodes train meanwhile)")
    time.sleep(settle)
    started = time.monotonic()
    faults = Faults(run)
    took = time.monotonic() - started
    print(f"kernel probe and setup: {took:.2f} s; caps {faults.caps}")
    ids = sorted(r.id for r in run.load().nodes)
    half = len(ids) // 2
    groups = [ids[:half], ids[half:]]
    figures: dict[str, list[float]] = {}
    for round_ in range(repeat):
        print(f"round {round_ + 1}:")
        for kind, kwargs in (
            ("partition", {"groups": groups}),
            ("delay", {"targets": ids}),
        ):
            params = {"delay_ms": 50} if kind == "delay" else {}
            box = {}

            def apply(kind=kind, kwargs=kwargs, params=params, box=box) -> None:  # type: ignore[no-untyped-def]
                box["fault"] = faults.apply(kind, params, **kwargs)

            figures.setdefault(f"{kind} apply", []).append(
                timed(f"{kind} apply", apply)
            )
            fault = box["fault"]
            if round_ == 0:
                print(f"    mechanisms: {fault.mechanisms}")
            figures.setdefault(f"{kind} clear", []).append(
                timed(f"{kind} clear", lambda fault=fault: faults.clear([fault.id]))
            )
    print(f"summary over {repeat} rounds, {len(ids)} nodes:")
    for what, values in figures.items():
        print(
            f"  {what:<18} median {statistics.median(values):5.2f} s, "
            f"max {max(values):5.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--backend", default="docker", choices=["docker", "process"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run-dir", type=Path, help="use this running testbed")
    parser.add_argument(
        "--settle",
        type=float,
        default=30.0,
        help="seconds between up and the first fault",
    )
    args = parser.parse_args()

    if args.run_dir:
        bench(RunDir(args.run_dir.resolve()), args.repeat, 0.0)
        return
    with tempfile.TemporaryDirectory(prefix="heal-bench-") as root:
        run = RunDir(Path(root) / f"faults-{args.nodes}-{os.getpid()}")
        backend = testbed.backend_named(args.backend)
        started = time.monotonic()
        try:
            testbed.up(
                TestbedSettings(nodes=args.nodes),
                backend,
                run,
                timeout=max(120.0, 4.0 * args.nodes),
                on_phase=lambda _: None,
                on_progress=lambda *_: None,
            )
            print(f"{args.nodes} nodes up in {time.monotonic() - started:.1f} s")
            bench(run, args.repeat, args.settle)
        finally:
            leftovers = testbed.down(run)
            if leftovers:
                print(f"LEFT OVER: {leftovers}")


if __name__ == "__main__":
    main()
