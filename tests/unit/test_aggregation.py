import numpy as np
import pytest

from node.aggregation import AggregationError, average, weights_for


def model(*values: float) -> list[np.ndarray]:
    """A two-tensor model whose tensors are filled with the given values."""
    first, second = values if len(values) == 2 else (values[0], values[0])
    return [
        np.full((2, 3), first, dtype=np.float32),
        np.full((4,), second, dtype=np.float32),
    ]


def test_weighted_mean_of_two_models():
    # (1 * 0 + 3 * 4) / (1 + 3) = 3
    result = average([model(0.0), model(4.0)], [1.0, 3.0])

    assert [t.shape for t in result] == [(2, 3), (4,)]
    np.testing.assert_array_equal(result[0], np.full((2, 3), 3.0))
    np.testing.assert_array_equal(result[1], np.full((4,), 3.0))


def test_each_tensor_is_averaged_on_its_own():
    # first tensors (2 * 1 + 2 * 3) / 4 = 2, second (2 * 10 + 2 * 30) / 4 = 20
    result = average([model(1.0, 10.0), model(3.0, 30.0)], [2.0, 2.0])

    np.testing.assert_array_equal(result[0], np.full((2, 3), 2.0))
    np.testing.assert_array_equal(result[1], np.full((4,), 20.0))


@pytest.mark.parametrize("weights", [None, "uniform"])
def test_uniform_mean(weights):
    # (0 + 4 + 8) / 3 = 4
    result = average([model(0.0), model(4.0), model(8.0)], weights)

    np.testing.assert_array_equal(result[0], np.full((2, 3), 4.0))


def test_weights_need_not_be_normalised():
    small = average([model(0.0), model(4.0)], [0.25, 0.75])
    large = average([model(0.0), model(4.0)], [100.0, 300.0])

    np.testing.assert_allclose(small[0], large[0])


def test_zero_weight_drops_a_model():
    result = average([model(0.0), model(4.0)], [0.0, 5.0])

    np.testing.assert_array_equal(result[0], np.full((2, 3), 4.0))


def test_output_is_float32_and_inputs_unchanged():
    models = [[np.arange(6, dtype=np.float64).reshape(2, 3)] for _ in range(2)]

    result = average(models, [1.0, 1.0])

    assert result[0].dtype == np.float32
    np.testing.assert_array_equal(models[0][0], np.arange(6).reshape(2, 3))


def test_single_model_is_returned_as_is():
    result = average([model(1.5, -2.0)], None)

    np.testing.assert_array_equal(result[1], np.full((4,), -2.0))


def test_empty_input_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        average([], None)


def test_mismatched_shapes_are_rejected():
    other = model(1.0)
    other[1] = np.zeros((5,), dtype=np.float32)

    with pytest.raises(ValueError, match=r"tensor 1 of model 1 has shape \(5,\)"):
        average([model(0.0), other], None)


def test_mismatched_tensor_counts_are_rejected():
    with pytest.raises(ValueError, match="model 1 has 1 tensors"):
        average([model(0.0), model(0.0)[:1]], None)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([0.0, 0.0], "positive total"),
        ([-1.0, 2.0], "weight -1.0 of model 0"),
        ([1.0], "1 weights for 2 models"),
        ([1.0, float("nan")], "finite"),
    ],
)
def test_bad_weights_are_rejected(weights, message):
    with pytest.raises(AggregationError, match=message):
        average([model(0.0), model(4.0)], weights)


def test_weights_for_samples_and_uniform():
    assert weights_for([10, 30, 0], "samples") == [10.0, 30.0, 0.0]
    assert weights_for([10, 30, 0], "uniform") == [1.0, 1.0, 1.0]


def test_weights_for_feeds_a_fedavg_mean():
    weights = weights_for([100, 300], "samples")

    result = average([model(0.0), model(4.0)], weights)

    np.testing.assert_array_equal(result[0], np.full((2, 3), 3.0))


def test_weights_for_rejects_bad_input():
    with pytest.raises(ValueError, match="valid: samples, uniform"):
        weights_for([1], "median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sample count -3"):
        weights_for([1, -3], "samples")
