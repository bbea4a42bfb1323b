import numpy as np
import pytest
import torch

from node.models import (
    MODEL_NAMES,
    ModelError,
    build_model,
    get_weights,
    set_weights,
    weight_names,
)


def param_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_mlp_shapes_for_mnist():
    model = build_model("mlp", (1, 28, 28), 10)

    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    # 784-100-10 with biases
    assert param_count(model) == 784 * 100 + 100 + 100 * 10 + 10


def test_mlp_fits_other_input_shapes():
    model = build_model("mlp", (1, 8, 8), 10)

    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_lenet5_shapes():
    model = build_model("lenet5", (1, 28, 28), 10)

    assert model(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
    # conv 156 + conv 2416 + fc 48120 + fc 10164 + fc 850
    assert param_count(model) == 61706


def test_lenet5_rejects_other_inputs_and_names_the_fix():
    with pytest.raises(ModelError) as caught:
        build_model("lenet5", (1, 8, 8), 10)

    message = str(caught.value)
    assert "lenet5" in message
    assert "(1, 8, 8)" in message
    assert "use model 'mlp'" in message


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="valid models: mlp, lenet5"):
        build_model("resnet", (1, 28, 28), 10)
    assert MODEL_NAMES == ("mlp", "lenet5")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_weights_round_trip(name):
    torch.manual_seed(0)
    source = build_model(name, (1, 28, 28), 10)
    target = build_model(name, (1, 28, 28), 10)
    inputs = torch.rand(2, 1, 28, 28)

    set_weights(target, get_weights(source))

    torch.testing.assert_close(target(inputs), source(inputs))
    assert len(weight_names(source)) == len(get_weights(source))


def test_get_weights_returns_float32_copies():
    model = build_model("mlp", (1, 8, 8), 10)
    names = weight_names(model)
    weights = get_weights(model)
    before = model.state_dict()[names[0]].clone()

    weights[0][...] = 123.0

    assert all(w.dtype == np.float32 for w in weights)
    assert names == ["1.weight", "1.bias", "3.weight", "3.bias"]
    torch.testing.assert_close(model.state_dict()[names[0]], before)


def test_set_weights_keeps_parameter_objects():
    # An optimizer holds the parameter objects; they must stay the same.
    model = build_model("mlp", (1, 8, 8), 10)
    params = list(model.parameters())
    zeros = [np.zeros_like(w) for w in get_weights(model)]

    set_weights(model, zeros)

    assert all(a is b for a, b in zip(params, model.parameters(), strict=True))
    assert all(float(p.detach().abs().sum()) == 0.0 for p in params)


def test_set_weights_accepts_read_only_arrays():
    model = build_model("mlp", (1, 8, 8), 10)
    decoded = [
        np.frombuffer(w.tobytes(), dtype=np.float32).reshape(w.shape)
        for w in get_weights(model)
    ]

    set_weights(model, decoded)


def test_set_weights_rejects_wrong_count():
    model = build_model("mlp", (1, 8, 8), 10)

    with pytest.raises(ModelError, match="got 3 weight arrays, the model has 4"):
        set_weights(model, get_weights(model)[:3])


def test_set_weights_names_the_mismatched_tensor():
    model = build_model("mlp", (1, 8, 8), 10)
    weights = get_weights(model)
    weights[2] = np.zeros((10, 99), dtype=np.float32)

    with pytest.raises(ModelError, match=r"'3.weight' has shape \(10, 100\)"):
        set_weights(model, weights)
