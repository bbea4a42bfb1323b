"""The run directory: everything `status`, `logs` and `down` need, written by
`up`, so that they work from another shell and after the controller died.

    runs/<name>/state.json      TestbedState
    runs/<name>/token           control token (mode 0600)
    runs/<name>/data/           shards, test split, meta.json
    runs/<name>/nodes/<id>/     config.json, node.log, pid, exit
    runs/current                symlink to the newest run
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from controller.errors import NoTestbedError, UsageError

RUNS_ROOT_ENV = "HEAL_RUNS"
CURRENT = "current"


class NodeRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    address: str  # host:port of its gRPC server, as the controller reaches it
    metrics: str  # host:port of its Prometheus endpoint
    pid: int | None = None
    pid_started: float | None = None  # process create time, guards pid reuse
    container: str | None = None


class TestbedState(BaseModel):
    __test__ = False  # a name pytest would otherwise try to collect

    model_config = ConfigDict(extra="forbid")

    name: str
    backend: Literal["process", "docker"]
    created: float
    settings: dict[str, object]  # what `up` was asked for
    nodes: list[NodeRecord]
    launcher_pid: int | None = None
    launcher_started: float | None = None
    # (pid, create time) of each launcher that `restart` or `add_node`
    # started on the process backend, one node each.
    extra_launchers: list[tuple[int, float]] = Field(default_factory=list)
    phase: Literal["starting", "up", "failed", "down"] = "starting"
    stopped: float | None = None  # when `down` stopped every node


_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}")


def check_name(name: str) -> None:
    """Testbed names become directory, network and container names."""
    if not _NAME.fullmatch(name) or name == CURRENT:
        raise UsageError(
            f"--name {name!r}: use 1-63 letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit, and not {CURRENT!r}"
        )


def runs_root() -> Path:
    """The folder of run directories; it is made when missing, so the
    nearest part of it that exists must be a directory."""
    root = Path(os.environ.get(RUNS_ROOT_ENV, "runs"))
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        given = (
            f"{RUNS_ROOT_ENV}={root}"
            if RUNS_ROOT_ENV in os.environ
            else f"{root} (the default; set {RUNS_ROOT_ENV} for another)"
        )
        raise UsageError(
            f"{given}: {existing} is a file, not a directory; point "
            f"{RUNS_ROOT_ENV} at a directory, or at a path to make one"
        )
    return root


class RunDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def name(self) -> str:
        return self.path.name

    state_file = property(lambda self: self.path / "state.json")
    token_file = property(lambda self: self.path / "token")
    data_dir = property(lambda self: self.path / "data")

    def node_dir(self, node_id: int) -> Path:
        return self.path / "nodes" / f"{node_id:03d}"

    def node_log(self, node_id: int) -> Path:
        return self.node_dir(node_id) / "node.log"

    def exit_file(self, node_id: int) -> Path:
        return self.node_dir(node_id) / "exit"

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "nodes").mkdir(exist_ok=True)

    def mark_current(self) -> None:
        """Point runs/current here; done once there is state to act on."""
        current = self.path.parent / CURRENT
        if current.is_symlink() or current.exists():
            current.unlink()
        current.symlink_to(self.path.name)

    def new_token(self) -> str:
        token = secrets.token_urlsafe(32)
        fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token + "\n")
        return token

    def token(self) -> str:
        try:
            return self.token_file.read_text().strip()
        except FileNotFoundError as exc:
            raise NoTestbedError(
                f"{self.token_file} is missing: the nodes of this testbed cannot "
                "be asked; `controller down` still stops them"
            ) from exc

    def save(self, state: TestbedState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(state.model_dump_json(indent=2) + "\n")
        tmp.replace(self.state_file)

    def load(self) -> TestbedState:
        try:
            return TestbedState.model_validate_json(self.state_file.read_text())
        except FileNotFoundError as exc:
            raise NoTestbedError(
                f"no testbed state in {self.path} (state.json missing); "
                "start one with `controller up`"
            ) from exc
        except (ValidationError, OSError) as exc:
            raise NoTestbedError(
                f"{self.state_file} is unreadable ({type(exc).__name__}); its "
                f"node processes are recorded in {self.path / 'nodes'}/*/pid"
            ) from exc

    def exit_status(self, node_id: int) -> dict[str, object] | None:
        try:
            return dict(json.loads(self.exit_file(node_id).read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return None


def named(run_dir: Path) -> Path | None:
    """The folder a --run-dir value stands for: the path itself when it is a
    folder, else the testbed of that name under the runs root."""
    if run_dir.is_dir():
        return run_dir
    if len(run_dir.parts) == 1 and (runs_root() / run_dir).is_dir():
        return runs_root() / run_dir
    return None


def resolve(run_dir: Path | None) -> RunDir:
    """The run directory a command acts on: the given one (a folder or a
    testbed's name), else runs/current."""
    if run_dir is not None:
        found = named(run_dir)
        if found is None:
            raise NoTestbedError(
                f"{run_dir}: no such run directory, and no testbed of that "
                f"name under {runs_root()}"
            )
        return RunDir(found)
    current = runs_root() / CURRENT
    if not current.exists():
        raise NoTestbedError(
            f"no current testbed ({current} does not exist); start one with "
            "`controller up`, or name one (by the name `up --name` gave it, or "
            "its run directory)"
        )
    return RunDir(current.resolve())
