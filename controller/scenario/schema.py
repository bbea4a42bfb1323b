"""The scenario model: a testbed header and a timeline of steps."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from controller.plan import TestbedSettings
from controller.rundir import CURRENT
from controller.scenario.fields import NAME_PATTERN
from controller.scenario.header import TestbedHeader
from controller.scenario.steps import Step, StepBase

# Run this long after the last step ends when duration_s is not given.
TAIL_S = 60.0


class Scenario(BaseModel):
    """A scenario file, validated. Steps are in time order: steps timed in
    seconds sorted by `at` (file order among equals), then the at_cycle steps
    in file order; `step.index` and `step.line` say where each was written."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False
    )

    name: str = Field(pattern=NAME_PATTERN, description="also the testbed's name")
    description: str = ""
    seed: int = Field(0, ge=0, lt=2**31, description="seeds selectors and churn")
    testbed: TestbedHeader
    duration_s: float | None = Field(
        None, gt=0, description="run length; default: the last step's end + 60 s"
    )
    observe_period_s: float = Field(
        1.0, gt=0, description="how often the runner samples status"
    )
    steps: list[Step] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _not_current(cls, name: str) -> str:
        if name == CURRENT:
            raise ValueError(f"{CURRENT!r} is reserved for the newest run directory")
        return name

    @field_validator("steps")
    @classmethod
    def _in_time_order(cls, steps: list[StepBase]) -> list[StepBase]:
        for index, step in enumerate(steps):
            step._index = index
        timed = sorted((s for s in steps if s.at is not None), key=_at)
        return timed + [s for s in steps if s.at is None]

    @property
    def timed_steps(self) -> list[StepBase]:
        """Steps at a time in seconds, in time order."""
        return [s for s in self.steps if s.at is not None]

    @property
    def cycle_steps(self) -> list[StepBase]:
        """Steps at a cycle number, in file order."""
        return [s for s in self.steps if s.at_cycle is not None]

    @property
    def end_s(self) -> float:
        """When the run ends, in seconds from its start. A scenario with
        at_cycle steps must give duration_s (checks.py says so)."""
        if self.duration_s is not None:
            return self.duration_s
        ends = [_at(s) + s.span_s for s in self.timed_steps]
        return max(ends, default=0.0) + TAIL_S

    def settings(self, base_port: int = 47000) -> TestbedSettings:
        """What `controller up` takes for this scenario's testbed."""
        return self.testbed.settings(seed=self.seed, base_port=base_port)


def _at(step: StepBase) -> float:
    assert step.at is not None
    return step.at


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of scenario files, every fault kind with its parameters."""
    schema = Scenario.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "HEAL testbed scenario",
        **{k: v for k, v in schema.items() if k != "title"},
    }
