"""KernelExecutor with a fake Runner: order of calls, undo, dry run."""

import logging
import time

import pytest

from netem.errors import CommandFailed, CommandTimeout, Mismatch
from netem.executor import KernelExecutor
from netem.iptables import iptables_clear_commands, iptables_commands
from netem.plan import Drop, KernelPlan, Shape
from netem.readback import readback_commands
from netem.specs import Bandwidth
from netem.tc import tc_clear_commands, tc_commands
from tests.unit.test_netem_readback import EMPTY_OUTPUTS, TBF_OUTPUTS

PLAN = KernelPlan(shapes=(Shape((), rate=Bandwidth(rate_kbit=8000)),))
DROP_PLAN = KernelPlan(shapes=PLAN.shapes, drops=(Drop("out", ("10.0.0.7",)),))
TC_CLEAR = tc_clear_commands("eth0")
TC_APPLY = tc_commands(PLAN, "eth0")
IPT_CLEAR = iptables_clear_commands()
IPT_APPLY = iptables_commands(DROP_PLAN)
CLEAR = TC_CLEAR + IPT_CLEAR
READBACK = readback_commands("eth0")
RULES = READBACK[3]  # iptables -w -S, also read before applying


class FakeKernel:
    """Holds PLAN's tbf after `tc qdisc add`, nothing after `tc qdisc del`,
    and keeps our chain as iptables would. `answers` overrides the answer to
    chosen commands: a (code, output) pair, or an exception to raise."""

    def __init__(self, answers=None):
        self.calls = []
        self.answers = answers or {}
        self.holds_tbf = False
        self.chain = None  # our chain's rules as -S prints them; None: no chain
        self.jumps = []

    def __call__(self, argv):
        self.calls.append(argv)
        answer = self.answers.get(tuple(argv))
        if isinstance(answer, BaseException):
            raise answer
        if answer is not None:
            return answer
        if argv == RULES:
            return 0, self.rules()
        if argv in READBACK:
            outputs = TBF_OUTPUTS if self.holds_tbf else EMPTY_OUTPUTS
            return 0, outputs[READBACK.index(argv)]
        if argv[0] == "iptables":
            return self.iptables(*argv[2:])
        self.holds_tbf = argv[:3] == ["tc", "qdisc", "add"]
        return 0, ""

    def iptables(self, op, chain, *rest):
        jump = f"-A {chain} -j {rest[-1] if rest else ''}"
        if op == "-N":
            self.chain = []
        elif op == "-I":
            self.jumps.append(jump)
        elif op == "-D":
            if jump not in self.jumps:
                return 2, "iptables: Bad rule (does a matching rule exist?)"
            self.jumps.remove(jump)
        elif self.chain is None:
            return 1, "iptables: No chain/target/match by that name."
        elif op == "-A":
            flag, peer, *target = rest
            self.chain.append(" ".join(["-A", chain, flag, f"{peer}/32", *target]))
        elif op == "-F":
            self.chain = []
        elif op == "-X":
            self.chain = None
        return 0, ""

    def rules(self):
        lines = ["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"]
        if self.chain is not None:
            lines += ["-N HEAL-FAULTS", *self.jumps, *self.chain]
        return "\n".join(lines) + "\n"


def test_apply_clears_applies_and_reads_back_in_order():
    kernel = FakeKernel()

    done = KernelExecutor(kernel).apply(DROP_PLAN)

    assert kernel.calls == [
        *(RULES, *TC_CLEAR, *TC_APPLY, *IPT_CLEAR, *IPT_APPLY, *READBACK)
    ]
    assert done == TC_CLEAR + TC_APPLY + IPT_CLEAR + IPT_APPLY


def test_drops_the_kernel_holds_already_are_left_alone():
    kernel = FakeKernel()
    executor = KernelExecutor(kernel)
    executor.apply(DROP_PLAN)
    kernel.calls.clear()

    assert executor.apply(DROP_PLAN) == TC_CLEAR + TC_APPLY

    assert kernel.calls == [RULES, *TC_CLEAR, *TC_APPLY, *READBACK]


def test_drops_no_longer_planned_are_cleared():
    kernel = FakeKernel()
    executor = KernelExecutor(kernel)
    executor.apply(DROP_PLAN)

    assert executor.apply(PLAN) == TC_CLEAR + TC_APPLY + IPT_CLEAR
    assert kernel.chain is None and kernel.jumps == []


def test_apply_logs_at_debug_only_the_summary_and_each_command(caplog):
    # One node of many: the controller logs one INFO line per fault instead.
    caplog.set_level(logging.DEBUG, logger="netem")

    KernelExecutor(FakeKernel()).apply(PLAN)

    infos = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    debugs = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert infos == []
    assert "applied 1 shapes, 0 drops on eth0" in debugs
    assert (
        "run: tc qdisc add dev eth0 root handle 1: tbf rate 8000kbit burst 32kb "
        "latency 400ms"
    ) in debugs


def test_dry_run_runs_nothing():
    kernel = FakeKernel()
    executor = KernelExecutor(kernel, dev="eth0", dry_run=True)

    assert executor.apply(DROP_PLAN) == TC_CLEAR + TC_APPLY + IPT_CLEAR + IPT_APPLY
    assert executor.clear() == CLEAR
    assert kernel.calls == []


def test_a_failing_command_is_undone_before_it_propagates():
    unknown = (2, "Error: Specified qdisc kind is unknown.")
    kernel = FakeKernel({tuple(TC_APPLY[0]): unknown})

    with pytest.raises(CommandFailed) as caught:
        KernelExecutor(kernel).apply(DROP_PLAN)

    assert caught.value.argv == TC_APPLY[0]
    assert caught.value.code == 2
    assert "qdisc kind is unknown" in str(caught.value)
    assert kernel.calls == [RULES, *TC_CLEAR, TC_APPLY[0], *CLEAR, *READBACK]


def test_a_mismatch_after_applying_is_undone():
    kernel = FakeKernel({tuple(READBACK[0]): (0, EMPTY_OUTPUTS[0])})

    with pytest.raises(Mismatch, match=r"qdisc 1: tbf .*: missing"):
        KernelExecutor(kernel).apply(PLAN)

    assert kernel.calls == [RULES, *TC_CLEAR, *TC_APPLY, *READBACK, *CLEAR, *READBACK]
    assert not kernel.holds_tbf


def test_an_undo_that_fails_too_is_noted_on_the_first_error():
    kernel = FakeKernel(
        {
            tuple(TC_APPLY[0]): (2, "Error: no room"),
            tuple(READBACK[0]): (0, TBF_OUTPUTS[0]),  # the tbf stays
        }
    )

    with pytest.raises(CommandFailed) as caught:
        KernelExecutor(kernel).apply(PLAN)

    (note,) = caught.value.__notes__
    assert note.startswith("undo (clear) on eth0 failed too: kernel state on eth0")
    assert "qdisc 1: tbf (parent root): not in the plan" in note


def test_a_runner_that_raises_is_a_command_that_could_not_run():
    kernel = FakeKernel({tuple(TC_APPLY[0]): OSError("docker exec: no such container")})

    with pytest.raises(CommandFailed, match="could not run: OSError") as caught:
        KernelExecutor(kernel).apply(PLAN)

    assert caught.value.code is None
    assert isinstance(caught.value.__cause__, OSError)
    assert kernel.calls[-len(CLEAR + READBACK) :] == CLEAR + READBACK


def test_a_command_that_hangs_times_out_and_is_undone():
    kernel = FakeKernel()

    def slow(argv):
        if argv == TC_APPLY[0]:
            time.sleep(1)
        return kernel(argv)

    started = time.monotonic()
    with pytest.raises(CommandTimeout, match=r"no answer within 0\.1 s"):
        KernelExecutor(slow, timeout_s=0.1).apply(PLAN)

    assert time.monotonic() - started < 0.8
    assert kernel.calls[-len(CLEAR + READBACK) :] == CLEAR + READBACK


def test_clear_tolerates_nothing_to_remove(caplog):
    caplog.set_level(logging.DEBUG, logger="netem")
    kernel = FakeKernel()

    assert KernelExecutor(kernel).clear() == CLEAR

    assert kernel.calls == CLEAR + READBACK
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    assert "cleared eth0" in [r.getMessage() for r in caplog.records]


def test_clear_names_its_failures_when_something_is_left():
    left = "-P INPUT ACCEPT\n-N HEAL-FAULTS\n"
    busy = (4, "CHAIN_DEL failed (Device or resource busy): chain HEAL-FAULTS")
    kernel = FakeKernel(
        {
            ("iptables", "-w", "-X", "HEAL-FAULTS"): busy,
            tuple(READBACK[3]): (0, left),
        }
    )

    with pytest.raises(Mismatch) as caught:
        KernelExecutor(kernel).clear()

    assert caught.value.differences[0] == (
        "iptables chain HEAL-FAULTS: still there, the plan has no drops"
    )
    assert (
        "clear step failed: `iptables -w -X HEAL-FAULTS` exited with 4: "
        "CHAIN_DEL failed (Device or resource busy): chain HEAL-FAULTS"
    ) in caught.value.differences


def test_a_failing_first_readback_changes_nothing():
    kernel = FakeKernel({tuple(RULES): (4, "iptables: Permission denied")})

    with pytest.raises(CommandFailed, match="Permission denied"):
        KernelExecutor(kernel).apply(PLAN)

    assert kernel.calls == [RULES]


def test_a_failing_readback_is_a_command_failure():
    kernel = FakeKernel({tuple(READBACK[1]): (1, 'Cannot find device "eth0"')})

    with pytest.raises(CommandFailed, match="tc class show dev eth0"):
        KernelExecutor(kernel).clear()
