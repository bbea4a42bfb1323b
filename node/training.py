"""Local training and evaluation of a node's model on its shard."""

from __future__ import annotations

import logging
from typing import Literal, get_args

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from node.optimizers import Adam, Sgd

logger = logging.getLogger(__name__)

OptimizerName = Literal["sgd", "adam"]
OPTIMIZERS: tuple[str, ...] = get_args(OptimizerName)


def configure_torch() -> None:
    """Run torch on one thread; many nodes share a machine's cores.

    Safe to call more than once: torch refuses a second interop setting.
    """
    torch.set_num_threads(1)
    if torch.get_num_interop_threads() == 1:
        return
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError as exc:
        logger.warning(
            "torch interop threads stay at %d, set too late: %s",
            torch.get_num_interop_threads(),
            exc,
        )


class Trainer:
    """Trains a model in place on one shard with minibatch steps."""

    def __init__(
        self,
        model: nn.Module,
        x: np.ndarray,
        y: np.ndarray,
        *,
        batch_size: int,
        lr: float,
        optimizer: OptimizerName,
        weight_decay: float,
        momentum: float,
        seed: int,
    ) -> None:
        _check_settings(len(x), len(y), batch_size, lr, optimizer, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum={momentum}; need 0 <= momentum < 1")
        self.model = model
        # from_numpy shares memory with the shard; only batches are copied.
        self._x = torch.from_numpy(np.asarray(x, dtype=np.float32))
        self._y = torch.from_numpy(np.asarray(y, dtype=np.int64))
        self._batch_size = min(batch_size, len(x))
        self._lr = lr
        self._optimizer_name = optimizer
        self._weight_decay = weight_decay
        self._momentum = momentum
        self._generator = torch.Generator().manual_seed(seed)
        self._order = torch.empty(0, dtype=torch.int64)
        self._cursor = 0
        self.reset_optimizer()

    @property
    def samples(self) -> int:
        """Number of training samples in the shard."""
        return len(self._x)

    def reset_optimizer(self) -> None:
        """Start from a fresh optimizer state, e.g. after adopting an aggregate."""
        self._optimizer = self._make_optimizer()

    def train(self, steps: int) -> float:
        """Run ``steps`` minibatch steps; return the mean training loss."""
        if steps < 1:
            raise ValueError(f"steps={steps}; need at least 1")
        self.model.train()
        total = torch.zeros(())
        for _ in range(steps):
            index = self._next_batch()
            loss = F.cross_entropy(self.model(self._x[index]), self._y[index])
            self._optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self._optimizer.step()
            total += loss.detach()
        return float(total) / steps

    def evaluate(
        self, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
    ) -> tuple[float, float]:
        """Return (accuracy, mean cross-entropy loss) of the model on x, y."""
        if len(x) == 0 or len(x) != len(y):
            raise ValueError(
                f"need equal, non-zero x and y lengths, got {len(x)} and {len(y)}"
            )
        xs = torch.from_numpy(np.asarray(x, dtype=np.float32))
        ys = torch.from_numpy(np.asarray(y, dtype=np.int64))
        was_training = self.model.training
        self.model.eval()
        correct = 0
        loss_sum = 0.0
        try:
            with torch.no_grad():
                for start in range(0, len(xs), batch_size):
                    logits = self.model(xs[start : start + batch_size])
                    labels = ys[start : start + batch_size]
                    loss_sum += float(F.cross_entropy(logits, labels, reduction="sum"))
                    correct += int((logits.argmax(dim=1) == labels).sum())
        finally:
            self.model.train(was_training)
        return correct / len(xs), loss_sum / len(xs)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The class the model gives each sample of x, as int32."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                logits = self.model(torch.from_numpy(np.asarray(x, dtype=np.float32)))
        finally:
            self.model.train(was_training)
        return logits.argmax(dim=1).numpy().astype(np.int32)

    def _make_optimizer(self) -> Sgd | Adam:
        params = list(self.model.parameters())
        if self._optimizer_name == "adam":
            return Adam(params, lr=self._lr, weight_decay=self._weight_decay)
        return Sgd(
            params,
            lr=self._lr,
            momentum=self._momentum,
            weight_decay=self._weight_decay,
        )

    def _next_batch(self) -> torch.Tensor:
        # Passes without replacement, each a fresh permutation; the tail that
        # does not fill a batch is skipped for that pass.
        if self._cursor + self._batch_size > len(self._order):
            self._order = torch.randperm(self.samples, generator=self._generator)
            self._cursor = 0
        batch = self._order[self._cursor : self._cursor + self._batch_size]
        self._cursor += self._batch_size
        return batch


def _check_settings(
    n_x: int, n_y: int, batch_size: int, lr: float, optimizer: str, decay: float
) -> None:
    if n_x == 0 or n_x != n_y:
        raise ValueError(f"need equal, non-zero x and y lengths, got {n_x} and {n_y}")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}; need at least 1")
    if not lr > 0:
        raise ValueError(f"lr={lr}; need a positive learning rate")
    if optimizer not in OPTIMIZERS:
        valid = ", ".join(OPTIMIZERS)
        raise ValueError(f"unknown optimizer {optimizer!r}; valid: {valid}")
    if decay < 0:
        raise ValueError(f"weight_decay={decay}; need >= 0")
