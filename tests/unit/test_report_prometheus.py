"""The report's Prometheus source against hand-made API answers: parsing,
chunked range queries, and observations built from the testbed's series or,
without them, from the nodes' own.

FakePrometheus is a real HTTP server on 127.0.0.1 that answers the report's
queries from stored series, on the grid a range query asks for; the other
report tests use it too.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from controller.errors import UsageError
from controller.report import prom, promapi, sources
from controller.report.promapi import Prometheus, PrometheusError, parse_matrix
from controller.report.sources import load
from controller.rundir import RunDir, TestbedState

EPOCH = 1_700_000_000.0  # in the past, so that "now" ends every window later
TESTBED = "tb"
STEP = 5.0


class FakePrometheus:
    """Answers /-/ready and /api/v1/query_range. series maps a query (as the
    report words it) to (labels, {epoch: value}) pairs; a grid point takes
    the latest stored value at most one step old, as a lookback would."""

    def __init__(self) -> None:
        self.series: dict[str, list[tuple[dict[str, str], dict[float, float]]]] = {}
        self.queries: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/-/ready":
                    self._send(200, b"Prometheus Server is Ready.\n")
                elif url.path == "/api/v1/query_range":
                    params = dict(urllib.parse.parse_qsl(url.query))
                    fake.queries.append(params)
                    self._send(200, json.dumps(fake.answer(params)).encode())
                else:
                    self._send(404, b"not found")

            def _send(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(
        self,
        name: str,
        labels: dict[str, str],
        points: dict[float, float],
        queries: dict[str, str] = prom.NODES,
    ) -> None:
        """Store a series under the report's query called name."""
        query = queries[name].format(sel=prom.selector(TESTBED))
        self.series.setdefault(query, []).append((labels, points))

    def add_testbed(self, name: str, points: dict[float, float], **labels: str):
        self.add(name, labels, points, prom.TESTBED)

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        start, end = float(params["start"]), float(params["end"])
        step = float(params["step"])
        grid = [start + k * step for k in range(int((end - start) // step) + 1)]
        result = []
        for labels, points in self.series.get(params["query"], []):
            values = []
            for t in grid:
                known = [e for e in points if t - step < e <= t]
                if known:
                    values.append([t, str(points[max(known)])])
            if values:
                result.append({"metric": labels, "values": values})
        return {"status": "success", "data": {"resultType": "matrix", "result": result}}

    def __enter__(self) -> FakePrometheus:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def state_dir(
    tmp_path: Path, created: float = EPOCH, life_s: float | None = 60.0
) -> RunDir:
    """A testbed that was up for life_s seconds from created (still up when
    life_s is None)."""
    run = RunDir(tmp_path / TESTBED)
    run.create()
    state = TestbedState(
        name=TESTBED, backend="process", created=created, settings={}, nodes=[]
    )
    if life_s is not None:
        state.phase, state.stopped = "down", created + life_s
    run.save(state)
    return run


def four_nodes(fake: FakePrometheus, testbed_series: bool = True) -> None:
    """Nodes 0-3 for 60 s, a point every 5 s: accuracy 0.5 + t/100 (node n
    adds n/100), cycle t, hubs 0 and 1 seen by all but node 3 (which sees
    0 and 2); the exporter's series say 4 alive and hubs 0 and 1."""
    times = [EPOCH + 5 * k for k in range(13)]
    for n in range(4):
        node = {"node": str(n)}
        fake.add("accuracy", node, {e: 0.5 + (e - EPOCH + n) / 100 for e in times})
        fake.add("loss", node, {e: 1.0 - (e - EPOCH) / 100 for e in times})
        fake.add("cycle", node, {e: e - EPOCH for e in times})
        for hub in (0, 2) if n == 3 else (0, 1):
            fake.add("hub_view", node | {"hub": str(hub)}, dict.fromkeys(times, 1.0))
    if testbed_series:
        fake.add_testbed("alive", dict.fromkeys(times, 4.0))
        fake.add_testbed("mean", {e: 0.515 + (e - EPOCH) / 100 for e in times})
        fake.add_testbed("min", {e: 0.5 + (e - EPOCH) / 100 for e in times})
        fake.add_testbed("max", {e: 0.53 + (e - EPOCH) / 100 for e in times})
        fake.add_testbed("agreement", dict.fromkeys(times, 0.75))
        fake.add_testbed("cycle", {e: e - EPOCH + 1 for e in times})
        for hub in (0, 1):
            fake.add_testbed("hubs", dict.fromkeys(times, 1.0), hub=str(hub))


@pytest.fixture
def fake() -> Iterator[FakePrometheus]:
    with FakePrometheus() as server:
        yield server


def test_a_matrix_answer_gives_its_series_without_nan_samples():
    body = json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    {"metric": {"node": "3"}, "values": [[10, "0.5"], [15, "NaN"]]},
                    {"metric": {}, "values": [[10.5, "+Inf"]]},
                ],
            },
        }
    ).encode()
    first, second = parse_matrix(body, "q")
    assert first.labels == {"node": "3"} and first.points == [(10.0, 0.5)]
    assert second.points == [(10.5, float("inf"))]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"status": "error", "error": "parse error at char 3"}', "parse error"),
        (b'{"status": "success", "data": {"resultType": "vector"}}', "vector"),
        (b"<html>proxy</html>", "unexpected answer"),
        (b'{"status": "success", "data": {"resultType": "matrix"}}', "result"),
    ],
)
def test_an_answer_of_another_shape_is_an_error_naming_the_query(body, says):
    with pytest.raises(PrometheusError, match=says) as caught:
        parse_matrix(body, "heal_cycle")
    assert "heal_cycle" in str(caught.value)


def test_a_long_range_is_asked_in_chunks_and_merged(monkeypatch):
    monkeypatch.setattr(promapi, "MAX_STEPS", 4)
    asked = []

    def fetch(url: str, timeout: float) -> bytes:
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        asked.append((float(params["start"]), float(params["end"])))
        start, end = float(params["start"]), float(params["end"])
        values = [[start + k, "1"] for k in range(int(end - start) + 1)]
        result = [{"metric": {"node": "0"}, "values": values}]
        answer = {"resultType": "matrix", "result": result}
        return json.dumps({"status": "success", "data": answer}).encode()

    (series,) = Prometheus("http://127.0.0.1:9", fetch).query_range("q", 0, 9, 1)
    assert asked == [(0, 3), (4, 7), (8, 9)]
    assert [t for t, _ in series.points] == [float(t) for t in range(10)]


@pytest.mark.parametrize(
    "url", ["127.0.0.1:9090", "ftp://host", "http://", "http://h:99999", "http://h/?q"]
)
def test_a_bad_url_names_the_flag(url):
    with pytest.raises(UsageError, match="--prometheus"):
        Prometheus(url)


@pytest.mark.parametrize("step", [0.0, -5.0, math.nan, math.inf])
def test_a_step_that_is_no_positive_number_names_the_flag(tmp_path, step):
    with pytest.raises(UsageError, match=rf"--step {step:g}: give the seconds"):
        load(state_dir(tmp_path), None, "log", None, step)


def test_observations_come_from_the_testbed_series(tmp_path, fake):
    four_nodes(fake)
    run = load(state_dir(tmp_path), None, "prometheus", fake.url, STEP).run
    assert [o.t_s for o in run.observations] == [5.0 * k for k in range(13)]
    at_20 = run.observations[4]
    assert (at_20.alive, at_20.healthy, at_20.hubs) == (4, 4, (0, 1))
    assert at_20.cycle == 21  # the exporter's, not the nodes' median
    assert at_20.mean_accuracy == pytest.approx(0.715)
    assert (at_20.min_accuracy, at_20.max_accuracy) == (0.7, 0.73)
    assert at_20.agreement == 0.75
    assert run.source == fake.url and run.testbed == TESTBED
    assert run.notes == []
    queried = {q["query"] for q in fake.queries}
    assert all('testbed="tb"' in q for q in queried)
    assert {q["step"] for q in fake.queries} == {"5"}
    assert {float(q["start"]) for q in fake.queries} == {EPOCH}

    assert run.per_node is not None
    samples = [s for s in run.per_node.samples if s.t_s == 20.0]
    assert [(s.node, s.cycle) for s in samples] == [(n, 20) for n in range(4)]
    assert samples[3].accuracy == pytest.approx(0.73)
    assert samples[0].loss == pytest.approx(0.8)


def test_a_long_life_widens_the_step_to_a_few_thousand_points(tmp_path, fake):
    four_nodes(fake)
    week = 7 * 24 * 3600.0
    load(state_dir(tmp_path, life_s=week), None, "prometheus", fake.url, STEP)
    steps = {float(q["step"]) for q in fake.queries}
    assert steps == {float(math.ceil(week / sources.MAX_POINTS))}
    assert len(fake.queries) == len(prom.TESTBED) + len(prom.NODES)


def test_a_running_testbed_is_reported_up_to_now(tmp_path, fake):
    four_nodes(fake)  # long ago: nothing in the window
    before = time.time()
    run = state_dir(tmp_path, created=before - 60, life_s=None)
    with pytest.raises(PrometheusError, match="holds no series"):
        load(run, None, "prometheus", fake.url, STEP)
    ends = {float(q["end"]) for q in fake.queries}
    assert len(ends) == 1 and before <= ends.pop() <= time.time()


def test_without_the_exporter_observations_are_made_from_the_nodes(tmp_path, fake):
    four_nodes(fake, testbed_series=False)
    run = load(state_dir(tmp_path), None, "prometheus", fake.url, STEP).run
    at_20 = run.observations[4]
    assert (at_20.alive, at_20.healthy, at_20.cycle) == (4, 4, 20)
    assert at_20.mean_accuracy == pytest.approx(0.715)  # (0.70 + ... + 0.73) / 4
    assert (at_20.min_accuracy, at_20.max_accuracy) == (0.7, 0.73)
    assert at_20.hubs == (0, 1) and at_20.agreement == 0.75  # node 3 sees 0 and 2
    assert any("No heal_testbed_* series" in n for n in run.notes)


def test_a_node_label_that_is_no_id_is_an_error(tmp_path, fake):
    fake.add("cycle", {"node": "n-7"}, {EPOCH: 1.0})
    with pytest.raises(PrometheusError, match=r"node='n-7'"):
        load(state_dir(tmp_path), None, "prometheus", fake.url, STEP)


def test_a_life_without_a_scenario_takes_its_cycle_lengths_from_the_nodes(
    tmp_path, fake
):
    four_nodes(fake)
    run_dir = state_dir(tmp_path)
    run_dir.node_dir(0).mkdir(parents=True)
    config = {"cycle_period_s": 2.0, "overlay_period_s": 4.0}
    (run_dir.node_dir(0) / "config.json").write_text(json.dumps(config))
    run = load(run_dir, None, "prometheus", fake.url, STEP).run
    assert run.scenario is None
    assert run.period("overlay_period_s") == 4.0
    assert run.period("cycle_period_s") == 2.0
