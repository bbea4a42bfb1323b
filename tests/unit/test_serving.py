"""Predict's domain side: the batch a request names, and the reply."""

from __future__ import annotations

import re

import numpy as np
import pytest

from node.serving import MAX_SAMPLES, PredictError, batch_for, reply_for
from protos import heal_pb2

SHAPE = (1, 2, 3)
Split = tuple[np.ndarray, np.ndarray]


@pytest.fixture
def test_split() -> Split:
    rng = np.random.default_rng(0)
    x = rng.random((50, *SHAPE), dtype=np.float32)
    return x, np.arange(50, dtype=np.int64) % 10


def test_drawn_samples_follow_the_seed_and_keep_their_labels(test_split: Split) -> None:
    x, y = test_split
    first = batch_for(heal_pb2.PredictRequest(count=8, seed=3), x, y)
    again = batch_for(heal_pb2.PredictRequest(count=8, seed=3), x, y)
    other = batch_for(heal_pb2.PredictRequest(count=8, seed=4), x, y)
    assert first.x.shape == (8, *SHAPE) and first.y is not None
    assert np.array_equal(first.x, again.x)
    assert not np.array_equal(first.x, other.x)
    # Each drawn row carries the label of the same row of the split.
    for row, label in zip(first.x, first.y, strict=True):
        (index,) = [i for i in range(len(x)) if np.array_equal(x[i], row)]
        assert y[index] == label


def test_given_features_are_read_as_float32_rows(test_split: Split) -> None:
    x, y = test_split
    rows = np.arange(2 * 6, dtype="<f4").reshape(2, *SHAPE)
    request = heal_pb2.PredictRequest(count=2, features=rows.tobytes())
    batch = batch_for(request, x, y)
    assert batch.y is None and np.array_equal(batch.x, rows)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (heal_pb2.PredictRequest(count=0), "count=0; give 1 to"),
        (heal_pb2.PredictRequest(count=MAX_SAMPLES + 1), f"give 1 to {MAX_SAMPLES}"),
        (
            heal_pb2.PredictRequest(count=2, features=b"\0" * 8),
            "features hold 8 bytes; 2 samples of shape (1, 2, 3) as float32 need 48",
        ),
        (
            heal_pb2.PredictRequest(
                count=1, features=np.full(6, np.nan, "<f4").tobytes()
            ),
            "NaN or infinity",
        ),
    ],
)
def test_bad_requests_say_what_is_valid(
    request_: heal_pb2.PredictRequest, message: str, test_split: Split
) -> None:
    with pytest.raises(PredictError, match=re.escape(message)):
        batch_for(request_, *test_split)


def test_reply_counts_the_right_labels_of_drawn_samples(test_split: Split) -> None:
    x, y = test_split
    batch = batch_for(heal_pb2.PredictRequest(count=10, seed=1), x, y)
    assert batch.y is not None
    labels = batch.y.astype(np.int32).copy()
    labels[:3] = (labels[:3] + 1) % 10
    reply = reply_for(batch, labels, cycle=12)
    assert reply.correct == 7 and reply.cycle == 12
    assert list(reply.labels) == labels.tolist()
