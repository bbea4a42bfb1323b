import numpy as np
import pytest
import torch

from controller.datasets import load_dataset, split_train_test
from node.models import build_model, get_weights, set_weights
from node.training import Trainer, configure_torch


@pytest.fixture(scope="module")
def digits():
    configure_torch()
    x, y = load_dataset("digits")
    return split_train_test(x, y, test_fraction=0.25, seed=0)


def make_trainer(split, optimizer="sgd", lr=0.1, seed=0) -> Trainer:
    torch.manual_seed(0)
    model = build_model("mlp", (1, 8, 8), 10)
    return Trainer(
        model,
        split.x_train,
        split.y_train,
        batch_size=32,
        lr=lr,
        optimizer=optimizer,
        weight_decay=0.0,
        momentum=0.9 if optimizer == "sgd" else 0.0,
        seed=seed,
    )


def test_configure_torch_can_be_called_twice():
    configure_torch()
    configure_torch()

    assert torch.get_num_threads() == 1


@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 0.05), ("adam", 1e-3)])
def test_training_learns_digits(digits, optimizer, lr):
    trainer = make_trainer(digits, optimizer, lr)
    accuracy_before, _ = trainer.evaluate(digits.x_test, digits.y_test)

    first_loss = trainer.train(20)
    for _ in range(14):
        last_loss = trainer.train(20)
    accuracy, loss = trainer.evaluate(digits.x_test, digits.y_test)

    # Ten classes: chance is 0.1.
    assert accuracy_before < 0.3
    assert accuracy > 0.85
    assert last_loss < first_loss
    assert 0 < loss < 1


def test_same_seed_same_run(digits):
    losses = [make_trainer(digits, seed=7).train(30) for _ in range(2)]
    other = make_trainer(digits, seed=8).train(30)

    assert losses[0] == losses[1]
    assert other != losses[0]


def test_training_continues_after_adopting_weights(digits):
    trainer = make_trainer(digits)
    trainer.train(50)
    fresh = build_model("mlp", (1, 8, 8), 10)

    set_weights(trainer.model, get_weights(fresh))
    trainer.reset_optimizer()
    trainer.train(200)

    accuracy, _ = trainer.evaluate(digits.x_test, digits.y_test)
    assert accuracy > 0.8


def test_evaluate_restores_train_mode_and_does_not_train(digits):
    trainer = make_trainer(digits)
    before = get_weights(trainer.model)

    trainer.evaluate(digits.x_test, digits.y_test, batch_size=100)

    assert trainer.model.training
    for old, new in zip(before, get_weights(trainer.model), strict=True):
        np.testing.assert_array_equal(old, new)


def test_batches_smaller_shards_than_batch_size(digits):
    trainer = Trainer(
        build_model("mlp", (1, 8, 8), 10),
        digits.x_train[:5],
        digits.y_train[:5],
        batch_size=32,
        lr=0.1,
        optimizer="sgd",
        weight_decay=0.0,
        momentum=0.0,
        seed=0,
    )

    assert trainer.samples == 5
    assert trainer.train(3) > 0


def test_samples_counts_the_shard(digits):
    assert make_trainer(digits).samples == len(digits.y_train)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"optimizer": "rmsprop"}, "valid: sgd, adam"),
        ({"lr": 0.0}, "lr=0.0"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"momentum": 1.0}, "momentum=1.0"),
        ({"weight_decay": -0.1}, "weight_decay=-0.1"),
    ],
)
def test_bad_settings_are_rejected(digits, change, message):
    settings = {
        "batch_size": 32,
        "lr": 0.1,
        "optimizer": "sgd",
        "weight_decay": 0.0,
        "momentum": 0.0,
        "seed": 0,
    }
    settings.update(change)
    model = build_model("mlp", (1, 8, 8), 10)

    with pytest.raises(ValueError, match=message):
        Trainer(model, digits.x_train, digits.y_train, **settings)


def test_train_rejects_zero_steps(digits):
    with pytest.raises(ValueError, match="steps=0"):
        make_trainer(digits).train(0)
