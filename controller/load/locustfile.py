"""Locust users that call Predict and Status on the nodes of a live testbed.

Run by `controller load` as `python -m locust -f <this file> --heal-run-dir
RUN ...`. Each call is one Locust request named "node-<id> <RPC>", so that
Locust's statistics have a row a node and RPC; a crashed node's calls fail
and are counted against it. With --heal-as-node the Predict calls carry
that node's address as their sender, so in-node link faults treat the generator as
standing beside that node (a partition then cuts it off from the other
side); without it no in-node fault applies to the generator's calls.
"""

# gRPC must be patched for gevent before any channel exists; Locust has
# patched the standard library by the time it imports this file.
import grpc.experimental.gevent as grpc_gevent

grpc_gevent.init_gevent()

import os  # noqa: E402 - after the gevent patch, as above
import random  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import grpc  # noqa: E402
from locust import User, between, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.runners import WorkerRunner  # noqa: E402
from prometheus_client import start_http_server  # noqa: E402

from controller.load.metrics import LoadMetrics, advertise, withdraw  # noqa: E402
from controller.load.targets import NodeBook, request_name  # noqa: E402
from controller.rundir import RunDir  # noqa: E402
from node.faults import PEER_METADATA  # noqa: E402
from protos import heal_pb2, heal_pb2_grpc  # noqa: E402

PREDICT_SAMPLES = 16
SPARE_THREADS = 10
DEADLINE_S = 2.0
# Reconnect soon after a node comes back, as the nodes themselves do.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 0),
]


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument(
        "--heal-run-dir",
        env_var="HEAL_LOAD_RUN_DIR",
        default="",
        help="The testbed's run directory (its state lists the nodes).",
    )
    parser.add_argument(
        "--heal-as-node",
        type=int,
        default=-1,
        help="Send every Predict as if from this node's address (-1: none).",
    )


class _Testbed:
    """What every user of this process shares: the node list, one channel
    a node, the control token and the metrics."""

    def __init__(self, run: RunDir, as_node: int) -> None:
        self.run = run
        self.book = NodeBook(run)
        self.token = run.token()
        self.as_node = as_node
        self.metrics = LoadMetrics()
        self._stubs: dict[str, tuple[Any, Any]] = {}

    def pick(self, rng: random.Random) -> tuple[int, str] | None:
        nodes = self.book.current()
        if not nodes:
            return None
        node = rng.choice(sorted(nodes))
        return node, nodes[node]

    def stubs(self, address: str) -> tuple[Any, Any]:
        """(Node stub, Control stub) on one channel to address."""
        if address not in self._stubs:
            channel = grpc.insecure_channel(address, CHANNEL_OPTIONS)
            self._stubs[address] = (
                heal_pb2_grpc.NodeStub(channel),
                heal_pb2_grpc.ControlStub(channel),
            )
        return self._stubs[address]

    def sender(self) -> list[tuple[str, str]]:
        address = self.book.current().get(self.as_node)
        return [(PEER_METADATA, address)] if address else []


TESTBED: _Testbed | None = None


@events.init.add_listener
def _start(environment: Environment, **_: Any) -> None:
    global TESTBED
    options = environment.parsed_options
    if options is None or not options.heal_run_dir:
        raise SystemExit("--heal-run-dir (or HEAL_LOAD_RUN_DIR): give a run directory")
    TESTBED = _Testbed(RunDir(Path(options.heal_run_dir)), options.heal_as_node)
    # gRPC waits for each call on a thread of gevent's pool (10 by default):
    # with fewer threads than users, calls queue behind slow ones, and a
    # call held by a fault would delay the calls to healthy nodes.
    pool = gevent.get_hub().threadpool
    pool.maxsize = max(pool.maxsize, (options.num_users or 0) + SPARE_THREADS)
    if isinstance(environment.runner, WorkerRunner):
        return
    server, _thread = start_http_server(0, "127.0.0.1", TESTBED.metrics.registry)
    advertise(TESTBED.run, f"127.0.0.1:{server.server_port}", os.getpid())


@events.request.add_listener
def _count(
    response_time: float, exception: BaseException | None, context: Any, **_: Any
) -> None:
    if TESTBED is not None and "node" in (context or {}):
        name = (context["node"], context["rpc"])
        TESTBED.metrics.record(name, response_time / 1000, exception is not None)


@events.spawning_complete.add_listener
def _spawned(user_count: int, **_: Any) -> None:
    if TESTBED is not None:
        TESTBED.metrics.users.set(user_count)


@events.quitting.add_listener
def _stop(environment: Environment, **_: Any) -> None:
    if TESTBED is not None:
        withdraw(TESTBED.run, os.getpid())


class NodeUser(User):
    """A client of the testbed: mostly Predict, now and then Status, each
    time on a node drawn at random from the current list."""

    wait_time = between(0.2, 0.6)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.rng = random.Random()

    @task(4)
    def predict(self) -> None:
        request = heal_pb2.PredictRequest(
            count=PREDICT_SAMPLES, seed=self.rng.randrange(2**31)
        )
        self._call("Predict", request, [])

    @task(1)
    def status(self) -> None:
        assert TESTBED is not None
        auth = [("authorization", f"Bearer {TESTBED.token}")]
        self._call("Status", heal_pb2.StatusRequest(), auth)

    def _call(self, rpc: str, request: Any, metadata: list[tuple[str, str]]) -> None:
        assert TESTBED is not None
        picked = TESTBED.pick(self.rng)
        if picked is None:
            return
        node, address = picked
        node_stub, control_stub = TESTBED.stubs(address)
        if rpc == "Status":
            method = control_stub.Status
        else:
            method = node_stub.Predict
            metadata = metadata + TESTBED.sender()
        started = time.perf_counter()
        exception: BaseException | None = None
        size = 0
        try:
            reply = method(request, timeout=DEADLINE_S, metadata=metadata)
            size = reply.ByteSize()
        except grpc.RpcError as exc:
            exception = exc
        self.environment.events.request.fire(
            request_type="grpc",
            name=request_name(node, rpc),
            response_time=(time.perf_counter() - started) * 1000,
            response_length=size,
            exception=exception,
            context={"node": node, "rpc": rpc},
        )
