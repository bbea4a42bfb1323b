"""The seam between the controller and whatever runs the nodes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from controller.plan import TestbedSettings
from controller.rundir import RunDir, TestbedState
from node.config import NodeConfig


@dataclass(frozen=True)
class Liveness:
    alive: bool
    exit_code: int | None = None  # set once the node has exited
    memory_mib: float | None = None  # proportional share (PSS) where known


@dataclass(frozen=True)
class Placement:
    """Where a node listens (inside its host or container) and where the
    controller reaches it."""

    bind_host: str
    port: int
    metrics_port: int
    address: str  # gRPC, as peers and the controller reach it
    metrics: str  # metrics endpoint, as the host reaches it


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
    def liveness(self, run: RunDir, state: TestbedState) -> dict[int, Liveness]: ...

    @abstractmethod
    def stop(self, run: RunDir, state: TestbedState, timeout: float) -> list[str]:
        """Stop everything of this testbed; return what could not be removed."""

    @abstractmethod
    def kill(self, run: RunDir, state: TestbedState, node_id: int) -> None:
        """Crash one node at once (SIGKILL or its equivalent)."""

    @abstractmethod
    def log_lines(self, run: RunDir, state: TestbedState, node_id: int) -> list[str]:
        """The node's whole log so far, as lines."""
