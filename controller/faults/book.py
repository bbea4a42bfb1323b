"""The faults in force on a testbed, kept in the run directory so that
`fault list`, `fault clear` and `down` work from any shell."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from controller.errors import NoTestbedError
from netem.specs import FaultSpec, spec_class

Via = Literal["auto", "kernel", "innode"]


class ActiveFault(BaseModel):
    """One applied fault, with its targets resolved to node ids."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    params: dict[str, Any] = {}
    targets: list[int]  # the nodes it acts on (every group member for partitions)
    peers: list[int] | None = None  # per-link: only traffic to these nodes
    groups: list[list[int]] | None = None  # partitions
    via: Via = "auto"
    # How each part was applied, e.g. {"kernel:iptables": [0, 1], "innode": [2]}.
    mechanisms: dict[str, list[int]] = {}
    applied_at: float  # epoch seconds
    until: float | None = None  # epoch seconds, when `for` was given

    def spec(self) -> FaultSpec:
        return spec_class(self.kind).model_validate(self.params)


class FaultBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faults: list[ActiveFault] = []
    counter: int = 0  # for fault ids: f1, f2, ...
    version: int = 0  # bumped on every change; sent to in-node fault sets
    # Fingerprints of what each node was last given (see faults/sync.py).
    kernel_applied: dict[int, str] = {}
    innode_applied: dict[int, str] = {}

    def new_id(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}-{self.counter}"

    def find(self, fault_id: str) -> ActiveFault | None:
        return next((f for f in self.faults if f.id == fault_id), None)

    def expired(self, now: float | None = None) -> list[ActiveFault]:
        now = time.time() if now is None else now
        return [f for f in self.faults if f.until is not None and f.until <= now]


def book_file(run_path: Path) -> Path:
    return run_path / "faults.json"


def load_book(run_path: Path) -> FaultBook:
    path = book_file(run_path)
    try:
        return FaultBook.model_validate_json(path.read_text())
    except FileNotFoundError:
        return FaultBook()
    except (ValidationError, json.JSONDecodeError, OSError) as exc:
        raise NoTestbedError(
            f"{path} is unreadable ({type(exc).__name__}); remove it to forget "
            "the recorded faults, then `controller fault clear --all`"
        ) from exc


def save_book(run_path: Path, book: FaultBook) -> None:
    path = book_file(run_path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(book.model_dump_json(indent=2) + "\n")
    tmp.replace(path)
