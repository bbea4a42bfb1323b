"""Scenario steps: one model per action, told apart by `do`.

Each fault kind of netem.specs.REGISTRY gets a step model whose parameters
are the spec's own fields, so that they show in the JSON Schema; the spec
class validates them again, so that a spec's own checks apply too. Whether
a step's keys make sense for its action (`peers`, `groups`, `for`...) is
checks.py's business, where the message can say why.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    model_validator,
)

from controller.load.run import (
    DEFAULT_SPAWN_RATE,
    MAX_SPAWN_RATE,
    MAX_USERS,
    MIN_SPAWN_RATE,
)
from controller.scenario.fields import GroupSelector, NodeSelector, StepId
from netem.specs import REGISTRY, FaultSpec

CONTROL_ACTIONS = ("clear", "heal", "unpause")


class StepBase(BaseModel):
    """What every step has: when, what, on which nodes, for how long."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        json_schema_extra={"oneOf": [{"required": ["at"]}, {"required": ["at_cycle"]}]},
    )

    at: float | None = Field(None, ge=0, description="seconds from the start")
    at_cycle: int | None = Field(
        None, ge=0, description="the cycle the majority of nodes has reached"
    )
    id: StepId | None = Field(None, description="a name that `clear` can refer to")
    do: str
    on: NodeSelector | None = Field(
        None, description="required for node faults; default all for link faults"
    )
    for_s: float | None = Field(
        None, gt=0, alias="for", description="seconds until the fault is undone"
    )
    via: Literal["auto", "kernel", "innode"] = Field(
        "auto", description="how a link fault is applied"
    )
    peers: NodeSelector | None = Field(
        None, description="per-link kinds: only traffic to these nodes"
    )
    groups: list[GroupSelector] | None = Field(
        None, description="partition only: 2+ groups; rest = nodes in no other group"
    )

    # Where the step is in the file; set when the scenario is read.
    _index: int = PrivateAttr(0)
    _line: int = PrivateAttr(0)

    @model_validator(mode="after")
    def _one_time(self) -> StepBase:
        if (self.at is None) == (self.at_cycle is None):
            given = "both" if self.at is not None else "neither"
            raise ValueError(
                f"give exactly one of at (seconds) and at_cycle (cycle number); "
                f"{given} given"
            )
        return self

    @property
    def index(self) -> int:
        """The step's position in the file, from 0."""
        return self._index

    @property
    def line(self) -> int:
        """The step's line in the file (0 when not read from a file)."""
        return self._line

    @property
    def when(self) -> str:
        return (
            f"at {self.at:g} s" if self.at is not None else f"at cycle {self.at_cycle}"
        )

    @property
    def spec(self) -> FaultSpec | None:
        """The fault's spec; None for clear, heal and unpause."""
        return None

    @property
    def span_s(self) -> float:
        """Seconds the step lasts after it starts (0: it takes effect at once)."""
        return self.for_s or 0.0

    def label(self) -> str:
        """How messages name the step: its id, else its place in the file."""
        return repr(self.id) if self.id else f"steps[{self.index}] ({self.do})"


class ClearStep(StepBase):
    """End every link fault, or only the steps listed by id."""

    do: Literal["clear"]
    faults: list[StepId] | None = Field(None, min_length=1)


class HealStep(StepBase):
    """End every partition."""

    do: Literal["heal"]


class UnpauseStep(StepBase):
    """Resume paused nodes."""

    do: Literal["unpause"]


class LoadStep(StepBase):
    """Locust calls Predict and Status on the nodes for duration_s, in the
    background: later steps run while it goes on."""

    do: Literal["load"]
    users: int = Field(ge=1, le=MAX_USERS, description="Locust users")
    spawn_rate: float = Field(
        DEFAULT_SPAWN_RATE,
        ge=MIN_SPAWN_RATE,
        le=MAX_SPAWN_RATE,
        description="users started per second, as `controller load` by default",
    )
    duration_s: float = Field(ge=1, description="seconds of load")
    as_node: int | None = Field(
        None, ge=0, description="call as if from this node (in-node faults apply)"
    )

    @property
    def span_s(self) -> float:
        return self.duration_s


class FaultStep(StepBase):
    """A fault of a kind in netem.specs.REGISTRY, its parameters inline."""

    @model_validator(mode="after")
    def _spec_valid(self) -> FaultStep:
        try:
            self.spec  # noqa: B018 - validates the parameters with the spec class
        except ValidationError as exc:
            raise ValueError("; ".join(str(e["msg"]) for e in exc.errors())) from None
        return self

    @property
    def spec(self) -> FaultSpec:
        spec_class = REGISTRY[self.do]
        return spec_class.model_validate(
            self.model_dump(include=set(spec_class.model_fields))
        )


def _fault_step(kind: str, spec_class: type[FaultSpec]) -> type[FaultStep]:
    params: dict[str, Any] = {
        name: (info.annotation, info) for name, info in spec_class.model_fields.items()
    }
    return create_model(
        f"{spec_class.__name__}Step",
        __base__=FaultStep,
        __doc__=spec_class.__doc__ or f"A {kind} fault.",
        do=(Literal[kind], ...),  # type: ignore[arg-type] # a name known at run time
        **params,
    )


STEP_MODELS: dict[str, type[StepBase]] = {
    **{kind: _fault_step(kind, cls) for kind, cls in REGISTRY.items()},
    "clear": ClearStep,
    "heal": HealStep,
    "unpause": UnpauseStep,
    "load": LoadStep,
}
ACTIONS = tuple(STEP_MODELS)

if TYPE_CHECKING:
    Step = StepBase
else:
    Step = Annotated[
        functools.reduce(operator.or_, STEP_MODELS.values()),
        Field(discriminator="do"),
    ]


def step_keys(do: str) -> list[str]:
    """The keys a step of this action takes, as written in files."""
    model = STEP_MODELS[do]
    return [info.alias or name for name, info in model.model_fields.items()]


def parameters(do: str) -> list[str]:
    """A fault kind's own parameters (none for control actions)."""
    return list(REGISTRY[do].model_fields) if do in REGISTRY else []
