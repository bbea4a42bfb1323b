"""One entry point for every fault kind, used by `controller fault` and by
the scenario runner: probe what the kernel offers, apply, clear, expire."""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Any

from controller.backends.base import Backend
from controller.errors import UsageError
from controller.faults.book import ActiveFault, Via, load_book
from controller.faults.churn import Churn, schedule
from controller.faults.engine import LinkFaults, LinkRequest
from controller.faults.events import EventLog
from controller.faults.nodeops import NodeFaults
from controller.rundir import RunDir
from controller.testbed import backend_named
from netem.capabilities import Capabilities, probe
from netem.specs import Churn as ChurnSpec
from netem.specs import spec_class

log = logging.getLogger("controller.faults")

UNDOABLE = ("crash", "pause")


def capabilities(run: RunDir, backend: Backend) -> Capabilities | None:
    """What the kernel of the nodes' namespaces offers, probed in one live
    node (all containers share the host's kernel); None for backends whose
    nodes have no namespace of their own. Saved in the run directory."""
    if backend.name != "docker":
        return None
    state = run.load()
    live = backend.liveness(run, state, memory=False)
    alive = [r.id for r in state.nodes if live[r.id].alive and not live[r.id].paused]
    if not alive:
        # Every node crashed or paused: the last probe still describes the
        # kernel (all containers share the host's).
        cached = _cached_capabilities(run)
        if cached is None:
            raise UsageError("no live node to probe the kernel in")
        return cached
    runner = backend.runners(run, state, alive[:1])[alive[0]]
    caps = probe(runner)
    record = {"probed_at": time.time(), **caps.__dict__}
    (run.path / "capabilities.json").write_text(json.dumps(record, indent=2) + "\n")
    return caps


def _cached_capabilities(run: RunDir) -> Capabilities | None:
    try:
        record = json.loads((run.path / "capabilities.json").read_text())
        record.pop("probed_at", None)
        return Capabilities(**record)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None


class Faults:
    def __init__(
        self,
        run: RunDir,
        backend: Backend | None = None,
        events: EventLog | None = None,
    ) -> None:
        self.run = run
        self.backend = backend or backend_named(run.load().backend)
        self.events = events or EventLog(run.path / "events.jsonl")
        self.caps = capabilities(run, self.backend)
        self._probe_is_fresh = True  # the first fault may use this probe
        self.links = LinkFaults(run, self.backend, self.caps)
        self.nodes = NodeFaults(run, self.backend, self.links)

    def apply(
        self,
        kind: str,
        params: dict[str, Any] | None = None,
        targets: list[int] | None = None,
        *,
        peers: list[int] | None = None,
        groups: list[list[int]] | None = None,
        via: Via = "auto",
        duration_s: float | None = None,
        fault_id: str | None = None,
        step: str | None = None,
    ) -> ActiveFault | None:
        spec_cls = spec_class(kind)
        params = params or {}
        targets = targets or []
        started = time.monotonic()
        fault: ActiveFault | None
        if spec_cls.scope == "link":
            # The kernel's offer is read again before every fault: a module
            # may have been loaded or removed since the testbed came up.
            if not self._probe_is_fresh:
                self.caps = self.links.caps = capabilities(self.run, self.backend)
            self._probe_is_fresh = False
            fault = self.links.apply(
                LinkRequest(
                    kind, params, targets, peers, groups, via, duration_s, fault_id
                )
            )
        elif kind == "crash":
            fault = self.nodes.crash(targets, duration_s, fault_id)
        elif kind == "pause":
            fault = self.nodes.pause(targets, duration_s, fault_id)
        elif kind == "restart":
            self.nodes.restart(targets)
            self.nodes.forget(targets)  # a restart also ends crashes and pauses
            fault = None
        else:
            raise UsageError(f"{kind} runs over time; start it with the churn runner")
        self.events.write(
            "fault_applied",
            fault_id=fault.id if fault else None,
            kind=kind,
            step=step,
            params=params,
            targets=targets if fault is None else fault.targets,
            peers=peers,
            groups=groups,
            mechanisms=fault.mechanisms
            if fault
            else {f"{self.backend.name}:{kind}": targets},
            took_s=round(time.monotonic() - started, 3),
            until=fault.until if fault else None,
        )
        return fault

    def clear(
        self,
        ids: list[str] | None = None,
        kinds: set[str] | None = None,
        step: str | None = None,
    ) -> list[ActiveFault]:
        """Undo faults: the named ones, those of the given kinds, or all."""
        book = load_book(self.run.path)
        chosen = book.faults
        if ids is not None:
            unknown = [i for i in ids if not book.find(i)]
            if unknown:
                known = ", ".join(f.id for f in book.faults) or "none"
                raise UsageError(
                    f"no fault named {', '.join(unknown)}; in force: {known}"
                )
            chosen = [f for f in chosen if f.id in ids]
        if kinds is not None:
            chosen = [f for f in chosen if f.kind in kinds]
        started = time.monotonic()
        for fault in [f for f in chosen if f.kind in UNDOABLE]:
            self.nodes.undo(fault)
        links = [f.id for f in chosen if spec_class(f.kind).scope == "link"]
        if links:
            self.links.clear(links)
        for fault in chosen:
            self.events.write(
                "fault_cleared",
                fault_id=fault.id,
                kind=fault.kind,
                step=step,
                targets=fault.targets,
                mechanisms=fault.mechanisms,
                took_s=round(time.monotonic() - started, 3),
            )
        return chosen

    def expire(self, now: float | None = None) -> list[ActiveFault]:
        """Undo the faults whose `for` has run out."""
        due = load_book(self.run.path).expired(now)
        return self.clear([f.id for f in due]) if due else []

    def start_churn(
        self,
        spec: ChurnSpec,
        duration_s: float,
        default_seed: int,
        fault_id: str,
        step: str | None = None,
    ) -> Churn:
        """Draw the churn's schedule and record its start; churn_step then
        carries out what is due. Nodes that leave stay down: the churn's
        joiners take their place (and their shards)."""
        seed = default_seed if spec.seed is None else spec.seed
        joins = spec.leave_per_min if spec.join_per_min is None else spec.join_per_min
        events = schedule(spec.leave_per_min, joins, duration_s, seed)
        churn = Churn(events, random.Random(seed), time.time(), fault_id=fault_id)
        self.events.write(
            "fault_applied",
            fault_id=fault_id,
            kind="churn",
            step=step,
            params=spec.model_dump(),
            seed=seed,
            duration_s=duration_s,
            leaves=churn.leaves_left(),
            joins=len(events) - churn.leaves_left(),
            mechanisms={f"{self.backend.name}:churn": []},
        )
        return churn

    def end_churn(self, churn: Churn, step: str | None = None) -> None:
        self.events.write(
            "fault_cleared",
            fault_id=churn.fault_id,
            kind="churn",
            step=step,
            left=churn.left,
            joined=churn.joined,
        )

    def churn_step(self, churn: Churn, step: str | None = None) -> list[dict[str, Any]]:
        """Carry out the churn events that are due; return what happened."""
        done = []
        for event in churn.due(time.time()):
            state = self.run.load()
            live = self.backend.liveness(self.run, state, memory=False)
            if event.action == "leave":
                alive = [r.id for r in state.nodes if live[r.id].alive]
                node = churn.pick_leaver(alive)
                if node is None:
                    continue
                self.backend.kill(self.run, state, node)
                churn.left.append(node)
                churn.free_shards.append(_shard_of(self.run, node))
            else:
                settings_nodes = int(state.settings.get("nodes", len(state.nodes)))  # type: ignore[call-overload]
                record = self.nodes.join(churn.rng, churn.take_shard(settings_nodes))
                node = record.id
                churn.joined.append(node)
            done.append(
                self.events.write(
                    "churn",
                    action=event.action,
                    node=node,
                    step=step,
                    mechanisms={f"{self.backend.name}:{event.action}": [node]},
                )
            )
        return done


def _shard_of(run: RunDir, node: int) -> int:
    try:
        config = json.loads((run.node_dir(node) / "config.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return node
    shard = config.get("shard")
    return node if shard is None else int(shard)
