"""The files a node reads its data from, prepared by the controller.

A run's data directory holds:

    meta.json          DataMeta as JSON
    test.npz           x float32 (N, C, H, W) in [0, 1], y int64
    shard-{id:03d}.npz the same, one per node

Only numpy here: a node holds its shard in memory and nothing more.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

META_FILE = "meta.json"
TEST_FILE = "test.npz"

_HOW_TO_FIX = "the controller writes these files; `controller up` prepares a run's data"


class DataError(Exception):
    """A data file that is missing or does not hold what it should."""


class MissingDataError(DataError, FileNotFoundError):
    """A data file that is not there."""


@dataclass(frozen=True)
class DataMeta:
    """What the controller prepared; ``alpha`` is None for an IID partition."""

    dataset: str
    num_classes: int
    input_shape: tuple[int, ...]
    partition: str
    alpha: float | None
    seed: int
    train_size: int
    test_size: int
    shard_sizes: tuple[int, ...]

    def to_json(self) -> str:
        """The meta.json text, with tuples written as lists."""
        return json.dumps(asdict(self), indent=2) + "\n"


def shard_file(node_id: int) -> str:
    """File name of a node's shard."""
    if node_id < 0:
        raise ValueError(f"node_id={node_id}; need >= 0")
    return f"shard-{node_id:03d}.npz"


def load_meta(data_dir: Path) -> DataMeta:
    """Read meta.json from a run's data directory."""
    path = Path(data_dir) / META_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise MissingDataError(f"no data description at {path}: {_HOW_TO_FIX}") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}; {_HOW_TO_FIX}") from exc

    try:
        return DataMeta(
            dataset=str(raw["dataset"]),
            num_classes=int(raw["num_classes"]),
            input_shape=tuple(int(d) for d in raw["input_shape"]),
            partition=str(raw["partition"]),
            alpha=None if raw["alpha"] is None else float(raw["alpha"]),
            seed=int(raw["seed"]),
            train_size=int(raw["train_size"]),
            test_size=int(raw["test_size"]),
            shard_sizes=tuple(int(n) for n in raw["shard_sizes"]),
        )
    except KeyError as exc:
        raise DataError(f"{path} lacks key {exc}; {_HOW_TO_FIX}") from exc
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path} holds a malformed value: {exc}") from exc


def load_shard(data_dir: Path, node_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Read one node's training shard as (x, y)."""
    return _load_xy(Path(data_dir) / shard_file(node_id))


def load_test(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the test set every node evaluates on, as (x, y)."""
    return _load_xy(Path(data_dir) / TEST_FILE)


def _load_xy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            x, y = arrays["x"], arrays["y"]
    except FileNotFoundError as exc:
        raise MissingDataError(f"no data file at {path}: {_HOW_TO_FIX}") from exc
    except KeyError as exc:
        raise DataError(f"{path} lacks array {exc}; it needs 'x' and 'y'") from exc
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc

    if x.dtype != np.float32 or y.dtype != np.int64 or x.ndim != 4 or y.ndim != 1:
        raise DataError(
            f"{path} holds x {x.dtype}{x.shape} and y {y.dtype}{y.shape}; "
            "need x float32 (N, C, H, W) and y int64 (N,)"
        )
    if len(x) != len(y):
        raise DataError(f"{path} holds {len(x)} images but {len(y)} labels")
    return x, y
