"""Serving: the batch a Predict request asks about, and the reply.

A request either names samples of the node's own test split (a count and a
seed, so that a load generator needs no data) or carries the features
itself. Both end as one float32 batch in the model's input shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protos import heal_pb2

MAX_SAMPLES = 1024  # a batch beyond this is a mistake, not a load test


class PredictError(ValueError):
    """A Predict request that cannot be served as it is."""


@dataclass(frozen=True)
class Batch:
    x: np.ndarray  # float32, (count, *input_shape)
    y: np.ndarray | None  # the true labels when drawn from the test split


def batch_for(
    request: heal_pb2.PredictRequest, test_x: np.ndarray, test_y: np.ndarray
) -> Batch:
    count = request.count
    if not 1 <= count <= MAX_SAMPLES:
        raise PredictError(f"count={count}; give 1 to {MAX_SAMPLES} samples")
    shape = test_x.shape[1:]
    if not request.features:
        picks = np.random.default_rng(request.seed).integers(0, len(test_x), count)
        return Batch(test_x[picks], test_y[picks])

    per_sample = int(np.prod(shape)) * 4
    if len(request.features) != count * per_sample:
        raise PredictError(
            f"features hold {len(request.features)} bytes; {count} samples of "
            f"shape {tuple(shape)} as float32 need {count * per_sample}"
        )
    x = np.frombuffer(request.features, dtype="<f4").reshape(count, *shape)
    if not np.isfinite(x).all():
        raise PredictError("features hold NaN or infinity; give finite values")
    return Batch(x.astype(np.float32), None)


def reply_for(batch: Batch, labels: np.ndarray, cycle: int) -> heal_pb2.PredictReply:
    correct = 0 if batch.y is None else int((labels == batch.y).sum())
    return heal_pb2.PredictReply(labels=labels.tolist(), correct=correct, cycle=cycle)
