"""Node faults: crash, pause, restart, and fresh nodes joining (churn).

Crashes and pauses are recorded in the book, so that `fault clear` can undo
them (restart, unpause) from any shell. A node that comes back has lost its
kernel and in-node link state, so the link faults in force are pushed to it
again once it answers.
"""

from __future__ import annotations

import logging
import random
import time

from controller.backends.base import Backend
from controller.control import ControlClient
from controller.errors import UsageError
from controller.faults import sync
from controller.faults.book import ActiveFault, load_book, save_book
from controller.faults.engine import FaultError, LinkFaults
from controller.monitoring import discovery
from controller.plan import TestbedSettings, node_config
from controller.rundir import NodeRecord, RunDir

log = logging.getLogger("controller.faults")

RETURN_TIMEOUT_S = 120.0  # for a restarted node to answer again


class NodeFaults:
    def __init__(self, run: RunDir, backend: Backend, links: LinkFaults) -> None:
        self.run = run
        self.backend = backend
        self.links = links

    def crash(
        self,
        ids: list[int],
        duration_s: float | None = None,
        fault_id: str | None = None,
    ) -> ActiveFault:
        return self._record("crash", ids, self.backend.kill, duration_s, fault_id)

    def pause(
        self,
        ids: list[int],
        duration_s: float | None = None,
        fault_id: str | None = None,
    ) -> ActiveFault:
        return self._record("pause", ids, self.backend.pause, duration_s, fault_id)

    def _record(self, kind, ids, act, duration_s, fault_id) -> ActiveFault:  # type: ignore[no-untyped-def]
        book = load_book(self.run.path)
        busy = {
            n for f in book.faults if f.kind in ("crash", "pause") for n in f.targets
        }
        clash = sorted(busy & set(ids))
        if clash:
            raise UsageError(
                f"{kind}: nodes {clash} are already crashed or paused; clear that "
                "fault first"
            )
        state = self.run.load()
        known = {r.id for r in state.nodes}
        unknown = sorted(set(ids) - known)
        if unknown:
            raise UsageError(f"{kind}: no nodes {unknown} in this testbed")
        for node in ids:
            act(self.run, state, node)
        now = time.time()
        fault = ActiveFault(
            id=fault_id or book.new_id(kind),
            kind=kind,
            targets=sorted(ids),
            mechanisms={f"{self.backend.name}:{kind}": sorted(ids)},
            applied_at=now,
            until=None if duration_s is None else now + duration_s,
        )
        book.faults.append(fault)
        save_book(self.run.path, book)
        discovery.refresh(self.run)
        return fault

    def undo(self, fault: ActiveFault) -> None:
        """Restart crashed nodes, unpause paused ones; forget the fault."""
        if fault.kind == "crash":
            self.restart(fault.targets)
        elif fault.kind == "pause":
            state = self.run.load()
            for node in fault.targets:
                self.backend.unpause(self.run, state, node)
        book = load_book(self.run.path)
        book.faults = [f for f in book.faults if f.id != fault.id]
        save_book(self.run.path, book)

    def forget(self, ids: list[int]) -> None:
        """Drop the given nodes from the crashes and pauses in force."""
        book = load_book(self.run.path)
        for fault in [f for f in book.faults if f.kind in ("crash", "pause")]:
            fault.targets = [n for n in fault.targets if n not in ids]
            if not fault.targets:
                book.faults.remove(fault)
        save_book(self.run.path, book)

    def restart(self, ids: list[int]) -> None:
        """Start the nodes again (same id, address and data) and give them the
        link faults in force once they answer."""
        state = self.run.load()
        for node in ids:
            self.backend.restart(self.run, state, node)
        self._wait_answering(ids)
        book = load_book(self.run.path)
        for node in ids:
            book.kernel_applied[node] = sync.UNKNOWN
            book.innode_applied[node] = sync.UNKNOWN
        self.links.sync(book)
        discovery.refresh(self.run)

    def _wait_answering(self, ids: list[int]) -> None:
        state = self.run.load()
        addresses = {r.id: r.address for r in state.nodes if r.id in ids}
        deadline = time.monotonic() + RETURN_TIMEOUT_S
        with ControlClient(self.run.token()) as client:
            while True:
                replies = client.status(addresses, timeout=2.0)
                waiting = sorted(n for n, r in replies.items() if r.status is None)
                if not waiting:
                    return
                if time.monotonic() > deadline:
                    raise FaultError(
                        f"nodes {waiting} did not answer within "
                        f"{RETURN_TIMEOUT_S:.0f} s of being started again; see "
                        "`controller logs`"
                    )
                time.sleep(0.5)

    def join(self, rng: random.Random, shard: int) -> NodeRecord:
        """A fresh node (new id) joins, training on the given shard and
        knowing a few live nodes to start from."""
        state = self.run.load()
        settings = TestbedSettings.model_validate(state.settings)
        live = self.backend.liveness(self.run, state, memory=False)
        alive = [r for r in state.nodes if live[r.id].alive]
        contacts = rng.sample(alive, min(len(alive), 8))
        # A fedavg client must know its server, alive or not.
        server = settings.fedavg_server
        if server is not None and server not in {r.id for r in contacts}:
            contacts += [r for r in state.nodes if r.id == server]

        def config_for(placement):  # type: ignore[no-untyped-def]
            return node_config(
                settings,
                node_id=max(r.id for r in state.nodes) + 1,
                address=placement.address,
                bind=(placement.bind_host, placement.port, placement.metrics_port),
                peers=[(r.id, r.address) for r in contacts],
                data_dir=self.run.data_dir.resolve(),
                token_file=self.run.token_file.resolve(),
                pace_s=self.backend.pace_s,
                shard=shard,
            )

        record = self.backend.add_node(self.run, state, settings, config_for)
        self._wait_answering([record.id])
        self.links.sync(load_book(self.run.path))  # new peer: kernel peer lists
        discovery.refresh(self.run)
        return record
