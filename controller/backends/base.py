"""The seam between the controller and whatever runs the nodes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from controller.errors import UsageError
from controller.plan import TestbedSettings
from controller.rundir import NodeRecord, RunDir, TestbedState
from node.config import NodeConfig

# Runs argv (no shell) in a node's network namespace; returns the exit code
# and stdout and stderr together. An engine that cannot run it at all (the
# container is gone or stopped) comes back as RUNNER_FAILED with its reason,
# so that callers handle one kind of failure.
Runner = Callable[[list[str]], tuple[int, str]]
RUNNER_FAILED = 125  # as `docker run` reports an engine error


@dataclass(frozen=True)
class Liveness:
    alive: bool  # the process or container exists; True also when paused
    exit_code: int | None = None  # set once the node has exited
    memory_mib: float | None = None  # proportional share (PSS) where known
    paused: bool = False  # frozen by `pause`: alive, but it answers nothing


@dataclass(frozen=True)
class Placement:
    """Where a node listens (inside its host or container) and where the
    controller reaches it."""

    bind_host: str
    port: int
    metrics_port: int
    address: str  # gRPC, as peers and the controller reach it
    metrics: str  # metrics endpoint, as the host reaches it
    node_id: int | None = None  # set by add_node, for config_for


class Backend(ABC):
    name: str
    # Default learning cycle, seconds per node per core (see plan.paced).
    pace_s: float = 0.08

    @abstractmethod
    def place(self, settings: TestbedSettings, run: RunDir) -> list[Placement]:
        """Decide every node's endpoints; raise ConflictError when taken."""

    @abstractmethod
    def start(
        self,
        run: RunDir,
        state: TestbedState,
        configs: list[NodeConfig],
        progress: Callable[[int], None],
    ) -> None:
        """Start every node (without waiting for health); record in state what
        `stop` will need, saving it before anything is started."""

    @abstractmethod
    def liveness(
        self, run: RunDir, state: TestbedState, memory: bool = True
    ) -> dict[int, Liveness]:
        """Every node: alive, paused, exit code; memory only when asked,
        since reading it is slow on some backends."""

    @abstractmethod
    def stop(self, run: RunDir, state: TestbedState, timeout: float) -> list[str]:
        """Stop everything of this testbed, paused nodes too; return what
        could not be removed."""

    @abstractmethod
    def kill(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        """Crash one node at once (SIGKILL or its equivalent)."""

    @abstractmethod
    def pause(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        """Freeze one node: it keeps its state and sockets but runs nothing."""

    @abstractmethod
    def unpause(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        """Let a paused node run on; a node that is not paused is left alone."""

    @abstractmethod
    def restart(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        """Start one node again with its config and data, at its id and
        address, whether it crashed, exited, is paused or still runs (then it
        is stopped first). Its in-memory state, cycle counter included, starts
        afresh. Returns once it runs, without waiting for health."""

    @abstractmethod
    def add_node(
        self,
        run: RunDir,
        state: TestbedState,
        settings: TestbedSettings,
        config_for: Callable[[Placement], NodeConfig],
    ) -> NodeRecord:
        """Start a node that joins the running testbed (churn) at the next id
        (the highest so far + 1) and a free address; config_for builds its
        config from the placement. A joiner without a shard of its own gets
        one drawn from the others' (see joining). The record is appended to
        state, and state saved, before the node starts. Returns without
        waiting for health."""

    @abstractmethod
    def log_lines(self, run: RunDir, state: TestbedState, node_id: int) -> list[str]:
        """The node's whole log so far, as lines."""

    @abstractmethod
    def runner(self, run: RunDir, state: TestbedState, node_id: int) -> Runner | None:
        """A runner in the node's network namespace; None when the node has
        none of its own (it shares the host's)."""

    def runners(
        self, run: RunDir, state: TestbedState, node_ids: Iterable[int]
    ) -> dict[int, Runner]:
        """Runners for many nodes, safe to call from many threads at once.
        Nodes without a namespace of their own are left out."""
        found = {i: self.runner(run, state, i) for i in node_ids}
        return {i: r for i, r in found.items() if r is not None}


def node_record(state: TestbedState, node_id: int) -> NodeRecord:
    """The node's record; UsageError naming the valid ids when there is none."""
    for record in state.nodes:
        if record.id == node_id:
            return record
    ids = [r.id for r in state.nodes]
    raise UsageError(
        f"node {node_id}: testbed {state.name} has no such node; valid: "
        f"{min(ids, default=0)} to {max(ids, default=0)}"
    )
