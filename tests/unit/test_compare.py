"""`controller compare` without running nodes: the variants it writes, the
figures it takes from an event log, their mean and spread over repeats,
the files, and the errors it stops on before starting anything."""

from __future__ import annotations

import csv
import json
import socket
from pathlib import Path

import pytest
from matplotlib import image
from typer.testing import CliRunner

from controller.cli import app
from controller.compare import expected, plan
from controller.compare.measure import measure
from controller.compare.run import Comparison, _current_kept
from controller.compare.summary import Spread, summarise
from controller.errors import UsageError
from controller.rundir import RunDir
from controller.scenario.loader import load_scenario
from controller.scenario.traffic import Tally
from controller.testbed import NodeView
from tests.unit.test_report_events import SyntheticLog

SCENARIO = """\
name: tiny
seed: 7
testbed: {nodes: 6, backend: process, set: {h: 2}}
duration_s: 30
steps:
  - at: 10
    id: kill-hubs
    do: crash
    on: hubs
"""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    return path


def test_every_protocol_and_repeat_gets_a_valid_file_of_its_own(source, tmp_path):
    made = plan.variants(
        source, load_scenario(source), ["heal", "gossip"], 2, tmp_path / "c", nodes=8
    )
    assert [(v.protocol, v.repeat, v.seed) for v in made] == [
        ("heal", 1, 7),
        ("gossip", 1, 7),
        ("heal", 2, 8),
        ("gossip", 2, 8),
    ]
    assert [v.name for v in made][:2] == ["tiny-heal-r1", "tiny-gossip-r1"]
    for v in made:
        again = load_scenario(v.file)
        assert again.testbed.protocol == v.protocol and again.seed == v.seed
        assert again.testbed.nodes == 8 and again.name == v.name
        assert again.testbed.node_settings.model_dump(exclude_unset=True) == {"h": 2}
        assert [s.id for s in again.steps] == ["kill-hubs"]


def test_one_run_a_protocol_keeps_the_plain_name(source, tmp_path):
    (v,) = plan.variants(source, load_scenario(source), ["fedavg"], 1, tmp_path)
    assert v.name == "tiny-fedavg" and v.seed == 7


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("heal,paxos", "paxos not known"),
        ("", "none given"),
        ("heal,heal", "named twice"),
    ],
)
def test_bad_protocol_lists_name_the_flag_and_what_is_valid(text, says):
    with pytest.raises(UsageError, match=says) as caught:
        plan.parse_protocols(text)
    assert "--protocols" in str(caught.value)
    if "known" in says or "none" in says:
        assert "heal, fedavg, gossip, epidemic" in str(caught.value)


def test_a_name_too_long_for_testbeds_is_refused(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(SCENARIO.replace("name: tiny", "name: " + "x" * 55))
    with pytest.raises(UsageError, match="too long"):
        plan.variants(path, load_scenario(path), ["epidemic"], 1, tmp_path / "c")


def view(node: int, push: int, healthy: bool = True) -> NodeView:
    return NodeView(
        id=node, alive=healthy, healthy=healthy, role=None, cycle=None,
        overlay_cycle=None, accuracy=None, loss=None, hubs=[], peers=None,
        exit_code=None, memory_mib=None, error=None,
        messages_sent={"push": push}, bytes_sent={"push": 100 * push},
    )  # fmt: skip


def test_the_tally_adds_increases_and_counts_a_restarted_node_from_zero():
    tally = Tally()
    tally.read([view(0, 5), view(1, 3)])
    tally.read([view(0, 9), view(1, 0, healthy=False)])  # node 1 crashed
    tally.read([view(0, 10), view(1, 2)])  # and came back, counting from 0
    assert tally.snapshot() == {
        "sent": {"push": 10 + 3 + 2},
        "sent_bytes": {"push": 1500},
    }


def logged_run(path: Path, protocol: str, rate: float, top: float) -> Path:
    """Accuracy rises by rate a second to top; 40 learning messages and
    4 kB a cycle; hubs crash at 10.5 s."""
    log = SyntheticLog()
    log.started(nodes=6, seed=7)
    for t in range(31):
        log.observe(float(t), min(top, 0.5 + rate * t), cycle=2 * t)
        log.records[-1]["sent"] = {"push": 20 * 2 * t, "global": 20 * 2 * t, "cache": t}
        log.records[-1]["sent_bytes"] = {"push": 4000 * 2 * t}
        if t == 10:
            log.applied(10.5, "kill-hubs", "crash", [0, 1])
    log.finished(30.5)
    return log.write(path)


def test_figures_of_a_run_come_from_its_log(tmp_path):
    r = measure(logged_run(tmp_path / "events.jsonl", "heal", 0.02, 0.9), "heal")
    assert r.final_accuracy == 0.9 and (r.seed, r.nodes) == (7, 6)
    assert [(x.threshold, x.t_s, x.cycle) for x in r.reached] == [
        (0.80, 15.0, 30),
        (0.85, 18.0, 36),  # 0.5 + 0.02 * 17.5: the first at or above is 18 s
    ]
    assert r.cycles == 60.0
    assert r.messages_per_cycle == 40.0  # push and global; cache is the overlay's
    assert r.all_messages_per_cycle == 40.5
    assert r.bytes_per_cycle == 4000.0
    assert r.by_type_per_cycle == {"cache": 0.5, "global": 20.0, "push": 20.0}
    (crash,) = r.faults
    assert crash.label == "kill-hubs" and crash.at_s == 10.5
    assert crash.pre_accuracy is not None and 0.65 < crash.pre_accuracy <= 0.7
    assert crash.gain_after == pytest.approx(0.9 - crash.pre_accuracy)


def test_a_step_that_failed_is_listed_as_not_run(tmp_path):
    log = SyntheticLog()
    log.started()
    log.observe(0.0, 0.5, cycle=0)
    log.add("step_failed", 1.0, step="kill-hubs", do="crash", error="no hubs")
    log.observe(2.0, 0.6, cycle=2)
    log.finished(2.5)
    r = measure(log.write(tmp_path / "events.jsonl"), "gossip")
    assert [(f.label, f.failed) for f in r.faults] == [("kill-hubs", "no hubs")]
    assert r.messages_per_cycle is None  # no traffic was logged
    s = summarise("gossip", [r], None)
    assert s.failed_steps == {"kill-hubs": "no hubs"} and s.faults == {}


def test_spread_over_repeats():
    s = Spread.of([0.8, None, 0.9, 0.85])
    assert (s.mean, s.low, s.high, s.count) == (0.85, 0.8, 0.9, 3)
    assert s.sd == pytest.approx(0.05)
    assert Spread.of([None]).mean is None and Spread.of([1.0]).sd is None


def test_expected_messages_follow_each_protocols_definition():
    heal = expected.Shape("heal", 100, 5, 1)
    assert expected.per_cycle(heal) == 210  # HEAL.md's figure for n=100
    assert expected.per_cycle(expected.Shape("fedavg", 50, 5, 1)) == 98
    assert expected.per_cycle(expected.Shape("gossip", 50, 5, 1)) == 50
    assert expected.per_cycle(expected.Shape("epidemic", 50, 5, 3)) == 150


def test_the_comparison_files(tmp_path):
    fast = measure(logged_run(tmp_path / "a.jsonl", "heal", 0.02, 0.9), "heal")
    slow = measure(logged_run(tmp_path / "b.jsonl", "gossip", 0.01, 0.8), "gossip")
    about = {"scenario": "tiny", "nodes": 6, "backend": "process", "seeds": [7]}
    comparison = Comparison("tiny", tmp_path, about)
    comparison.runs = [("tiny-heal", fast), ("tiny-gossip", slow)]
    comparison.shapes = {"heal": expected.Shape("heal", 6, 2, 1)}
    comparison.write()

    with open(tmp_path / "comparison.csv", newline="") as handle:
        rows = {r["protocol"]: r for r in csv.DictReader(handle)}
    assert rows["heal"]["expected_messages_per_cycle"] == "10.0"  # 2*4*1 + 2*1
    assert rows["gossip"]["cycles_to_0.85_runs"] == "0"
    assert float(rows["gossip"]["cycles_to_0.80_mean"]) == 60
    table = (tmp_path / "comparison.md").read_text()
    assert "| gossip | 0.800 | 60 | 30.0 | never | never |" in table
    assert "## Recovery per fault" in table
    assert "| messages / cycle by type | cache | global | push |" in table
    assert "| heal | 0.5 | 20.0 | 20.0 |" in table
    body = json.loads((tmp_path / "comparison.json").read_text())
    assert [p["protocol"] for p in body["protocols"]] == ["heal", "gossip"]
    assert image.imread(tmp_path / "accuracy.png").shape[1] > 800


def invoke(*args: str):
    return CliRunner().invoke(app, ["compare", *args])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--protocols", "heal,raft"], "--protocols"),
        (["--repeat", "0"], "--repeat 0"),
        (["--nodes", "1"], "--nodes 1"),
        (["--backend", "k8s"], "--backend"),
        (["--monitoring", "maybe"], "--monitoring"),
    ],
)
def test_bad_options_exit_2_and_start_nothing(source, tmp_path, args, says):
    out = tmp_path / "out"
    result = invoke(str(source), "--output", str(out), *args)
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert not out.exists()


def test_a_bad_scenario_or_a_used_folder_exits_2(source, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.replace("do: crash", "do: explode"))
    result = invoke(str(bad), "--output", str(tmp_path / "o"))
    assert result.exit_code == 2 and "bad.yaml:8:5" in result.output, result.output

    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("")
    result = invoke(str(source), "--output", str(used))
    assert result.exit_code == 2 and "not empty" in result.output


def test_the_files_of_a_comparison_with_no_finished_run(tmp_path):
    about = {"scenario": "tiny", "nodes": 6, "backend": "process", "seeds": [7]}
    comparison = Comparison("tiny", tmp_path, about)
    comparison.failed = ["tiny-heal: port 53402 is in use"]
    comparison.write()
    with open(tmp_path / "runs.csv", newline="") as handle:
        assert list(csv.DictReader(handle)) == []
    assert image.imread(tmp_path / "accuracy.png").shape[1] > 800
    body = json.loads((tmp_path / "comparison.json").read_text())
    assert body["runs"] == [] and body["failed_runs"] == comparison.failed
    table = (tmp_path / "comparison.md").read_text()
    assert "## Runs that did not finish\n\n- tiny-heal: port 53402 is in use" in table


def test_a_comparison_leaves_runs_current_where_it_was(tmp_path, monkeypatch):
    monkeypatch.setenv("HEAL_RUNS", str(tmp_path))
    (tmp_path / "mine").mkdir()
    RunDir(tmp_path / "mine").mark_current()
    with _current_kept():
        (tmp_path / "cmp-heal").mkdir()
        RunDir(tmp_path / "cmp-heal").mark_current()  # as each variant's up does
    assert (tmp_path / "current").resolve() == (tmp_path / "mine").resolve()

    (tmp_path / "current").unlink()
    with _current_kept():
        RunDir(tmp_path / "cmp-heal").mark_current()
    assert not (tmp_path / "current").exists()  # there was none before


def test_ports_and_folders_are_checked_before_any_testbed(source, tmp_path):
    out = tmp_path / "out"
    result = invoke(str(source), "--output", str(out), "--base-port", "70000")
    assert result.exit_code == 2 and "--base-port 70000" in result.output
    assert not out.exists()  # made for the comparison, gone again

    with socket.socket() as held:  # one port of the range in use
        held.bind(("127.0.0.1", 0))
        held.listen()
        base = held.getsockname()[1] - 3
        result = invoke(str(source), "--output", str(out), "--base-port", str(base))
    assert result.exit_code == 4 and "ports in use" in result.output, result.output
    assert not out.exists()

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for where in (a_file, a_file / "sub"):
        result = invoke(str(source), "--output", str(where))
        assert result.exit_code == 2 and f"--output {where}" in result.output


def test_a_variant_that_does_not_fit_names_the_source_and_the_change(tmp_path):
    path = tmp_path / "sel.yaml"
    path.write_text(SCENARIO.replace("on: hubs", 'on: "4-5"'))
    out = tmp_path / "out"
    result = invoke(str(path), "--output", str(out), "--nodes", "4")
    assert result.exit_code == 2, result.output
    assert f"{path}: as sel.yaml with protocol heal" in result.output, result.output
    assert "on 4 nodes" in result.output and "scenarios/" not in result.output
    assert not out.exists()
