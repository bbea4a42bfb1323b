"""Make the kernel hold a plan: clear, apply, read back, verify.

apply() replaces whatever of ours the device holds; if any step fails, the
undo path (clear) runs before the error propagates, so that a node is left
with no link faults rather than with half of a plan.
"""

from __future__ import annotations

import json
import logging

from netem.calls import call, must
from netem.errors import CommandFailed, Mismatch, NetemError
from netem.iptables import iptables_clear_commands, iptables_commands
from netem.plan import KernelPlan, Runner
from netem.readback import (
    iptables_differences,
    readback_commands,
    tc_differences,
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
        """Make the kernel hold the plan; read back and verify. Returns the
        commands that changed the kernel's state, in order (dry run: the
        commands it would run from a clean state).

        The state is read first, and each part (tc, iptables) is redone only
        when it differs from the plan, cleared first only when it holds
        anything: with tens of nodes every command counts. The iptables part
        comes after the tc part, so a partition stays closed while only
        shaping changes."""
        if self.dry_run:
            log.info("dry run on %s: would apply %s", self.dev, plan.summary())
            return tc_commands(plan, self.dev) + iptables_commands(plan)

        before = self._read()
        commands: list[list[str]] = []
        try:
            redo_tc = bool(tc_differences(plan, before[:3]))
            redo_iptables = bool(iptables_differences(plan, before[3]))
            if redo_tc:
                commands += self._replace(
                    bool(tc_differences(KernelPlan(), before[:3])),
                    tc_clear_commands(self.dev),
                    tc_commands(plan, self.dev),
                )
            if redo_iptables:
                commands += self._replace(
                    bool(iptables_differences(KernelPlan(), before[3])),
                    iptables_clear_commands(),
                    iptables_commands(plan),
                )
            after = self._read(tc=redo_tc, iptables=redo_iptables, known=before)
            verify(plan, after, self.dev)
        except BaseException as exc:
            # Any abort, Ctrl-C included: no faults rather than half a plan.
            self._undo(exc)
            raise
        log.debug("applied %s on %s", plan.summary(), self.dev)
        return commands

    def clear(self) -> list[list[str]]:
        """Remove everything of ours, then verify that nothing is left. Only
        the parts that hold anything are cleared; all are when the state
        cannot be read first."""
        if self.dry_run:
            log.info("dry run on %s: would clear", self.dev)
            return self._clear_commands()

        before: list[str] | None
        try:
            before = self._read()
        except CommandFailed as exc:
            # Unknown state: clear every part, so that an undo after a
            # failed read still leaves no faults.
            log.warning("cannot read %s, clearing all of it: %s", self.dev, exc)
            before = None
        tc = (
            tc_clear_commands(self.dev)
            if before is None or tc_differences(KernelPlan(), before[:3])
            else []
        )
        iptables = (
            iptables_clear_commands()
            if before is None or iptables_differences(KernelPlan(), before[3])
            else []
        )
        failed = self._run_tolerant(tc + iptables)
        try:
            after = self._read(tc=bool(tc), iptables=bool(iptables), known=before)
            verify(KernelPlan(), after, self.dev)
        except Mismatch as exc:
            # The failures of the clear commands now explain what is left.
            notes = [f"clear step failed: {failure}" for failure in failed]
            raise Mismatch(self.dev, [*exc.differences, *notes]) from exc
        log.debug("cleared %s", self.dev)
        return tc + iptables

    def _replace(
        self, held: bool, clearing: list[list[str]], building: list[list[str]]
    ) -> list[list[str]]:
        if held:
            self._run_tolerant(clearing)
        for argv in building:
            must(self.run, argv, self.timeout_s)
        return (clearing if held else []) + building

    def _read(
        self,
        tc: bool = True,
        iptables: bool = True,
        known: list[str] | None = None,
    ) -> list[str]:
        """The readback outputs; parts not asked for come from `known`. A
        device whose root qdisc cannot hold classes has no classes or
        filters to read."""
        commands = readback_commands(self.dev)
        outputs = list(known) if known else ["", "", "", ""]
        if tc:
            outputs[0] = must(self.run, commands[0], self.timeout_s)
            if _classful_root(outputs[0]):
                outputs[1] = must(self.run, commands[1], self.timeout_s)
                outputs[2] = must(self.run, commands[2], self.timeout_s)
            else:
                outputs[1], outputs[2] = "", "[]"
        if iptables:
            outputs[3] = must(self.run, commands[3], self.timeout_s)
        return outputs

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

    def _undo(self, cause: BaseException) -> None:
        log.warning("applying on %s failed, clearing: %s", self.dev, cause)
        try:
            self.clear()
        except NetemError as exc:
            log.error("undo on %s failed too: %s", self.dev, exc)
            cause.add_note(f"undo (clear) on {self.dev} failed too: {exc}")


# Root qdiscs that hold no classes, so no classes or filters of ours.
_CLASSLESS = {"noqueue", "pfifo_fast", "pfifo", "bfifo", "fq", "fq_codel", "tbf"}


def _classful_root(qdisc_json: str) -> bool:
    """Whether the device's root qdisc may hold classes (unreadable output
    counts as yes, so that the full readback reports it)."""
    try:
        entries = json.loads(qdisc_json)
        roots = [e for e in entries if e.get("root")]
    except (ValueError, AttributeError, TypeError):
        return True
    return any(e.get("kind") not in _CLASSLESS for e in roots)
