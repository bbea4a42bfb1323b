"""Models on the wire: round trip, and what the receiver refuses."""

from __future__ import annotations

import numpy as np
import pytest

from node.codec import CodecError, decode_model, encode_model
from node.models import build_model, get_weights, set_weights, weight_names
from protos import heal_pb2


def test_model_round_trips_through_serialized_bytes() -> None:
    model = build_model("mlp", (1, 28, 28), 10)
    weights = get_weights(model)
    message = encode_model(weights, weight_names(model), samples=80, cycle=7, origin=3)
    received = heal_pb2.Model.FromString(message.SerializeToString())

    arrays = decode_model(received, [w.shape for w in weights])
    assert (received.samples, received.cycle, received.origin) == (80, 7, 3)
    assert [t.name for t in received.tensors] == weight_names(model)
    for sent, got in zip(weights, arrays, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(sent, got)

    other = build_model("mlp", (1, 28, 28), 10)
    set_weights(other, arrays)
    np.testing.assert_array_equal(get_weights(other)[0], weights[0])


def test_wire_format_is_little_endian_float32() -> None:
    message = encode_model(
        [np.array([1.5, -2.0], dtype=np.float64)], ["w"], samples=1, cycle=0, origin=0
    )
    assert message.tensors[0].data == np.array([1.5, -2.0], dtype="<f4").tobytes()
    assert list(message.tensors[0].shape) == [2]


def test_shape_mismatch_is_refused() -> None:
    message = encode_model([np.zeros((2, 3))], ["w"], samples=1, cycle=0, origin=5)
    with pytest.raises(CodecError, match="node 5"):
        decode_model(message, [(3, 2)])


def test_truncated_tensor_is_refused() -> None:
    message = encode_model([np.zeros((2, 3))], ["w"], samples=1, cycle=0, origin=0)
    message.tensors[0].data = message.tensors[0].data[:-4]
    with pytest.raises(CodecError, match="'w'"):
        decode_model(message)
