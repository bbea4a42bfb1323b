"""The scenario model: order of steps, defaults, the testbed it asks for,
and the semantic checks that pass or fail by the timeline."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import pytest

from controller.load.cli import load as load_command
from controller.scenario.errors import ScenarioError
from controller.scenario.loader import load_scenario
from controller.scenario.schema import Scenario
from controller.scenario.steps import LoadStep
from netem.specs import Delay, Loss

HEADER = "name: t\ntestbed:\n  nodes: 20\n"


def load(tmp_path: Path, steps: str, header: str = HEADER) -> Scenario:
    path = tmp_path / "t.yaml"
    path.write_text(header + "steps:\n" + textwrap.indent(textwrap.dedent(steps), "  "))
    return load_scenario(path)


def error(tmp_path: Path, steps: str, header: str = HEADER) -> str:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, steps, header)
    return str(caught.value)


def test_steps_in_time_order_keep_their_place_in_the_file(tmp_path: Path) -> None:
    scenario = load(
        tmp_path,
        """
        - {at: 90, do: heal}
        - {at_cycle: 30, do: crash, on: "5"}
        - {at: 30, do: partition, groups: [hubs, rest]}
        - {at_cycle: 10, do: crash, on: "6"}
        - {at: 30, do: delay, delay_ms: 5}
        """,
        header=HEADER + "duration_s: 200\n",
    )
    # Lines: three of header, duration_s, steps, a blank line, then the steps.
    assert [(s.index, s.line) for s in scenario.steps] == [
        (2, 9),
        (4, 11),
        (0, 7),
        (1, 8),
        (3, 10),
    ]
    assert [s.index for s in scenario.timed_steps] == [2, 4, 0]
    assert [s.at_cycle for s in scenario.cycle_steps] == [30, 10]
    assert scenario.end_s == 200


def test_defaults_and_length(tmp_path: Path) -> None:
    scenario = load(
        tmp_path,
        """
        - {at: 60, do: delay, delay_ms: 5, for: 100}
        - {at: 120, do: crash, on: hubs}
        """,
    )
    assert scenario.seed == 0 and scenario.observe_period_s == 1.0
    assert scenario.duration_s is None
    assert scenario.end_s == 60 + 100 + 60  # the last end, then a minute
    assert load(tmp_path, "[]").end_s == 60


def test_a_load_step_starts_users_as_fast_as_the_command_by_default(
    tmp_path: Path,
) -> None:
    (step,) = load(tmp_path, "- {at: 0, do: load, users: 2, duration_s: 5}\n").steps
    assert isinstance(step, LoadStep)
    assert (
        step.spawn_rate
        == inspect.signature(load_command).parameters["spawn_rate"].default
        == 10
    )


def test_fault_parameters_become_the_kinds_spec(tmp_path: Path) -> None:
    delay, loss, heal = load(
        tmp_path,
        """
        - {at: 1, do: delay, delay_ms: 80, jitter_ms: 20, for: 5}
        - {at: 2, do: loss, loss_pct: 2.5, on: "0-4", peers: [5, 6], via: kernel}
        - {at: 3, do: clear}
        """,
    ).steps
    assert delay.spec == Delay(delay_ms=80, jitter_ms=20)
    assert loss.spec == Loss(loss_pct=2.5)
    assert (loss.via, loss.on and loss.on.ids, loss.peers and loss.peers.ids) == (
        "kernel",
        (0, 1, 2, 3, 4),
        (5, 6),
    )
    assert heal.spec is None


def test_header_becomes_the_settings_up_takes(tmp_path: Path) -> None:
    header = textwrap.dedent(
        """\
        name: t
        seed: 7
        testbed:
          nodes: 12
          backend: process
          dataset: digits
          partition: dirichlet
          alpha: 0.3
          cycle_period_s: 1.5
          set: {h: 3, optimizer: adam, delta_s: 0.5}
        """
    )
    scenario = load(tmp_path, "[]", header)
    settings = scenario.settings(base_port=48000)
    assert (settings.nodes, settings.seed, settings.base_port) == (12, 7, 48000)
    assert (settings.dataset, settings.partition, settings.alpha) == (
        "digits",
        "dirichlet",
        0.3,
    )
    assert settings.node == {
        "model": "mlp",
        "protocol": "heal",
        "cycle_period_s": 1.5,
        "h": 3,
        "optimizer": "adam",
        "delta_s": 0.5,
    }
    assert scenario.testbed.backend == "process"


@pytest.mark.parametrize(
    ("testbed", "message"),
    [
        ("  set: {model: lenet5}", "testbed.set: model has a testbed key of its own"),
        ("  set: {node_id: 3}", "unknown key 'node_id'"),
        ("  set: {c: 6}", "testbed: h + standby (5 + 5) must be smaller than c (6)"),
        ("  set: {h: '4'}", "testbed.set.h: Input should be a valid integer (got '4')"),
        ("  alpha: 0.3", "alpha applies to partition: dirichlet only"),
        (
            "  protocol: pigeon",
            "testbed.protocol: Input should be 'heal', 'fedavg', 'gossip' or "
            "'epidemic' (got 'pigeon')",
        ),
        (
            "  protocol: fedavg\n  set: {server_id: 20}",
            "server_id 20: no such node; the fedavg server must be one of nodes 0-19",
        ),
        ("  backend: k8s", "'auto', 'docker' or 'process' (got 'k8s')"),
    ],
)
def test_header_errors(tmp_path: Path, testbed: str, message: str) -> None:
    assert message in error(tmp_path, "[]", HEADER + testbed + "\n")


def test_yaml_1_1_booleans_stay_strings(tmp_path: Path) -> None:
    """`on` is a key, not True; and yes/no are no booleans either."""
    message = error(
        tmp_path,
        """
        - {at: 1, do: partition, groups: ["0-9", rest], one_way: yes}
        """,
    )
    assert "steps[0].one_way: Input should be a valid boolean (got 'yes')" in message


ACCEPTED = {
    "clear of a crash restarts it": """
        - {at: 10, id: down, do: crash, on: "0-2"}
        - {at: 20, do: clear, faults: [down]}
        - {at: 30, do: pause, on: "1"}
        """,
    "restart, then pause": """
        - {at: 10, do: crash, on: "0-2"}
        - {at: 20, do: restart, on: "0-2"}
        - {at: 30, do: pause, on: "1"}
        """,
    "crash for a while, then pause": """
        - {at: 10, do: crash, on: "0-2", for: 5}
        - {at: 30, do: pause, on: "1"}
        """,
    "pause of other nodes than the crashed": """
        - {at: 10, do: crash, on: "0-2"}
        - {at: 30, do: pause, on: "3-5"}
        """,
    "unpause of paused nodes": """
        - {at: 10, do: pause, on: "0-4"}
        - {at: 20, do: unpause, on: "2"}
        - {at: 30, do: unpause, on: "3-4"}
        """,
    "unpause after a pause at a cycle": """
        - {at_cycle: 5, do: pause, on: hubs}
        - {at: 30, do: unpause, on: hubs}
        """,
    "heal after a partition that is still on": """
        - {at: 10, do: partition, groups: ["0-9", rest], for: 30}
        - {at: 20, do: heal}
        - {at: 30, do: partition, groups: [hubs, rest]}
        - {at: 40, do: heal}
        """,
    "same kind on other links": """
        - {at: 10, do: delay, delay_ms: 5, on: "0-9", peers: "10-19"}
        - {at: 10, do: delay, delay_ms: 5, on: "10-19", peers: "0-9"}
        - {at: 10, do: delay, delay_ms: 5, on: "0-9", peers: "0-9"}
        """,
    "same kind after the first ended": """
        - {at: 10, id: a, do: loss, loss_pct: 5, for: 10}
        - {at: 20, do: loss, loss_pct: 9}
        - {at: 30, do: clear}
        - {at: 40, id: b, do: loss, loss_pct: 1}
        - {at: 50, do: clear, faults: [b]}
        - {at: 60, do: loss, loss_pct: 1}
        """,
    "same kind on hubs: only the run can tell": """
        - {at: 10, do: delay, delay_ms: 5, on: hubs}
        - {at: 10, do: delay, delay_ms: 5, on: "0-4"}
        """,
    "different kinds on the same nodes": """
        - {at: 10, do: delay, delay_ms: 5}
        - {at: 10, do: loss, loss_pct: 5}
        """,
    "overlapping groups that still cut": """
        - {at: 10, do: partition, groups: ["0-9", "5-14"]}
        """,
    "churn": """
        - {at: 10, do: churn, leave_per_min: 6, for: 30}
        """,
    "load beside a crash, and from one side of a partition": """
        - {at: 5, do: load, users: 20, spawn_rate: 5, duration_s: 60}
        - {at: 10, do: crash, on: "3"}
        - {at: 70, do: partition, groups: ["0-9", rest], for: 30}
        - {at: 75, do: load, users: 5, spawn_rate: 5, duration_s: 20, as_node: 0}
        """,
}


@pytest.mark.parametrize("steps", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_timelines(tmp_path: Path, steps: str) -> None:
    load(tmp_path, steps, HEADER + "duration_s: 200\n")


REJECTED = {
    "pause of a node still crashed": (
        """
        - {at: 10, do: crash, on: "0-2", for: 30}
        - {at: 30, do: crash, on: [2]}
        """,
        "steps[1].on: crash of node(s) 2, which steps[0] (crash) (line 7) crashed",
    ),
    "unpause after the pause's for": (
        """
        - {at: 10, do: pause, on: "0-4", for: 10}
        - {at: 30, do: unpause, on: "0-4"}
        """,
        "steps[1].do: nothing to unpause at 30 s",
    ),
    "second heal": (
        """
        - {at: 10, do: partition, groups: ["0-9", rest]}
        - {at: 20, do: heal}
        - {at: 30, do: heal}
        """,
        "steps[2].do: nothing is partitioned at 30 s",
    ),
    "heal after a clear": (
        """
        - {at: 10, do: partition, groups: ["0-9", rest]}
        - {at: 20, do: clear}
        - {at: 30, do: heal}
        """,
        "steps[2].do: nothing is partitioned at 30 s",
    ),
    "overlap with no end": (
        """
        - {at: 10, do: loss, loss_pct: 5}
        - {at: 100, do: loss, loss_pct: 9, on: [3]}
        """,
        "a second loss on node(s) 3 while steps[0] (loss) (line 7, at 10 s) holds "
        "them with no end",
    ),
    "clear before the fault": (
        """
        - {at: 10, do: clear, faults: [late]}
        - {at: 20, id: late, do: delay, delay_ms: 5}
        """,
        "steps[0].faults[0]: 'late' starts at 20 s, after this clear at 10 s",
    ),
    "clear of a clear": (
        """
        - {at: 10, id: c, do: clear}
        - {at: 20, do: clear, faults: [c]}
        """,
        "'c' is a clear step; clear ends faults",
    ),
    "groups that cut nothing": (
        """
        - {at: 10, do: partition, groups: [all, "0-4"]}
        """,
        "steps[0].groups: these groups cut no node off",
    ),
    "rest that is empty": (
        """
        - {at: 10, do: partition, groups: ["0-9", "10-19", rest]}
        """,
        "steps[0].groups[2]: `rest` is empty",
    ),
    "rest twice": (
        """
        - {at: 10, do: partition, groups: ["0-9", rest, rest]}
        """,
        "steps[0].groups[2]: `rest` may be given once",
    ),
    "partition without groups": (
        """
        - {at: 10, do: partition}
        """,
        "steps[0]: partition needs `groups`",
    ),
    "on for a partition": (
        """
        - {at: 10, do: partition, groups: ["0-9", rest], on: "0-3"}
        """,
        "steps[0].on: partition takes `groups`, not `on`",
    ),
    "on for churn": (
        """
        - {at: 10, do: churn, leave_per_min: 6, on: hubs}
        """,
        "steps[0].on: churn picks the nodes that leave at random",
    ),
    "via for a crash": (
        """
        - {at: 10, do: crash, on: hubs, via: kernel}
        """,
        "steps[0].via: `via` is for link faults; crash is a node fault",
    ),
    "for on restart": (
        """
        - {at: 10, do: restart, on: hubs, for: 3}
        """,
        "steps[0].for: restart takes effect at once and takes no `for`",
    ),
    "on for clear": (
        """
        - {at: 10, do: clear, on: hubs}
        """,
        "steps[0].on: clear acts on the whole testbed and takes no `on`",
    ),
    "unpause without on": (
        """
        - {at: 10, do: pause, on: hubs}
        - {at: 20, do: unpause}
        """,
        "steps[1]: unpause needs `on`",
    ),
    "step without do": (
        """
        - {at: 10, on: hubs}
        """,
        "steps[0]: every step needs `do`: fault kinds",
    ),
    "missing parameter": (
        """
        - {at: 10, do: delay}
        """,
        "steps[0].delay_ms: required by delay (its parameters: delay_ms, jitter_ms",
    ),
    "unknown key on a control step": (
        """
        - {at: 10, do: heal, groups_: 1}
        """,
        "steps[0].groups_: unknown key 'groups_' for heal; valid keys: at, at_cycle",
    ),
    "bad step id": (
        """
        - {at: 10, do: heal, id: "no spaces"}
        """,
        "steps[0].id: String should match pattern",
    ),
    "load without users": (
        """
        - {at: 1, do: load, users: 0, spawn_rate: 1, duration_s: 10}
        """,
        "steps[0].users: Input should be greater than or equal to 1",
    ),
    "load without a duration": (
        """
        - {at: 1, do: load, users: 2, spawn_rate: 1}
        """,
        "steps[0].duration_s: required",
    ),
    "load with for": (
        """
        - {at: 1, do: load, users: 2, spawn_rate: 1, duration_s: 10, for: 5}
        """,
        "steps[0].for: load runs for its duration_s and takes no `for`",
    ),
    "load on nodes": (
        """
        - {at: 1, do: load, users: 2, spawn_rate: 1, duration_s: 10, on: "1"}
        """,
        "steps[0].on: load acts on the whole testbed and takes no `on`",
    ),
    "load beside a node that is not there": (
        """
        - {at: 1, do: load, users: 2, spawn_rate: 1, duration_s: 10, as_node: 20}
        """,
        "steps[0].as_node: node 20 does not exist: the testbed has nodes 0-19",
    ),
    "load beyond the duration": (
        """
        - {at: 150, do: load, users: 2, spawn_rate: 1, duration_s: 60}
        """,
        "duration_s: 200 s is shorter than the steps: steps[0] (load) (line 7) "
        "ends at 210 s",
    ),
    "infinite time": (
        """
        - {at: .inf, do: heal}
        """,
        "steps[0].at: Input should be a finite number",
    ),
}


@pytest.mark.parametrize(("steps", "message"), REJECTED.values(), ids=REJECTED.keys())
def test_rejected_timelines(tmp_path: Path, steps: str, message: str) -> None:
    assert message in error(tmp_path, steps, HEADER + "duration_s: 200\n")


def test_reserved_name(tmp_path: Path) -> None:
    header = HEADER.replace("name: t", "name: current")
    assert "name: 'current' is reserved" in error(tmp_path, "[]", header)
