"""The Grafana provisioning, the dashboards and compose.yaml. Grafana cannot
run here: what it needs of the files is checked as data, and every query is
sent to a real Prometheus, started with the compose stack's scrape
configuration, scraping a real node registry."""

from __future__ import annotations

import importlib.util
import json
import random
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import start_http_server

from controller.errors import UsageError
from controller.load.metrics import LoadMetrics
from controller.monitoring.panels import TESTBED_SERIES, panel_queries
from controller.monitoring.paths import (
    LOAD_JOB,
    NODES_JOB,
    TESTBED_JOB,
    exporter_targets,
    load_targets,
    nodes_targets,
)
from controller.rundir import RunDir
from node.faults import LinkFaults
from node.metrics import NodeMetrics

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yaml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "heal.yaml"
PROMETHEUS_CONFIG = GRAFANA / "prometheus-compose.yml"
UIDS = {"heal-convergence", "heal-overlay", "heal-network", "heal-recovery"}
PANEL_TYPES = {"timeseries", "stat", "table"}
TESTBED = 'testbed="$testbed"'


def _boards() -> dict[str, dict[str, Any]]:
    return {
        p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))
    }


def _datasource() -> dict[str, Any]:
    return yaml.safe_load(DATASOURCES.read_text())["datasources"][0]


def _expressions() -> list[tuple[str, str]]:
    """(where, expression) of every panel target and annotation query."""
    found = []
    for name, board in _boards().items():
        for panel in board["panels"]:
            for target in panel["targets"]:
                found.append((f"{name}: {panel['title']}", target["expr"]))
        for note in board["annotations"]["list"]:
            if "expr" in note:
                found.append((f"{name}: annotation {note['name']}", note["expr"]))
    return found


def test_dashboards_have_what_grafana_needs() -> None:
    boards = _boards()
    assert set(boards) == {
        "convergence.json",
        "overlay.json",
        "network.json",
        "recovery.json",
    }
    for name, board in boards.items():
        assert board["schemaVersion"] >= 36, name
        assert board["title"] and board["panels"], name
        assert board["refresh"] == "5s", name
        assert board["time"] == {"from": "now-15m", "to": "now"}, name
        (variable,) = board["templating"]["list"]
        assert variable["name"] == "testbed" and variable["type"] == "query", name
        assert variable["query"] == "label_values(heal_testbed_info, testbed)", name
        assert variable["multi"] is False and variable["includeAll"] is False, name
        assert "current" in variable, name
        for panel in board["panels"]:
            assert panel["type"] in PANEL_TYPES, (name, panel["title"])
            assert panel["title"] and panel["targets"], (name, panel["title"])


def test_uids_are_the_four_expected() -> None:
    uids = [board["uid"] for board in _boards().values()]
    assert sorted(uids) == sorted(UIDS)


def test_panels_have_unique_ids_and_do_not_overlap() -> None:
    for name, board in _boards().items():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: repeated panel ids {ids}"
        taken: dict[tuple[int, int], str] = {}
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, (
                name,
                panel["title"],
            )
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    other = taken.setdefault((x, y), panel["title"])
                    assert other == panel["title"], (
                        f"{name}: {other} overlaps {panel['title']}"
                    )


def test_everything_queries_the_provisioned_datasource() -> None:
    provisioned = _datasource()
    wanted = {"type": provisioned["type"], "uid": provisioned["uid"]}
    for name, board in _boards().items():
        refs = [board["templating"]["list"][0]["datasource"]]
        refs += [n["datasource"] for n in board["annotations"]["list"] if "expr" in n]
        for panel in board["panels"]:
            refs.append(panel["datasource"])
            refs.extend(target["datasource"] for target in panel["targets"])
        assert all(ref == wanted for ref in refs), name


def test_time_series_panels_shade_fault_windows() -> None:
    for name, board in _boards().items():
        for panel in board["panels"]:
            if (
                panel["type"] != "timeseries"
                or "faults_active" in panel["targets"][0]["expr"]
            ):
                continue
            refs = {t["refId"]: t["expr"] for t in panel["targets"]}
            assert refs.get("faults") == f"sum(heal_testbed_faults_active{{{TESTBED}}})"
            (band,) = [
                o
                for o in panel["fieldConfig"]["overrides"]
                if o["matcher"] == {"id": "byFrameRefID", "options": "faults"}
            ]
            props = {p["id"]: p["value"] for p in band["properties"]}
            assert props["custom.axisPlacement"] == "hidden", (name, panel["title"])
            assert props["custom.fillOpacity"] > 0, (name, panel["title"])


def test_fault_windows_are_annotated() -> None:
    for name, board in _boards().items():
        (faults,) = [n for n in board["annotations"]["list"] if n["name"] == "faults"]
        assert faults["enable"] is True, name
        assert re.search(
            r"heal_testbed_faults_active\{[^}]*\}\) > 0$", faults["expr"]
        ), name


# PromQL words that are not metric names, and the parts of an expression
# that hold no metric names (strings, label lists, ranges, matchers).
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "group_left", "group_right"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
)
_RANGE = re.compile(r"\[[^\]]*\]")
_MATCHERS = re.compile(r"\{[^}]*\}")
_WORD = re.compile(r"(?<![\w.:])[A-Za-z_:][\w:]*")


def metric_names(expr: str) -> list[str]:
    """The metric names an expression selects: words that are not functions,
    keywords or labels."""
    text = _STRING.sub('""', expr)
    for pattern in (_LABEL_LIST, _RANGE, _MATCHERS):
        text = pattern.sub(" ", text)
    names = []
    for match in _WORD.finditer(text):
        if match.group() in _KEYWORDS or text[match.end() :].lstrip().startswith("("):
            continue
        names.append(match.group())
    return names


def test_metric_names_finds_selectors_only() -> None:
    expr = 'sum by (code) (rate(a_total{x="b c"}[5m])) / on (node) group_left b >= 1e3'
    assert metric_names(expr) == ["a_total", "b"]
    assert metric_names('quantile(0.5, c{d="e"} offset 5m) and bool_x') == [
        "c",
        "bool_x",
    ]


def _node_series() -> set[str]:
    """Every series name a node exports, link-fault counters included."""
    metrics = NodeMetrics()
    metrics.watch_link_faults(LinkFaults(random.Random(0)))
    names = set()
    for family in metrics.registry.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
    return names


def _load_series() -> set[str]:
    """Every series name the load generator exports."""
    names = set()
    for family in LoadMetrics().registry.collect():
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_sum", "_count"),
        }.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)
    return names


def test_queries_use_only_contract_series_of_the_chosen_testbed() -> None:
    known = _node_series() | set(TESTBED_SERIES) | _load_series()
    used = set()
    for where, expr in _expressions():
        names = metric_names(expr)
        assert names, f"{where}: no metric in {expr}"
        for name in names:
            assert name in known, f"{where}: {name} is in no contract"
            selectors = re.findall(rf"(?<![\w:]){name}(?![\w:])(\{{[^}}]*\}})?", expr)
            assert all(TESTBED in s for s in selectors), (
                f"{where}: {name} without {TESTBED}"
            )
        used.update(names)
    assert set(TESTBED_SERIES) - used <= {"heal_testbed_info"}, (
        "testbed series no board shows"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return dict(json.load(reply))
    except urllib.error.HTTPError as exc:  # Prometheus answers bad queries with 400
        return dict(json.load(exc))


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus with the compose stack's configuration, its targets
    folder moved to a temporary one listing a real node registry."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("no prometheus binary on PATH (Debian: apt-get install prometheus)")
    tmp = tmp_path_factory.mktemp("prometheus")
    targets = tmp / "targets"
    targets.mkdir()
    config = tmp / "prometheus.yml"
    config.write_text(
        PROMETHEUS_CONFIG.read_text().replace("/etc/prometheus/targets", str(targets))
    )

    metrics = NodeMetrics()
    metrics.watch_link_faults(LinkFaults(random.Random(0)))
    node_port = _free_port()
    server, thread = start_http_server(
        node_port, addr="127.0.0.1", registry=metrics.registry
    )
    labels = {"testbed": "tb", "node": "0", "protocol": "heal", "backend": "process"}
    group = {"targets": [f"127.0.0.1:{node_port}"], "labels": labels}
    (targets / "tb.nodes.json").write_text(json.dumps([group]))

    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "prometheus.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp / "prometheus.log").read_text()[-2000:]
            try:
                urllib.request.urlopen(url + "/-/ready", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "Prometheus not ready in 30 s"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        server.shutdown()
        thread.join(timeout=5)


def _query(url: str, expr: str) -> dict[str, Any]:
    return _get(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))


def test_every_query_is_valid_promql(prometheus: str) -> None:
    queries = [
        (f"{q.dashboard}: {q.panel} {q.ref_id}", q.expr)
        for q in panel_queries(DASHBOARDS, "tb")
    ]
    notes = [
        (w, e.replace("$testbed", "tb")) for w, e in _expressions() if "annotation" in w
    ]
    assert len(queries) > 40 and notes
    for where, expr in [*queries, *notes, ("variable", "heal_testbed_info")]:
        answer = _query(prometheus, expr)
        assert answer["status"] == "success", f"{where}: {expr}: {answer.get('error')}"


def test_bad_promql_is_refused(prometheus: str) -> None:
    """The check above can fail: Prometheus does refuse what does not parse."""
    assert _query(prometheus, "sum by (node (heal_cycle)")["status"] == "error"


def test_compose_prometheus_scrapes_node_targets(prometheus: str) -> None:
    expr = f'up{{job="{NODES_JOB}", testbed="tb", node="0"}} == 1'
    deadline = time.monotonic() + 20
    while not _query(prometheus, expr)["data"]["result"]:
        assert time.monotonic() < deadline, "no scrape of the node target in 20 s"
        time.sleep(0.5)
    cycle = _query(prometheus, 'heal_cycle{testbed="tb", node="0"}')["data"]["result"]
    assert len(cycle) == 1


def test_generated_json_matches_the_generator(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "dashboards", ROOT / "scripts" / "dashboards.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.stale(DASHBOARDS, script.render()) == [], "run scripts/dashboards.py"

    # And the check notices a hand edit.
    for path in DASHBOARDS.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    edited = tmp_path / "overlay.json"
    edited.write_text(edited.read_text().replace('"5s"', '"10s"', 1))
    assert script.stale(tmp_path, script.render()) == ["overlay.json"]


def test_provisioning_points_at_the_datasource_and_the_dashboards() -> None:
    source = _datasource()
    assert source["uid"] == "heal-prometheus" and source["type"] == "prometheus"
    assert source["isDefault"] is True and source["editable"] is False
    assert source["url"] == "${HEAL_PROMETHEUS_URL}"
    (provider,) = yaml.safe_load(PROVIDERS.read_text())["providers"]
    assert provider["type"] == "file" and provider["folder"] == "HEAL testbed"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


_VOLUME = re.compile(r"^(?P<host>.+):(?P<inside>/[^:]*)(?::ro|:rw)?$")


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of a service's volumes (a host path may
    hold a colon, in a variable's default)."""
    mounts = {}
    for volume in service["volumes"]:
        match = _VOLUME.match(volume)
        assert match, f"unreadable volume {volume!r}"
        mounts[match["inside"]] = match["host"]
    return mounts


def test_compose_parses_and_mounts_what_the_repository_has() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert set(services) == {"prometheus", "grafana"}
    for name, service in services.items():
        assert service["network_mode"] == "host", name
        for source in _mounts(service).values():
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"

    grafana = services["grafana"]
    env = grafana["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert env["HEAL_PROMETHEUS_URL"] == "http://localhost:9090"
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${")
    provider_path = yaml.safe_load(PROVIDERS.read_text())["providers"][0]["options"][
        "path"
    ]
    assert _mounts(grafana)[provider_path] == "./grafana/dashboards"
    assert _mounts(grafana)["/etc/grafana/provisioning"] == "./grafana/provisioning"
    assert "--web.listen-address=127.0.0.1:9090" in services["prometheus"]["command"]


def test_compose_prometheus_finds_the_files_the_controller_writes() -> None:
    """The targets the controller writes for a run under runs/ must match the
    globs of the compose configuration, through the mount, job by job."""
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    mounts = _mounts(services["prometheus"])
    assert (
        mounts["/etc/prometheus/prometheus.yml"] == "./grafana/prometheus-compose.yml"
    )
    targets = mounts["/etc/prometheus/targets"]
    assert targets == "${HEAL_RUNS:-./runs}/monitoring/targets"

    run = RunDir(Path("runs") / "demo")
    host_dir = Path(targets.replace("${HEAL_RUNS:-./runs}", "runs"))
    written = {
        NODES_JOB: nodes_targets(run),
        TESTBED_JOB: exporter_targets(run),
        LOAD_JOB: load_targets(run, 4321),
    }
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(written)
    for name, path in written.items():
        assert path.parent == host_dir, name
        (sd,) = jobs[name]["file_sd_configs"]
        inside = f"/etc/prometheus/targets/{path.name}"
        matching = [g for g in sd["files"] if fnmatch(inside, g)]
        assert matching and sd["refresh_interval"] == "5s", name
        others = [other for other in written.values() if other != path]
        assert not any(
            fnmatch(f"/etc/prometheus/targets/{o.name}", g)
            for o in others
            for g in sd["files"]
        )
    assert config["global"]["scrape_interval"] == "5s"


def test_panel_queries_fill_every_variable() -> None:
    queries = panel_queries(DASHBOARDS, "run-7", rate_interval="1m", time_range="2h")
    assert {q.dashboard for q in queries} == UIDS
    assert all("$" not in q.expr for q in queries)
    assert all('testbed="run-7"' in q.expr for q in queries)
    assert any("[1m]" in q.expr for q in queries) and any(
        "[2h]" in q.expr for q in queries
    )
    faults = [q for q in queries if q.ref_id == "faults"]
    assert faults and all(
        q.expr == 'sum(heal_testbed_faults_active{testbed="run-7"})' for q in faults
    )


def test_panel_queries_say_which_file_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no dashboard files"):
        panel_queries(tmp_path, "tb")
    board = {
        "uid": "x",
        "panels": [{"title": "P", "targets": [{"refId": "A", "expr": "up[$__span]"}]}],
    }
    (tmp_path / "bad.json").write_text(json.dumps(board))
    with pytest.raises(
        UsageError, match=r"bad\.json, panel 'P': unknown variable \$__span"
    ):
        panel_queries(tmp_path, "tb")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UsageError, match=r"bad\.json: not a readable dashboard"):
        panel_queries(tmp_path, "tb")
