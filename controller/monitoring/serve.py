"""The testbed exporter: every period it looks at the testbed (liveness,
node status, faults in force, event log), keeps the node discovery file
current, appends an observation to its own log and serves the snapshot to
Prometheus. It ends by itself once the testbed is down or gone."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from typing import Any

import psutil
from prometheus_client import CollectorRegistry, start_http_server

from controller.backends.base import Backend
from controller.control import ControlClient
from controller.errors import ControllerError
from controller.faults.book import FaultBook, load_book
from controller.monitoring import discovery, recovery, snapshot
from controller.monitoring.collector import TestbedCollector
from controller.monitoring.paths import (
    monitor_file,
    observations_file,
    read_json,
    write_json,
)
from controller.rundir import RunDir
from controller.testbed import backend_named, views

log = logging.getLogger("controller.monitor")

STATUS_TIMEOUT_S = 3.0


class Monitor:
    def __init__(self, run: RunDir, period_s: float) -> None:
        self.run = run
        self.period_s = period_s
        self.collector = TestbedCollector()
        state = run.load()
        self.started = state.created
        self.backend: Backend = backend_named(state.backend)
        self.observations: list[dict[str, Any]] = []
        self.stopping = threading.Event()

    def look(self) -> snapshot.Snapshot | None:
        """One look; None when the testbed is down or its state is gone."""
        try:
            state = self.run.load()
        except ControllerError:
            return None
        if state.phase == "down":
            return None
        live = self.backend.liveness(self.run, state, memory=False)
        discovery.write_nodes(self.run, state, live)
        addresses = {
            r.id: r.address
            for r in state.nodes
            if live[r.id].alive and not live[r.id].paused
        }
        with ControlClient(self.run.token()) as client:
            replies = client.status(addresses, timeout=STATUS_TIMEOUT_S)
        now = time.time()
        snap = snapshot.take(now, views(state, replies, live), live, _book(self.run))
        self._record(snap)
        records = recovery.read_records(self.run.path / "events.jsonl")
        snap.event_counts = recovery.event_counts(records)
        snap.recovery = recovery.figures(
            records, self.observations, self.started, self.run.path
        )
        return snap

    def _record(self, snap: snapshot.Snapshot) -> None:
        record = {
            "epoch": round(snap.epoch, 3),
            "elapsed_s": round(snap.epoch - self.started, 3),
            "event": "observe",
            **snap.observation(),
        }
        self.observations.append(record)
        path = observations_file(self.run)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def loop(self) -> None:
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                snap = self.look()
            except Exception:
                log.exception("looking at the testbed failed; trying again")
            else:
                if snap is None:
                    log.info("testbed %s is down; the exporter ends", self.run.name)
                    return
                self.collector.snapshot = snap
            self.stopping.wait(max(0.0, self.period_s - (time.monotonic() - began)))


def serve(run: RunDir, host: str, port: int, period_s: float) -> None:
    """Serve until the testbed is down or SIGTERM/SIGINT arrives."""
    monitor = Monitor(run, period_s)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(monitor.collector)
    server, _thread = start_http_server(port, addr=host, registry=registry)
    address = f"{host}:{server.server_port}"
    state = run.load()
    write_json(
        monitor_file(run),
        {
            "pid": os.getpid(),
            "started": psutil.Process().create_time(),
            "address": address,
            "period_s": period_s,
        },
    )
    discovery.write_exporter(run, state, address)
    log.info("serving %s metrics on http://%s/metrics", run.name, address)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: monitor.stopping.set())
    try:
        monitor.loop()
    finally:
        server.shutdown()
        mine = read_json(monitor_file(run)) or {}
        if mine.get("pid") == os.getpid():  # else another has taken over
            discovery.remove(run)
            monitor_file(run).unlink(missing_ok=True)


def _book(run: RunDir) -> FaultBook:
    try:
        return load_book(run.path)
    except ControllerError:  # unreadable: `fault list` says so; serve none
        return FaultBook()
