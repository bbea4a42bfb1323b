"""The models a node trains, and their weights as plain numpy arrays.

Weights travel between nodes as a list of float32 arrays in
``state_dict()`` order; both ends build the same model from the same name,
so names and shapes line up without being sent.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from node.config import LENET5_INPUT_SHAPE

MODEL_NAMES: tuple[str, ...] = ("mlp", "lenet5")


class ModelError(ValueError):
    """A model name, input shape or weight list that does not fit."""


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """Build a freshly initialised model by name."""
    if name not in MODEL_NAMES:
        valid = ", ".join(MODEL_NAMES)
        raise ModelError(f"unknown model {name!r}; valid models: {valid}")
    if not input_shape or any(d < 1 for d in input_shape):
        raise ModelError(
            f"input shape {tuple(input_shape)} for model {name!r} must be "
            "non-empty with positive sizes"
        )
    if num_classes < 2:
        raise ModelError(
            f"num_classes={num_classes} for model {name!r}; need at least 2"
        )

    if name == "mlp":
        return _mlp(math.prod(input_shape), num_classes)
    if tuple(input_shape) != LENET5_INPUT_SHAPE:
        raise ModelError(
            f"model 'lenet5' needs input shape {LENET5_INPUT_SHAPE}, got "
            f"{tuple(input_shape)}; use model 'mlp' for this dataset"
        )
    return _lenet5(num_classes)


def _mlp(in_features: int, num_classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(in_features, 100),
        nn.ReLU(),
        nn.Linear(100, num_classes),
    )


def _lenet5(num_classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2),  # 6 x 28 x 28
        nn.ReLU(),
        nn.MaxPool2d(2),  # 6 x 14 x 14
        nn.Conv2d(6, 16, kernel_size=5),  # 16 x 10 x 10
        nn.ReLU(),
        nn.MaxPool2d(2),  # 16 x 5 x 5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def weight_names(model: nn.Module) -> list[str]:
    """The names of the model's tensors, in the order of ``get_weights``."""
    return list(model.state_dict().keys())


def get_weights(model: nn.Module) -> list[np.ndarray]:
    """Copy the model's tensors out as float32 arrays."""
    return [
        t.detach().cpu().numpy().astype(np.float32, copy=True)
        for t in model.state_dict().values()
    ]


def set_weights(model: nn.Module, arrays: list[np.ndarray]) -> None:
    """Copy arrays into the model's tensors, in place.

    In place, so an optimizer built on the model keeps pointing at its
    parameters.
    """
    state = model.state_dict()
    if len(arrays) != len(state):
        raise ModelError(
            f"got {len(arrays)} weight arrays, the model has {len(state)} tensors"
        )
    for (name, tensor), array in zip(state.items(), arrays, strict=True):
        if tuple(array.shape) != tuple(tensor.shape):
            raise ModelError(
                f"tensor {name!r} has shape {tuple(tensor.shape)}, "
                f"got an array of shape {tuple(array.shape)}"
            )

    # torch.tensor copies: arrays decoded from a message are often read-only,
    # which torch.from_numpy warns about.
    with torch.no_grad():
        for tensor, array in zip(state.values(), arrays, strict=True):
            tensor.copy_(torch.tensor(array, dtype=tensor.dtype))
