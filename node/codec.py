"""Models on the wire: lists of float32 arrays <-> heal.v1.Model messages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from protos import heal_pb2

_WIRE_DTYPE = np.dtype("<f4")


class CodecError(ValueError):
    """A model message does not match what the receiver expects."""


def encode_model(
    arrays: Sequence[np.ndarray],
    names: Sequence[str],
    *,
    samples: int,
    cycle: int,
    origin: int,
) -> heal_pb2.Model:
    tensors = [
        heal_pb2.Tensor(
            name=name,
            shape=list(array.shape),
            data=np.ascontiguousarray(array, dtype=_WIRE_DTYPE).tobytes(),
        )
        for name, array in zip(names, arrays, strict=True)
    ]
    return heal_pb2.Model(tensors=tensors, samples=samples, cycle=cycle, origin=origin)


def decode_model(
    message: heal_pb2.Model, expected_shapes: Sequence[tuple[int, ...]] | None = None
) -> list[np.ndarray]:
    """Arrays of a model message; checks shapes against expected_shapes if given."""
    arrays = []
    for tensor in message.tensors:
        shape = tuple(tensor.shape)
        count = int(np.prod(shape)) if shape else 1
        if len(tensor.data) != count * _WIRE_DTYPE.itemsize:
            raise CodecError(
                f"tensor {tensor.name!r}: {len(tensor.data)} bytes for shape {shape}"
            )
        array = np.frombuffer(tensor.data, dtype=_WIRE_DTYPE).reshape(shape)
        arrays.append(array.astype(np.float32, copy=True))
    if expected_shapes is not None:
        got = [a.shape for a in arrays]
        if got != [tuple(s) for s in expected_shapes]:
            raise CodecError(
                f"model from node {message.origin} has shapes {got}, "
                f"expected {list(expected_shapes)}"
            )
    return arrays
