"""What can be wrong with a scenario file."""

from __future__ import annotations

from dataclasses import dataclass

from controller.errors import UsageError

Loc = tuple[str | int, ...]


class ScenarioError(UsageError):
    """A scenario file is unreadable or invalid; the message names the file,
    the line and the field, says what is wrong and what is valid. Exit code 2:
    nothing was started."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at a field path as pydantic writes locations:
    ("steps", 2, "delay_ms") is steps[2].delay_ms."""

    loc: Loc
    message: str
