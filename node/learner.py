"""The node's model, its shard and the test split, safe to use from the event
loop while training runs in a worker thread."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import numpy as np

from node.config import NodeConfig
from node.data import load_meta, load_shard, load_test
from node.models import build_model, get_weights, set_weights, weight_names
from node.training import Trainer, configure_torch


class Learner:
    def __init__(self, config: NodeConfig, data_dir: Path) -> None:
        configure_torch()
        meta = load_meta(data_dir)
        x, y = load_shard(data_dir, config.data_shard)
        self._test_x, self._test_y = load_test(data_dir)
        self._model = build_model(
            config.model, tuple(meta.input_shape), meta.num_classes
        )
        self._trainer = Trainer(
            self._model,
            x,
            y,
            batch_size=config.batch_size,
            lr=config.lr,
            optimizer=config.optimizer,
            weight_decay=config.weight_decay,
            momentum=config.momentum,
            seed=config.seed * 100_003 + config.node_id,
        )
        self.names = weight_names(self._model)
        self.shapes = [w.shape for w in get_weights(self._model)]
        self.samples = self._trainer.samples
        self.train_seconds = 0.0
        self._lock = threading.Lock()

    def weights(self) -> list[np.ndarray]:
        with self._lock:
            return get_weights(self._model)

    def adopt(self, weights: list[np.ndarray]) -> None:
        """Replace the model's weights (a global model or a merge)."""
        with self._lock:
            set_weights(self._model, weights)
            self._trainer.reset_optimizer()

    async def train(self, steps: int) -> float:
        return await asyncio.to_thread(self._train, steps)

    async def evaluate(self) -> tuple[float, float]:
        return await asyncio.to_thread(self._evaluate)

    @property
    def test_set(self) -> tuple[np.ndarray, np.ndarray]:
        return self._test_x, self._test_y

    async def predict(self, x: np.ndarray) -> np.ndarray:
        """Labels for x from the current model. In a thread: a training step
        in progress holds the model, and the event loop must not wait."""
        return await asyncio.to_thread(self._predict, x)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            return self._trainer.predict(x)

    def _train(self, steps: int) -> float:
        with self._lock:
            started = time.perf_counter()
            loss = self._trainer.train(steps)
            self.train_seconds += time.perf_counter() - started
            return loss

    def _evaluate(self) -> tuple[float, float]:
        with self._lock:
            return self._trainer.evaluate(self._test_x, self._test_y)
