"""SGD and Adam as a node needs them, in PyTorch's formulation.

Not torch.optim: creating a torch optimizer imports torch._dynamo and sympy,
which costs every node process about 1.6 s of CPU and 68 MiB at start (each
container imports torch on its own). These updates are the same arithmetic;
tests/unit/test_optimizers.py checks them against torch.optim.
"""

from __future__ import annotations

import torch


class Sgd:
    """SGD with optional momentum and L2 weight decay."""

    def __init__(
        self,
        params: list[torch.nn.Parameter],
        *,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        self.params = params
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self._velocity: list[torch.Tensor | None] = [None] * len(params)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            grad = p.grad
            if self.weight_decay:
                grad = grad.add(p, alpha=self.weight_decay)
            if self.momentum:
                velocity = self._velocity[i]
                if velocity is None:
                    velocity = self._velocity[i] = grad.clone()
                else:
                    velocity.mul_(self.momentum).add_(grad)
                grad = velocity
            p.add_(grad, alpha=-self.lr)


class Adam:
    """Adam with L2 weight decay added to the gradient (not AdamW)."""

    def __init__(
        self,
        params: list[torch.nn.Parameter],
        *,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.params = params
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self._steps = 0
        self._m = [torch.zeros_like(p) for p in params]
        self._v = [torch.zeros_like(p) for p in params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self._steps += 1
        beta1, beta2 = self.betas
        correction1 = 1 - beta1**self._steps
        correction2 = 1 - beta2**self._steps
        for p, m, v in zip(self.params, self._m, self._v, strict=True):
            if p.grad is None:
                continue
            grad = p.grad
            if self.weight_decay:
                grad = grad.add(p, alpha=self.weight_decay)
            m.mul_(beta1).add_(grad, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (v / correction2).sqrt_().add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / correction1)
