"""Errors of the kernel way of link faults; all derive from NetemError."""

from __future__ import annotations

import shlex
from collections.abc import Sequence


class NetemError(Exception):
    """Base of every error this package raises on purpose."""


class PlanError(NetemError, ValueError):
    """A plan or spec that the kernel way cannot express; nothing was run."""


class CommandFailed(NetemError):
    """A command exited non-zero, or could not be run at all (code None)."""

    def __init__(self, argv: Sequence[str], code: int | None, output: str) -> None:
        self.argv = list(argv)
        self.code = code
        self.output = output
        status = "could not run" if code is None else f"exited with {code}"
        detail = output.strip() or "no output"
        super().__init__(f"`{shlex.join(self.argv)}` {status}: {detail}")


class CommandTimeout(CommandFailed):
    """A command gave no answer within the executor's timeout."""

    def __init__(self, argv: Sequence[str], timeout_s: float) -> None:
        self.timeout_s = timeout_s
        super().__init__(argv, None, f"no answer within {timeout_s:g} s")


class Mismatch(NetemError):
    """What the kernel holds differs from what the plan asked for."""

    def __init__(self, dev: str, differences: Sequence[str]) -> None:
        self.dev = dev
        self.differences = tuple(differences)
        lines = "\n".join(f"  - {d}" for d in self.differences)
        super().__init__(f"kernel state on {dev} differs from the plan:\n{lines}")
