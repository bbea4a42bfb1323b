"""KernelExecutor with a fake Runner: reads first, redoes only the parts that
differ, clears only what is held, undoes failures, dry run."""

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
from tests.unit.test_netem_readback import (
    EMPTY_OUTPUTS,
    HTB_OUTPUTS,
    HTB_PLAN,
    TBF_OUTPUTS,
)

PLAN = KernelPlan(shapes=(Shape((), rate=Bandwidth(rate_kbit=8000)),))
DROP_PLAN = KernelPlan(shapes=PLAN.shapes, drops=(Drop("out", ("10.0.0.7",)),))
DROPS_ONLY = KernelPlan(drops=DROP_PLAN.drops)
TC_CLEAR = tc_clear_commands("eth0")
TC_APPLY = tc_commands(PLAN, "eth0")
HTB_APPLY = tc_commands(HTB_PLAN, "eth0")
IPT_CLEAR = iptables_clear_commands()
IPT_APPLY = iptables_commands(DROP_PLAN)
HTB_IPT_APPLY = iptables_commands(HTB_PLAN)
CLEAR = TC_CLEAR + IPT_CLEAR
READBACK = readback_commands("eth0")
QDISCS, CLASSES, FILTERS, RULES = READBACK

# What `tc qdisc replace ... root pfifo` leaves until the root is deleted.
PFIFO_QDISCS = (
    '[{"kind":"pfifo","handle":"8001:","root":true,"refcnt":2,'
    '"options":{"limit":1000}}]\n'
)
# The tc readback outputs by the kind of root qdisc held; None: the default.
TC_OUTPUTS = {
    None: EMPTY_OUTPUTS[:3],
    "pfifo": [PFIFO_QDISCS, "", "[]\n"],
    "tbf": TBF_OUTPUTS[:3],
    "htb": HTB_OUTPUTS[:3],
}
BUSY = (4, "CHAIN_DEL failed (Device or resource busy): chain HEAL-FAULTS")


class FakeKernel:
    """Holds a root qdisc as tc would (PLAN's tbf or HTB_PLAN's htb tree,
    after `tc qdisc add ... root`), and our chain as iptables would; refuses
    to add a root or a chain over one it holds. `answers` overrides the
    answer to chosen commands, which then change nothing: a (code, output)
    pair, or an exception to raise."""

    def __init__(self, answers=None):
        self.calls = []
        self.answers = answers or {}
        self.root = None  # the kind of root qdisc held; None: the default
        self.outputs = dict(TC_OUTPUTS)
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
            return 0, self.outputs[self.root][READBACK.index(argv)]
        if argv[0] == "iptables":
            return self.iptables(*argv[2:])
        return self.tc(argv)

    def tc(self, argv):
        if argv[1:3] == ["qdisc", "add"] and argv[5] == "root":
            if self.root is not None:
                return 2, "Error: Exclusivity flag on, cannot modify."
            self.root = argv[argv.index("handle") + 2]
        elif argv[1:3] == ["qdisc", "replace"]:
            self.root = "pfifo"
        elif argv[1:3] == ["qdisc", "del"]:
            if self.root is None:
                return 2, "Error: Cannot delete qdisc with handle of zero."
            self.root = None
        return 0, ""

    def iptables(self, op, chain, *rest):
        jump = f"-A {chain} -j {rest[-1] if rest else ''}"
        if op == "-N":
            if self.chain is not None:
                return 1, "iptables: Chain already exists."
            self.chain = []
        elif op == "-D":
            if jump not in self.jumps:
                return 1, "iptables: Bad rule (does a matching rule exist?)"
            self.jumps.remove(jump)
        elif self.chain is None:
            return 1, "iptables: No chain/target/match by that name."
        elif op == "-I":
            self.jumps.append(jump)
        elif op == "-A":
            flag, peers, *target = rest
            self.chain += [
                " ".join(["-A", chain, flag, f"{peer}/32", *target])
                for peer in peers.split(",")
            ]
        elif op == "-F":
            self.chain = []
        elif op == "-X":
            if self.jumps or self.chain:
                return BUSY
            self.chain = None
        return 0, ""

    def rules(self):
        lines = ["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"]
        if self.chain is not None:
            lines += ["-N HEAL-FAULTS", *self.jumps, *self.chain]
        return "\n".join(lines) + "\n"

    def holds_nothing(self):
        return self.root is None and self.chain is None and self.jumps == []


def holding(plan):
    """A FakeKernel that holds the plan, its calls forgotten."""
    kernel = FakeKernel()
    KernelExecutor(kernel).apply(plan)
    kernel.calls.clear()
    return kernel


def test_apply_on_a_clean_kernel_reads_builds_and_rereads_what_changed():
    kernel = FakeKernel()

    done = KernelExecutor(kernel).apply(DROP_PLAN)

    # The default and the tbf root hold no classes: none are read.
    assert kernel.calls == [
        *(QDISCS, RULES),
        *TC_APPLY,
        *IPT_APPLY,
        *(QDISCS, RULES),
    ]
    assert done == TC_APPLY + IPT_APPLY
    assert kernel.root == "tbf"
    assert kernel.jumps == ["-A INPUT -j HEAL-FAULTS", "-A OUTPUT -j HEAL-FAULTS"]
    assert kernel.chain == ["-A HEAL-FAULTS -d 10.0.0.7/32 -j DROP"]


def test_a_classful_root_has_its_classes_and_filters_read():
    kernel = FakeKernel()

    done = KernelExecutor(kernel).apply(HTB_PLAN)

    assert kernel.calls == [
        *(QDISCS, RULES),
        *HTB_APPLY,
        *HTB_IPT_APPLY,
        *(QDISCS, CLASSES, FILTERS, RULES),
    ]
    assert done == HTB_APPLY + HTB_IPT_APPLY


def test_a_plan_with_one_part_builds_and_rereads_only_that_part():
    kernel = FakeKernel()
    executor = KernelExecutor(kernel)

    assert executor.apply(PLAN) == TC_APPLY
    assert kernel.calls == [QDISCS, RULES, *TC_APPLY, QDISCS]

    kernel = FakeKernel()
    executor = KernelExecutor(kernel)

    assert executor.apply(DROPS_ONLY) == IPT_APPLY
    assert kernel.calls == [QDISCS, RULES, *IPT_APPLY, RULES]


@pytest.mark.parametrize(
    ("plan", "reads"),
    [
        (KernelPlan(), [QDISCS, RULES]),
        (PLAN, [QDISCS, RULES]),
        (DROP_PLAN, [QDISCS, RULES]),
        (HTB_PLAN, [QDISCS, CLASSES, FILTERS, RULES]),
    ],
)
def test_applying_what_the_kernel_holds_only_reads(plan, reads):
    kernel = holding(plan)

    assert KernelExecutor(kernel).apply(plan) == []

    assert kernel.calls == reads


def test_changing_only_drops_redoes_only_iptables():
    kernel = holding(DROP_PLAN)
    other = KernelPlan(shapes=PLAN.shapes, drops=(Drop("in", ("10.0.0.8",), 50),))

    done = KernelExecutor(kernel).apply(other)

    # The chain is there, so it is cleared first; tc is read, not touched.
    assert kernel.calls == [QDISCS, RULES, *IPT_CLEAR, *iptables_commands(other), RULES]
    assert done == IPT_CLEAR + iptables_commands(other)
    assert kernel.root == "tbf"
    assert kernel.chain == [
        "-A HEAL-FAULTS -s 10.0.0.8/32 -m statistic --mode random "
        "--probability 0.5 -j DROP"
    ]


def test_drops_no_longer_planned_are_cleared():
    kernel = holding(DROP_PLAN)

    assert KernelExecutor(kernel).apply(PLAN) == IPT_CLEAR

    assert kernel.calls == [QDISCS, RULES, *IPT_CLEAR, RULES]
    assert kernel.root == "tbf"
    assert kernel.chain is None and kernel.jumps == []


def test_changing_only_shapes_redoes_only_tc_and_the_partition_stays():
    kernel = holding(DROP_PLAN)
    other = KernelPlan(shapes=HTB_PLAN.shapes, drops=DROP_PLAN.drops)

    done = KernelExecutor(kernel).apply(other)

    assert kernel.calls == [
        *(QDISCS, RULES),
        *TC_CLEAR,
        *HTB_APPLY,
        *(QDISCS, CLASSES, FILTERS),
    ]
    assert done == TC_CLEAR + HTB_APPLY
    assert kernel.root == "htb"
    assert kernel.jumps == ["-A INPUT -j HEAL-FAULTS", "-A OUTPUT -j HEAL-FAULTS"]


def test_changing_both_parts_redoes_tc_first():
    kernel = holding(HTB_PLAN)

    done = KernelExecutor(kernel).apply(PLAN)

    assert kernel.calls == [
        *(QDISCS, CLASSES, FILTERS, RULES),
        *TC_CLEAR,
        *TC_APPLY,
        *IPT_CLEAR,
        *(QDISCS, RULES),
    ]
    assert done == TC_CLEAR + TC_APPLY + IPT_CLEAR
    assert kernel.root == "tbf" and kernel.chain is None


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
    kernel = holding(HTB_PLAN)
    executor = KernelExecutor(kernel, dev="eth0", dry_run=True)

    # Whatever the kernel holds: the commands from a clean state.
    assert executor.apply(DROP_PLAN) == TC_APPLY + IPT_APPLY
    assert executor.apply(KernelPlan()) == []
    assert executor.clear() == CLEAR
    assert kernel.calls == []


def test_a_failing_command_is_undone_before_it_propagates():
    refused = (2, "iptables v1.8.9 (nf_tables): host/network not found")
    kernel = FakeKernel({tuple(IPT_APPLY[1]): refused})

    with pytest.raises(CommandFailed) as caught:
        KernelExecutor(kernel).apply(DROP_PLAN)

    assert caught.value.argv == IPT_APPLY[1]
    assert caught.value.code == 2
    assert "host/network not found" in str(caught.value)
    assert not hasattr(caught.value, "__notes__")
    # The undo reads, then clears the tbf and the empty chain.
    assert kernel.calls == [
        *(QDISCS, RULES),
        *TC_APPLY,
        *IPT_APPLY[:2],
        *(QDISCS, RULES),
        *CLEAR,
        *(QDISCS, RULES),
    ]
    assert kernel.holds_nothing()


def test_a_failing_first_build_command_leaves_the_undo_nothing_to_clear():
    unknown = (2, "Error: Specified qdisc kind is unknown.")
    kernel = FakeKernel({tuple(TC_APPLY[0]): unknown})

    with pytest.raises(CommandFailed, match="qdisc kind is unknown"):
        KernelExecutor(kernel).apply(DROP_PLAN)

    assert kernel.calls == [QDISCS, RULES, TC_APPLY[0], QDISCS, RULES]
    assert kernel.holds_nothing()


def test_a_mismatch_after_applying_is_undone():
    kernel = FakeKernel()
    # A kernel that keeps another rate than the one asked for.
    kernel.outputs["tbf"] = [TBF_OUTPUTS[0].replace("1000000", "500000"), "", "[]"]

    with pytest.raises(Mismatch) as caught:
        KernelExecutor(kernel).apply(PLAN)

    assert caught.value.differences == (
        "qdisc 1: tbf (parent root): rate: asked 1000000 bytes/s, "
        "kernel holds 500000 bytes/s",
    )
    assert kernel.calls == [
        *(QDISCS, RULES),
        *TC_APPLY,
        QDISCS,
        *(QDISCS, RULES),
        *TC_CLEAR,
        QDISCS,
    ]
    assert kernel.holds_nothing()


def test_an_undo_that_fails_too_is_noted_on_the_first_error():
    kernel = FakeKernel(
        {
            tuple(IPT_APPLY[1]): (2, "Error: no room"),
            ("iptables", "-w", "-X", "HEAL-FAULTS"): BUSY,
        }
    )

    with pytest.raises(CommandFailed) as caught:
        KernelExecutor(kernel).apply(DROP_PLAN)

    assert caught.value.argv == IPT_APPLY[1]
    (note,) = caught.value.__notes__
    assert note.startswith("undo (clear) on eth0 failed too: kernel state on eth0")
    assert "iptables chain HEAL-FAULTS: still there, the plan has no drops" in note
    assert (
        "clear step failed: `iptables -w -X HEAL-FAULTS` exited with 4: "
        "CHAIN_DEL failed (Device or resource busy): chain HEAL-FAULTS"
    ) in note
    assert kernel.calls[-len(CLEAR) - 2 :] == [*CLEAR, QDISCS, RULES]
    assert kernel.root is None and kernel.chain == []


def test_a_runner_that_raises_is_a_command_that_could_not_run():
    gone = OSError("docker exec: no such container")
    kernel = FakeKernel({tuple(IPT_APPLY[0]): gone})

    with pytest.raises(CommandFailed, match="could not run: OSError") as caught:
        KernelExecutor(kernel).apply(DROP_PLAN)

    assert caught.value.code is None
    assert isinstance(caught.value.__cause__, OSError)
    assert kernel.calls == [
        *(QDISCS, RULES),
        *TC_APPLY,
        IPT_APPLY[0],
        *(QDISCS, RULES),
        *TC_CLEAR,
        QDISCS,
    ]
    assert kernel.holds_nothing()


def test_a_command_that_hangs_times_out_and_is_undone():
    kernel = FakeKernel()
    hanging = IPT_APPLY[-1]  # the last jump, with the chain and one jump held

    def slow(argv):
        if argv == hanging:
            kernel.calls.append(argv)
            time.sleep(1)
            return 0, ""
        return kernel(argv)

    started = time.monotonic()
    with pytest.raises(CommandTimeout, match=r"no answer within 0\.1 s"):
        KernelExecutor(slow, timeout_s=0.1).apply(DROP_PLAN)

    assert time.monotonic() - started < 0.8
    assert kernel.calls == [
        *(QDISCS, RULES),
        *TC_APPLY,
        *IPT_APPLY,
        *(QDISCS, RULES),
        *CLEAR,
        *(QDISCS, RULES),
    ]
    assert kernel.holds_nothing()


def test_a_read_failing_after_the_build_is_undone_by_clearing_everything():
    kernel = FakeKernel()

    def flaky(argv):
        # iptables -S answers once, then never again.
        if argv == RULES and RULES in kernel.calls:
            kernel.calls.append(argv)
            return 4, "Another app is currently holding the xtables lock."
        return kernel(argv)

    with pytest.raises(CommandFailed, match="iptables -w -S") as caught:
        KernelExecutor(flaky).apply(DROP_PLAN)

    (note,) = caught.value.__notes__
    assert note.startswith("undo (clear) on eth0 failed too: `iptables -w -S`")
    # The undo cannot read the state, so it clears every part.
    assert kernel.calls == [
        *(QDISCS, RULES),
        *TC_APPLY,
        *IPT_APPLY,
        *(QDISCS, RULES),
        *(QDISCS, RULES),
        *CLEAR,
        *(QDISCS, RULES),
    ]
    assert kernel.holds_nothing()


def test_clear_on_a_clean_kernel_only_reads(caplog):
    caplog.set_level(logging.DEBUG, logger="netem")
    kernel = FakeKernel()

    assert KernelExecutor(kernel).clear() == []

    assert kernel.calls == [QDISCS, RULES]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []
    assert "cleared eth0" in [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize(
    ("plan", "calls", "done"),
    [
        (PLAN, [QDISCS, RULES, *TC_CLEAR, QDISCS], TC_CLEAR),
        (DROPS_ONLY, [QDISCS, RULES, *IPT_CLEAR, RULES], IPT_CLEAR),
        (
            HTB_PLAN,
            [QDISCS, CLASSES, FILTERS, RULES, *CLEAR, QDISCS, RULES],
            CLEAR,
        ),
    ],
)
def test_clear_clears_only_the_parts_held(plan, calls, done):
    kernel = holding(plan)

    assert KernelExecutor(kernel).clear() == done

    assert kernel.calls == calls
    assert kernel.holds_nothing()


def test_clear_names_its_failures_when_something_is_left():
    kernel = holding(DROPS_ONLY)
    kernel.answers[("iptables", "-w", "-X", "HEAL-FAULTS")] = BUSY

    with pytest.raises(Mismatch) as caught:
        KernelExecutor(kernel).clear()

    assert caught.value.differences == (
        "iptables chain HEAL-FAULTS: still there, the plan has no drops",
        "clear step failed: `iptables -w -X HEAL-FAULTS` exited with 4: "
        "CHAIN_DEL failed (Device or resource busy): chain HEAL-FAULTS",
    )
    assert kernel.calls == [QDISCS, RULES, *IPT_CLEAR, RULES]


@pytest.mark.parametrize(
    ("failing", "calls"), [(QDISCS, [QDISCS]), (RULES, [QDISCS, RULES])]
)
def test_a_failing_first_readback_changes_nothing(failing, calls):
    kernel = FakeKernel({tuple(failing): (1, 'Cannot find device "eth0"')})

    with pytest.raises(CommandFailed, match="Cannot find device"):
        KernelExecutor(kernel).apply(DROP_PLAN)

    assert kernel.calls == calls


def test_clear_that_cannot_read_first_clears_everything(caplog):
    kernel = holding(HTB_PLAN)
    kernel.answers[tuple(CLASSES)] = (1, "Error: Cannot send dump request")

    assert KernelExecutor(kernel).clear() == CLEAR

    # Once cleared, the root holds no classes to read.
    assert kernel.calls == [QDISCS, CLASSES, *CLEAR, QDISCS, RULES]
    assert kernel.holds_nothing()
    assert any(
        r.levelno == logging.WARNING and "clearing all" in r.getMessage()
        for r in caplog.records
    )


def test_a_failing_readback_is_a_command_failure():
    kernel = FakeKernel({tuple(RULES): (4, "iptables: Permission denied")})

    with pytest.raises(CommandFailed, match="iptables -w -S"):
        KernelExecutor(kernel).clear()

    assert kernel.calls == [QDISCS, RULES, *CLEAR, QDISCS, RULES]


def test_an_unreadable_qdisc_list_is_read_in_full_and_reported():
    kernel = FakeKernel({tuple(QDISCS): (0, "Dump terminated\n")})

    with pytest.raises(Mismatch, match="cannot read the kernel's state"):
        KernelExecutor(kernel).clear()

    assert kernel.calls == [QDISCS, CLASSES, FILTERS, RULES, *TC_CLEAR, *READBACK[:3]]
