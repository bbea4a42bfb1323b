"""The controller killed during `up`: `down` still removes every object."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from controller.backends.docker_engine import label_filter
from tests.docker.conftest import labelled, nothing_left, sweep, unique_name

pytestmark = pytest.mark.docker

REPO_ROOT = Path(__file__).resolve().parents[2]


def controller(*args: str, runs: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "controller", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "HEAL_RUNS": str(runs)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_down_after_controller_killed_mid_up(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    name = unique_name("crash")
    runs = tmp_path / "runs"
    up = controller(
        "up", "--nodes", "6", "--backend", "docker", "--name", name, runs=runs
    )
    try:
        # Kill it as soon as some containers exist, before all are healthy.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and up.poll() is None:
            found = engine.containers.list(all=True, filters=label_filter(name))
            if len(found) >= 2:
                break
            time.sleep(0.1)
        assert up.poll() is None, up.communicate()[0].decode()
        os.kill(up.pid, signal.SIGKILL)
        up.wait()
        assert labelled(engine, name)["containers"], "containers were started"

        down = controller("down", "--run-dir", str(runs / name), runs=runs)
        output = down.communicate(timeout=120)[0].decode()
        assert down.returncode == 0, output
        assert nothing_left(engine, name), labelled(engine, name)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        sweep(engine, runs / name, name)
