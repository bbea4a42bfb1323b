"""Our SGD and Adam take the same steps as torch.optim's."""

from __future__ import annotations

import pytest
import torch

from node.optimizers import Adam, Sgd


def _run(make, steps: int = 5) -> list[torch.Tensor]:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3)
    )
    optimizer = make(list(model.parameters()))
    x, y = torch.randn(8, 6), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda p: Sgd(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (
            lambda p: Sgd(p, lr=0.1, momentum=0.9, weight_decay=0.01),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
        ),
        (lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        (
            lambda p: Adam(p, lr=0.01, weight_decay=0.01),
            lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01),
        ),
    ],
)
def test_same_steps_as_torch_optim(ours, theirs) -> None:  # type: ignore[no-untyped-def]
    for mine, reference in zip(_run(ours), _run(theirs), strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-5, atol=1e-6)
