"""A node that dies as soon as it is forked is reported with its log, not
waited for until the start deadline."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from controller.backends.process_procs import wait_for_pid
from controller.errors import StartError
from controller.rundir import RunDir


def test_a_node_gone_before_it_was_seen_is_reported_with_its_log(
    tmp_path: Path,
) -> None:
    node_dir = tmp_path / "nodes" / "002"
    node_dir.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (node_dir / "pid").write_text(f"{dead.pid}\n")
    (node_dir / "node.log").write_text("starting\nerror: shard-002.npz is missing\n")
    launcher = subprocess.Popen(["sleep", "30"])
    try:
        started = time.monotonic()
        with pytest.raises(StartError, match=r"shard-002\.npz") as caught:
            wait_for_pid(RunDir(tmp_path), launcher, node_dir, started + 20)
        assert "node 2 exited as it started" in str(caught.value)
        assert time.monotonic() - started < 5
    finally:
        launcher.kill()
        launcher.wait()
