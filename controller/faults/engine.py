"""Apply and clear link faults on a running testbed.

Every change follows the same path: update the book of faults in force,
compose every node's target state, push what changed (reading each change
back), and save. A push that fails is undone before the error is raised, so
a failed `apply` leaves the testbed as it was.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from controller.backends.base import Backend
from controller.control import ControlClient
from controller.errors import ControllerError, UsageError
from controller.faults import sync
from controller.faults.book import ActiveFault, FaultBook, Via, load_book, save_book
from controller.faults.compose import compose
from controller.faults.mechanism import choose
from controller.rundir import RunDir
from netem.capabilities import Capabilities
from netem.specs import spec_class

log = logging.getLogger("controller.faults")


class FaultError(ControllerError):
    """A fault could not be applied or cleared on some nodes."""


@dataclass(frozen=True)
class LinkRequest:
    kind: str
    params: dict[str, Any]
    targets: list[int]
    peers: list[int] | None = None
    groups: list[list[int]] | None = None
    via: Via = "auto"
    duration_s: float | None = None
    fault_id: str | None = None


class LinkFaults:
    def __init__(
        self, run: RunDir, backend: Backend, caps: Capabilities | None
    ) -> None:
        self.run = run
        self.backend = backend
        self.caps = caps  # None: nodes share the host's namespace

    def apply(self, request: LinkRequest) -> ActiveFault:
        spec_cls = spec_class(request.kind)
        if spec_cls.scope != "link":
            raise UsageError(f"{request.kind} is a node fault, not a link fault")
        try:
            params = spec_cls.model_validate(request.params).model_dump()
        except ValidationError as exc:
            raise UsageError(f"{request.kind}: {exc.errors()[0]['msg']}") from exc
        if request.groups is not None and sum(bool(g) for g in request.groups) < 2:
            raise UsageError(
                f"partition: {request.groups} has fewer than two non-empty groups"
            )
        mechanism = choose(
            request.kind,
            request.via,
            request.peers is not None,
            self.caps,
            correlated=bool(params.get("correlation_pct")),
        )

        book = load_book(self.run.path)
        fault_id = request.fault_id or book.new_id(request.kind)
        if book.find(fault_id):
            raise UsageError(f"a fault named {fault_id!r} is already in force")
        targets = sorted(
            set().union(*map(set, request.groups))
            if request.groups
            else request.targets
        )
        _check_conflicts(book, request, targets)
        now = time.time()
        fault = ActiveFault(
            id=fault_id,
            kind=request.kind,
            params=params,
            targets=targets,
            peers=request.peers,
            groups=request.groups,
            via=request.via,
            mechanisms={mechanism: targets},
            applied_at=now,
            until=None if request.duration_s is None else now + request.duration_s,
        )
        book.faults.append(fault)
        try:
            self.sync(book)
        except BaseException:
            # Failed or interrupted (Ctrl-C): back to the state before it.
            book.faults.remove(fault)
            self.sync(book)
            raise
        return fault

    def clear(self, ids: list[str] | None = None) -> list[ActiveFault]:
        """Clear the named faults (all link faults when ids is None)."""
        book = load_book(self.run.path)
        links = [f for f in book.faults if spec_class(f.kind).scope == "link"]
        if ids is not None:
            unknown = [i for i in ids if not book.find(i)]
            if unknown:
                known = ", ".join(f.id for f in links) or "none"
                raise UsageError(
                    f"no fault named {', '.join(unknown)}; in force: {known}"
                )
            links = [f for f in links if f.id in ids]
        for fault in links:
            book.faults.remove(fault)
        self.sync(book)
        return links

    def sync(self, book: FaultBook) -> None:
        """Push the book to the nodes and save it, whatever succeeded."""
        state = self.run.load()
        live = self.backend.liveness(self.run, state, memory=False)
        addresses = {r.id: r.address for r in state.nodes}
        reachable = {
            n: a for n, a in addresses.items() if live[n].alive and not live[n].paused
        }
        links = [f for f in book.faults if spec_class(f.kind).scope == "link"]
        targets = compose(links, addresses)
        book.version += 1
        errors: dict[int, str] = {}
        kernel_stale = (
            [
                n
                for n in sync.changed(
                    targets,
                    book.kernel_applied,
                    lambda t: sync.kernel_fingerprint(t.kernel),
                )
                if n in reachable
            ]
            if self.caps is not None
            else []
        )
        rules_stale = [
            n
            for n in sync.changed(
                targets, book.innode_applied, lambda t: sync.rules_fingerprint(t.rules)
            )
            if n in reachable
        ]
        # Until a node confirms its new state, what it holds is unknown: an
        # interrupted or failed push is then redone by the next change.
        for n in kernel_stale:
            book.kernel_applied[n] = sync.UNKNOWN
        for n in rules_stale:
            book.innode_applied[n] = sync.UNKNOWN
        save_book(self.run.path, book)

        if kernel_stale:
            runners = self.backend.runners(self.run, state, kernel_stale)
            plans = {n: targets[n].kernel for n in kernel_stale}
            _, kernel_errors = sync.push_kernel(plans, runners)
            errors.update(kernel_errors)
            for n in kernel_stale:
                if n not in kernel_errors:
                    book.kernel_applied[n] = sync.kernel_fingerprint(plans[n])
        if rules_stale:
            with ControlClient(self.run.token()) as client:
                rule_errors = sync.push_rules(
                    client,
                    {n: reachable[n] for n in rules_stale},
                    targets,
                    book.version,
                )
            errors.update({n: e for n, e in rule_errors.items() if n not in errors})
            for n in rules_stale:
                if n not in rule_errors:
                    book.innode_applied[n] = sync.rules_fingerprint(targets[n].rules)

        save_book(self.run.path, book)
        if errors:
            shown = "; ".join(f"node {n}: {e}" for n, e in sorted(errors.items())[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise FaultError(
                f"{len(errors)} nodes did not take the change: {shown}{more}"
            )


def _check_conflicts(book: FaultBook, request: LinkRequest, targets: list[int]) -> None:
    """Two faults of one kind on the same link would fight over one setting."""
    if request.kind == "partition":
        return
    for other in book.faults:
        if other.kind != request.kind:
            continue
        shared = set(other.targets) & set(targets)
        if not shared:
            continue
        mine = None if request.peers is None else set(request.peers)
        theirs = None if other.peers is None else set(other.peers)
        if mine is None or theirs is None or mine & theirs:
            raise UsageError(
                f"{request.kind} on nodes {sorted(shared)[:8]} is already set by "
                f"fault {other.id}; clear it first: controller fault clear {other.id}"
            )
