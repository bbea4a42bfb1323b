"""One load run: Locust as a child process against a live testbed, its
statistics and log under RUN_DIR/load/<stamp>*, its Prometheus target
taken away when it ends however it ends.

    runs/<name>/load/<stamp>_stats.csv          per node and RPC, and total
    runs/<name>/load/<stamp>_stats_history.csv  the total as it went
    runs/<name>/load/<stamp>_failures.csv       failures by kind
    runs/<name>/load/<stamp>.log                Locust's own log
    runs/<name>/load/<stamp>.json               what was asked, and the result

Prometheus finds it through runs/monitoring/targets/<name>.<pid>.load.json.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from controller.errors import ControllerError, NoTestbedError, UsageError
from controller.load import locustfile_path
from controller.load.metrics import withdraw
from controller.load.stats import LoadStats, progress, read_stats
from controller.load.summary import as_json
from controller.rundir import RunDir

STOP_TIMEOUT_S = 2  # for users to end the call they are in
GRACE_S = 30.0  # Locust's start and its writing of the files
INSTALL = "pip install -e '.[load]'"
# What one Locust process can drive (gevent users), and a start of at least
# one user every 100 s: slower would start nobody within a run.
MAX_USERS = 10_000
MIN_SPAWN_RATE = 0.01
MAX_SPAWN_RATE = 10_000
DEFAULT_SPAWN_RATE = 10.0  # the CLI's and the scenario step's


@dataclass(frozen=True)
class LoadParams:
    users: int
    spawn_rate: float
    duration_s: float
    as_node: int | None = None

    def check(self, names: dict[str, str] | None = None) -> None:
        """Raises UsageError naming the flag (or field, through names)."""
        name = {
            "users": "--users",
            "spawn_rate": "--spawn-rate",
            "duration_s": "--duration",
            "as_node": "--as-node",
            **(names or {}),
        }
        if not 1 <= self.users <= MAX_USERS:
            raise UsageError(
                f"{name['users']} {self.users}: give from 1 to {MAX_USERS} users"
            )
        # The chained comparison is False for NaN as well.
        if not MIN_SPAWN_RATE <= self.spawn_rate <= MAX_SPAWN_RATE:
            raise UsageError(
                f"{name['spawn_rate']} {self.spawn_rate:g}: give users started per "
                f"second, from {MIN_SPAWN_RATE:g} to {MAX_SPAWN_RATE}"
            )
        if not 1 <= self.duration_s <= 7 * 86400:
            raise UsageError(
                f"{name['duration_s']} {self.duration_s:g}: give seconds, from 1 "
                "to a week"
            )
        if self.as_node is not None and self.as_node < 0:
            raise UsageError(f"{name['as_node']} {self.as_node}: give a node id >= 0")


def locust_missing() -> str | None:
    """Why the load cannot run here, or None."""
    if importlib.util.find_spec("locust") is None:
        return f"Locust is not installed; install it with `{INSTALL}`"
    return None


def _stamp(folder: Path) -> str:
    base = time.strftime("%Y%m%d-%H%M%S")
    stamp, n = base, 1
    while (folder / f"{stamp}.json").exists():
        n += 1
        stamp = f"{base}-{n}"
    return stamp


class LoadRun:
    def __init__(self, run: RunDir, params: LoadParams) -> None:
        self.run = run
        self.params = params
        self.folder = run.path / "load"
        self.prefix: Path | None = None
        self.started = 0.0
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start Locust; raises before starting anything when it cannot run."""
        missing = locust_missing()
        if missing:
            raise ControllerError(missing)
        state = self.run.load()
        if state.phase != "up":
            raise NoTestbedError(
                f"testbed {state.name} is {state.phase}, not up; start it with "
                "`controller up`"
            )
        ids = {r.id for r in state.nodes}
        if self.params.as_node is not None and self.params.as_node not in ids:
            raise UsageError(
                f"--as-node {self.params.as_node}: no such node; the testbed has "
                f"nodes {min(ids)}-{max(ids)}"
            )
        self.run.token()  # Status calls need it; say so now if it is gone

        self.folder.mkdir(exist_ok=True)
        stamp = _stamp(self.folder)
        self.prefix = self.folder / stamp
        self.started = time.time()
        self._write_meta(None)
        p = self.params
        command = [
            sys.executable, "-m", "locust", "-f", str(locustfile_path()),
            "--headless", "--only-summary",
            "-u", str(p.users), "-r", f"{p.spawn_rate:g}", "-t", f"{p.duration_s:g}s",
            "--stop-timeout", str(STOP_TIMEOUT_S),
            "--csv", str(self.prefix), "--exit-code-on-error", "0",
            "--heal-run-dir", str(self.run.path),
            "--heal-as-node", str(-1 if p.as_node is None else p.as_node),
        ]  # fmt: skip
        log = (self.folder / f"{stamp}.log").open("wb")
        with log:
            self._proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    @property
    def launched(self) -> bool:
        return self._proc is not None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def progress(self) -> tuple[int, int, float] | None:
        if self.prefix is None:
            return None
        return progress(self.prefix.with_name(self.prefix.name + "_stats_history.csv"))

    def stop(self) -> None:
        """End early; Locust still writes its statistics on the way out."""
        if self.running:
            assert self._proc is not None
            self._proc.terminate()

    def finish(self) -> LoadStats:
        """Wait for Locust to end, then read what it wrote."""
        assert self._proc is not None and self.prefix is not None
        try:
            self._proc.wait(timeout=self.params.duration_s + GRACE_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        except KeyboardInterrupt:
            # Interrupted again while Locust writes: give up its figures
            # rather than leave it calling the testbed.
            self._proc.kill()
            self._proc.wait()
            raise
        finally:
            withdraw(self.run, self._proc.pid)
        stats_file = self.prefix.with_name(self.prefix.name + "_stats.csv")
        if not stats_file.exists():
            self._write_meta(None)
            raise ControllerError(
                f"Locust ended (exit {self._proc.returncode}) without statistics; "
                f"see {self.prefix}.log"
            )
        stats = read_stats(stats_file)
        self._write_meta(stats)
        return stats

    def _write_meta(self, stats: LoadStats | None) -> None:
        assert self.prefix is not None
        meta = {
            "params": asdict(self.params),
            "started": self.started,
            "ended": time.time() if stats is not None else None,
            "exit_code": self._proc.returncode if self._proc else None,
            "summary": as_json(stats) if stats is not None else None,
        }
        path = self.prefix.with_name(self.prefix.name + ".json")
        path.write_text(json.dumps(meta, indent=2) + "\n")
