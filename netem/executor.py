"""Make the kernel hold a plan: clear, apply, read back, verify.

apply() replaces whatever of ours the device holds; if any step fails, the
undo path (clear) runs before the error propagates, so that a node is left
with no link faults rather than with half of a plan.
"""

from __future__ import annotations

import logging

from netem.calls import call, must
from netem.errors import CommandFailed, Mismatch, NetemError
from netem.iptables import iptables_clear_commands, iptables_commands
from netem.plan import KernelPlan, Runner
from netem.readback import (
    IPTABLES_READBACK,
    iptables_differences,
    readback_commands,
    verify,
)
from netem.tc import tc_clear_commands, tc_commands

log = logging.getLogger("netem")


class KernelExecutor:
    """Runs a node's plans through `run`, each command bounded by timeout_s
    (the undo path gets the same bound again, per command)."""

    def __init__(
        self,
        run: Runner,
        dev: str = "eth0",
        dry_run: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self.run = run
        self.dev = dev
        self.dry_run = dry_run
        self.timeout_s = timeout_s

    def apply(self, plan: KernelPlan) -> list[list[str]]:
        """Clear what is there, apply the plan, read back and verify. Returns
        the commands that changed the kernel's state, in order (dry run: the
        commands it would run; readback commands are not listed).

        The iptables part is left alone when the kernel already holds it
        exactly, and otherwise redone after the tc part: a partition then
        stays closed while only shaping changes, and opens for as few
        commands as possible when drops change."""
        tc = tc_clear_commands(self.dev), tc_commands(plan, self.dev)
        iptables = iptables_clear_commands(), iptables_commands(plan)
        parts = [tc, iptables]
        if not self.dry_run:
            held = must(self.run, list(IPTABLES_READBACK), self.timeout_s)
            if not iptables_differences(plan, held):
                parts = [tc]
        commands = [
            argv for clearing, building in parts for argv in clearing + building
        ]
        if self.dry_run:
            log.info("dry run on %s: would apply %s", self.dev, plan.summary())
            return commands

        try:
            for clearing, building in parts:
                self._run_tolerant(clearing)
                for argv in building:
                    must(self.run, argv, self.timeout_s)
            self._verify(plan)
        except BaseException as exc:
            # Any abort, Ctrl-C included: no faults rather than half a plan.
            self._undo(exc)
            raise
        log.debug("applied %s on %s", plan.summary(), self.dev)
        return commands

    def clear(self) -> list[list[str]]:
        """Remove everything of ours, then verify that nothing is left."""
        commands = self._clear_commands()
        if self.dry_run:
            log.info("dry run on %s: would clear", self.dev)
            return commands

        failed = self._run_tolerant(commands)
        try:
            self._verify(KernelPlan())
        except Mismatch as exc:
            # The failures of the clear commands now explain what is left.
            notes = [f"clear step failed: {failure}" for failure in failed]
            raise Mismatch(self.dev, [*exc.differences, *notes]) from exc
        log.debug("cleared %s", self.dev)
        return commands

    def _clear_commands(self) -> list[list[str]]:
        return tc_clear_commands(self.dev) + iptables_clear_commands()

    def _run_tolerant(self, commands: list[list[str]]) -> list[CommandFailed]:
        """Run every clear command; those with nothing to remove fail, which
        only the readback afterwards can tell from a real failure."""
        failed = []
        for argv in commands:
            try:
                code, output = call(self.run, argv, self.timeout_s)
            except CommandFailed as exc:  # could not run, or timed out
                failed.append(exc)
                continue
            if code != 0:
                failed.append(CommandFailed(argv, code, output))
        return failed

    def _verify(self, plan: KernelPlan) -> None:
        outputs = [
            must(self.run, argv, self.timeout_s) for argv in readback_commands(self.dev)
        ]
        verify(plan, outputs, self.dev)

    def _undo(self, cause: BaseException) -> None:
        log.warning("applying on %s failed, clearing: %s", self.dev, cause)
        try:
            self.clear()
        except NetemError as exc:
            log.error("undo on %s failed too: %s", self.dev, exc)
            cause.add_note(f"undo (clear) on {self.dev} failed too: {exc}")
