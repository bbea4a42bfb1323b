"""Averaging models: what a hub does with the models it collected.

A model is a list of float32 arrays (see node.models.get_weights). The
average is taken tensor by tensor, each as one numpy call.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np

Weighting = Literal["samples", "uniform"]
WEIGHTINGS: tuple[str, ...] = get_args(Weighting)


class AggregationError(ValueError):
    """Models or weights that cannot be averaged."""


def weights_for(samples: list[int], weighting: Weighting) -> list[float]:
    """Per-model weights: by sample count (FedAvg) or equal."""
    if weighting not in WEIGHTINGS:
        raise AggregationError(
            f"unknown weighting {weighting!r}; valid: {', '.join(WEIGHTINGS)}"
        )
    for i, count in enumerate(samples):
        if count < 0:
            raise AggregationError(f"model {i} has sample count {count}; need >= 0")
    if weighting == "uniform":
        return [1.0] * len(samples)
    return [float(count) for count in samples]


def average(
    models: list[list[np.ndarray]],
    weights: list[float] | Literal["uniform"] | None,
) -> list[np.ndarray]:
    """Weighted mean of the models, tensor by tensor, as float32.

    Weights are normalised here, so sample counts can be passed as they are;
    None or "uniform" gives every model the same weight.
    """
    if not models:
        raise AggregationError("cannot average an empty list of models")
    _check_shapes(models)
    normalised = _normalise(weights, len(models))

    averaged = []
    for tensors in zip(*models, strict=True):
        # Stacking makes one (n_models, ...) array; tensordot then contracts
        # the model axis in float64 before casting back.
        stacked = np.stack(tensors)
        mean = np.tensordot(normalised, stacked, axes=1)
        averaged.append(mean.astype(np.float32, copy=False))
    return averaged


def _normalise(
    weights: list[float] | Literal["uniform"] | None, n_models: int
) -> np.ndarray:
    if weights is None or weights == "uniform":
        return np.full(n_models, 1.0 / n_models)
    if isinstance(weights, str):
        raise AggregationError(
            f"weights must be a list of numbers, None or 'uniform', got {weights!r}"
        )
    if len(weights) != n_models:
        raise AggregationError(
            f"got {len(weights)} weights for {n_models} models; need one per model"
        )
    for i, weight in enumerate(weights):
        if not math.isfinite(weight) or weight < 0:
            raise AggregationError(
                f"weight {weight!r} of model {i} must be finite and >= 0"
            )
    total = math.fsum(weights)
    if total <= 0:
        raise AggregationError(
            f"the {n_models} weights sum to {total}; need a positive total"
        )
    return np.asarray(weights, dtype=np.float64) / total


def _check_shapes(models: list[list[np.ndarray]]) -> None:
    reference = [np.shape(t) for t in models[0]]
    for i, model in enumerate(models[1:], start=1):
        if len(model) != len(reference):
            raise AggregationError(
                f"model {i} has {len(model)} tensors, model 0 has {len(reference)}"
            )
        for j, (tensor, shape) in enumerate(zip(model, reference, strict=True)):
            if np.shape(tensor) != shape:
                raise AggregationError(
                    f"tensor {j} of model {i} has shape {np.shape(tensor)}, "
                    f"model 0 has {shape}"
                )
