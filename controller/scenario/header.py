"""A scenario's testbed header: what `controller up` would be given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from controller.datasets import INPUT_SHAPES
from controller.plan import TestbedSettings
from node.config import LENET5_INPUT_SHAPE, NodeConfig, Protocol

STRICT = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

# NodeConfig fields that the controller sets for each node itself.
PER_NODE = frozenset(
    {
        "node_id",
        "bind_host",
        "port",
        "advertise",
        "metrics_port",
        "token_file",
        "peers",
        "data_dir",
        "seed",
        "shard",
    }
)
# Node settings that the header has keys of its own for.
HEADER_KEYS = ("model", "protocol", "cycle_period_s", "overlay_period_s")


def _node_settings_model() -> type[BaseModel]:
    """NodeConfig's settings that a scenario may give, with their defaults and
    bounds; checked together (h + standby < c ...) by TestbedSettings."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in NodeConfig.model_fields.items()
        if name not in PER_NODE and name not in HEADER_KEYS
    }
    return create_model("NodeSettings", __config__=STRICT, **fields)


if TYPE_CHECKING:
    NodeSettings = BaseModel
else:
    NodeSettings = _node_settings_model()


class TestbedHeader(BaseModel):
    """The testbed a scenario runs on."""

    __test__ = False  # a name pytest would otherwise try to collect

    model_config = STRICT

    nodes: int = Field(ge=2, le=1000)
    backend: Literal["auto", "docker", "process"] = "auto"
    protocol: Protocol = "heal"
    dataset: Literal["mnist5k", "digits"] = "mnist5k"
    partition: Literal["iid", "dirichlet"] = "iid"
    alpha: float | None = Field(None, gt=0, description="dirichlet only")
    model: Literal["mlp", "lenet5"] = "mlp"
    cycle_period_s: float | None = Field(None, gt=0, description="default: paced")
    overlay_period_s: float | None = Field(None, gt=0)
    node_settings: NodeSettings = Field(
        default_factory=NodeSettings,
        alias="set",
        description="node settings for every node (python -m node --help)",
    )

    @field_validator("node_settings", mode="before")
    @classmethod
    def _no_header_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in HEADER_KEYS:
                if key in value:
                    raise ValueError(
                        f"{key} has a testbed key of its own: write testbed.{key}"
                    )
        return value

    @model_validator(mode="after")
    def _settings_valid(self) -> TestbedHeader:
        if self.alpha is not None and self.partition != "dirichlet":
            raise ValueError("alpha applies to partition: dirichlet only")
        shape = INPUT_SHAPES[self.dataset]
        if self.model == "lenet5" and shape != LENET5_INPUT_SHAPE:
            raise ValueError(
                f"model lenet5 needs {LENET5_INPUT_SHAPE} images; dataset "
                f"{self.dataset} has {shape}: use model: mlp or dataset: mnist5k"
            )
        # The same checks as `up`: first the node settings together, then the rest.
        identity = {"node_id": 0, "port": 1, "data_dir": "."}
        for check in (
            lambda: NodeConfig.model_validate({**self.node(), **identity}),
            self.settings,
        ):
            try:
                check()
            except ValidationError as exc:
                raise ValueError(_describe(exc)) from None
        return self

    def node(self) -> dict[str, Any]:
        """The settings every node gets, as `up --set` would give them."""
        header = {
            "model": self.model,
            "protocol": self.protocol,
            "cycle_period_s": self.cycle_period_s,
            "overlay_period_s": self.overlay_period_s,
        }
        given = self.node_settings.model_dump(exclude_unset=True)
        return {**{k: v for k, v in header.items() if v is not None}, **given}

    def settings(self, seed: int = 0, base_port: int = 47000) -> TestbedSettings:
        """What `controller up` takes, for this header."""
        return TestbedSettings(
            nodes=self.nodes,
            dataset=self.dataset,
            partition=self.partition,
            alpha=0.5 if self.alpha is None else self.alpha,
            seed=seed,
            base_port=base_port,
            node=self.node(),
        )


def _describe(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        message = str(e["msg"]).removeprefix("Value error, ")
        loc = ".".join(map(str, e["loc"]))
        parts.append(f"set.{loc}: {message}" if loc else message)
    return "; ".join(parts)
