"""Bad input to the controller: a clear message, a non-zero exit, and
nothing left running or half-written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from controller import testbed
from controller.backends.process import ProcessBackend
from controller.errors import StartError
from controller.rundir import RunDir, TestbedState
from node.config import NodeConfig
from tests.integration.conftest import free_base_port, start_testbed

pytestmark = pytest.mark.integration


def controller(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEAL_RUNS": str(tmp / "runs"), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "controller", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def launchers(under: Path | None = None) -> list[psutil.Process]:
    """Node launchers, only those for run directories under `under` if given
    (other testbeds may start and stop on the machine meanwhile)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "node.launcher" in cmdline and (under is None or str(under) in cmdline):
            found.append(proc)
    return found


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["up", "--nodes", "3", "--bogus"], "--bogus"),
        (["up", "--nodes", "1", "--backend", "process"], "--nodes"),
        (
            ["up", "--nodes", "3", "--backend", "process", "--dataset", "cifar"],
            "mnist5k",
        ),
        (
            ["up", "--nodes", "3", "--backend", "process", "--partition", "skewed"],
            "dirichlet",
        ),
        (
            [
                "up",
                "--nodes",
                "3",
                "--backend",
                "process",
                "--model",
                "lenet5",
                "--dataset",
                "digits",
            ],
            "use --model mlp",
        ),
        (
            ["up", "--nodes", "3", "--backend", "process", "--set", "h=19"],
            "h + standby",
        ),
        (["up", "--nodes", "3", "--backend", "process", "--set", "lr"], "KEY=VALUE"),
        (["up", "--nodes", "3", "--backend", "teleport"], "--backend"),
        (["up", "--nodes", "3", "--monitoring", "grafana"], "--monitoring"),
        (
            ["up", "--nodes", "3", "--backend", "process", "--protocol", "fedsgd"],
            "--protocol 'fedsgd': not a protocol; valid: heal, fedavg, gossip, "
            "epidemic",
        ),
        (
            ["up", "--nodes", "3", "--protocol", "gossip", "--server-id", "1"],
            "--server-id applies to --protocol fedavg only",
        ),
        (
            ["up", "--nodes", "3", "--protocol", "fedavg", "--server-id", "3"],
            "--server-id 3: no such node; valid: 0-2",
        ),
        (
            ["up", "--nodes", "3", "--backend", "process", "--set", "protocol=x"],
            "'heal', 'fedavg', 'gossip' or 'epidemic'",
        ),
        (["up", "--nodes", "3", "--prometheus-port", "0"], "--prometheus-port"),
        *(
            (
                ["up", "--nodes", "2", "--backend", "process", "--timeout", t],
                f"--timeout {t}: give the seconds to wait for health, above 0",
            )
            for t in ("0", "-1", "nan", "inf")
        ),
        (
            ["fault", "apply", "crash", "--on", "0", "--peers", "1"],
            "--peers '1': applies to link faults only",
        ),
        (
            ["fault", "apply", "delay", "delay_ms=5", "--group", "0"],
            "--group: applies to partition only",
        ),
    ],
)
def test_bad_up_flags_exit_2_and_start_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    result = controller(tmp_path, *args)

    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert launchers(tmp_path) == []
    assert not (tmp_path / "runs" / "current").exists()


def test_runs_folder_that_is_a_file_exits_2_naming_heal_runs(tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("")
    result = controller(tmp_path, "up", "--nodes", "2", "--backend", "process")
    assert result.returncode == 2, result.stderr
    assert f"HEAL_RUNS={tmp_path / 'runs'}: " in result.stderr
    assert "is a file, not a directory" in result.stderr
    assert launchers(tmp_path) == []


def test_commands_without_a_testbed_exit_3(tmp_path: Path) -> None:
    for command in (["status"], ["down"], ["logs", "0"]):
        result = controller(tmp_path, *command)
        assert result.returncode == 3, (command, result.stderr)
        assert "controller up" in result.stderr


def test_ports_in_use_exit_4_and_name_the_flag(tmp_path: Path) -> None:
    base = free_base_port(3)
    with socket.socket() as holder:
        # As port_free binds: a port left in TIME_WAIT by an earlier test
        # counts as free, and only a listener makes it taken.
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", base + 2))
        holder.listen()
        result = controller(
            tmp_path,
            "up",
            "--nodes",
            "3",
            "--backend",
            "process",
            "--base-port",
            str(base),
        )
    assert result.returncode == 4, result.stderr
    assert str(base + 2) in result.stderr and "--base-port" in result.stderr
    assert not (tmp_path / "runs" / "current").exists()


class _LosesAShard(ProcessBackend):
    """Deletes one node's shard before starting: that node dies at start."""

    def start(
        self, run: RunDir, state: TestbedState, configs: list[NodeConfig], progress
    ) -> None:  # type: ignore[no-untyped-def]
        (run.data_dir / "shard-002.npz").unlink()
        super().start(run, state, configs, progress)


def test_a_node_dying_at_start_stops_everything_and_says_why(tmp_path: Path) -> None:
    with pytest.raises(StartError) as caught:
        start_testbed(tmp_path, 4, backend=_LosesAShard())

    message = str(caught.value)
    assert "node 2" in message or "(2" in message, message
    assert "shard-002.npz" in message, message
    run = RunDir((tmp_path / "tb").resolve())
    state = run.load()
    assert state.phase == "failed"
    for record in state.nodes:
        assert (
            record.pid is None
            or not psutil.pid_exists(record.pid)
            or (psutil.Process(record.pid).status() == psutil.STATUS_ZOMBIE)
        )
    assert not [p for p in launchers() if str(run.path) in " ".join(p.cmdline())]


def test_status_down_and_logs_from_another_process(tmp_path: Path) -> None:
    run, _ = start_testbed(tmp_path, 3)
    try:
        status = controller(tmp_path, "status", "--json", "--run-dir", str(run.path))
        assert status.returncode == 0, status.stderr
        import json

        nodes = json.loads(status.stdout)
        assert [n["id"] for n in nodes] == [0, 1, 2]
        for n in nodes:
            assert n["alive"] is True and n["role"] in ("hub", "client")
            assert isinstance(n["hubs"], list) and "cycle" in n and "accuracy" in n

        logs = controller(tmp_path, "logs", "1", "--run-dir", str(run.path))
        assert logs.returncode == 0 and "node 1 listening" in logs.stdout

        down = controller(tmp_path, "down", "--run-dir", str(run.path))
        assert down.returncode == 0, down.stderr
        assert all(not v.alive for v in testbed.collect(run))
        assert not [p for p in launchers() if str(run.path) in " ".join(p.cmdline())]
    finally:
        testbed.down(run)
