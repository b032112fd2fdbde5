"""Optimiser steps against PyTorch's, in float64, over several steps (the oracle is torch.optim)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradtrace.core.optimizers import OPTIMIZERS, SGD, Adam, Momentum, make_optimizer

STEPS = 7
TOLERANCE = 1e-10


def _gradients(seed: int, shape: tuple[int, ...], steps: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(steps)]


CASES: list[tuple[str, dict[str, float], dict[str, float]]] = [
    # (name, gradtrace hyperparameters, torch keyword arguments)
    ("sgd", {}, {}),
    ("sgd", {"weight_decay": 0.01}, {"weight_decay": 0.01}),
    ("momentum", {"momentum": 0.9}, {"momentum": 0.9}),
    ("momentum", {"momentum": 0.5, "weight_decay": 0.1}, {"momentum": 0.5, "weight_decay": 0.1}),
    ("adam", {}, {}),
    (
        "adam",
        {"beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6, "weight_decay": 0.05},
        {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05},
    ),
]


@pytest.mark.torch
@pytest.mark.parametrize(("name", "ours", "theirs"), CASES)
@pytest.mark.parametrize("scratch", [False, True])
def test_steps_match_torch(name: str, ours: dict[str, float], theirs: dict[str, Any],
                           scratch: bool) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    W0, b0 = rng.normal(size=(4, 3)), rng.normal(size=4)
    grads_W, grads_b = _gradients(1, (4, 3), STEPS), _gradients(2, (4,), STEPS)
    learning_rate = 0.05

    W, b = W0.copy(), b0.copy()
    optimizer = make_optimizer(name, learning_rate, **ours)
    tW = torch.tensor(W0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    torch_class = torch.optim.Adam if name == "adam" else torch.optim.SGD
    torch_optimizer = torch_class([tW, tb], lr=learning_rate, **theirs)
    for gW, gb in zip(grads_W, grads_b, strict=True):
        optimizer.update("W1", W, gW.copy(), grad_is_scratch=scratch)
        optimizer.update("b1", b, gb.copy(), grad_is_scratch=scratch)
        tW.grad, tb.grad = torch.tensor(gW), torch.tensor(gb)
        torch_optimizer.step()
        np.testing.assert_allclose(W, tW.detach().numpy(), rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(b, tb.detach().numpy(), rtol=0, atol=TOLERANCE)


def test_sgd_keeps_its_in_place_semantics() -> None:
    W = np.ones((2, 2))
    same = W
    grad = np.full((2, 2), 2.0)
    SGD(0.1).update("W1", W, grad)
    assert same is W
    np.testing.assert_array_equal(W, np.full((2, 2), 0.8))
    np.testing.assert_array_equal(grad, np.full((2, 2), 2.0))  # not scratch: left alone


def test_momentum_is_pytorch_convention_by_hand() -> None:
    # v1 = g1 = 1, θ1 = 0 - 0.1·1 = -0.1; v2 = 0.9·1 + 1 = 1.9, θ2 = -0.1 - 0.19 = -0.29
    theta = np.zeros(1)
    optimizer = Momentum(0.1, momentum=0.9)
    optimizer.update("b1", theta, np.ones(1))
    optimizer.update("b1", theta, np.ones(1))
    np.testing.assert_allclose(theta, [-0.29])


def test_adam_first_step_is_learning_rate_times_sign() -> None:
    theta = np.zeros(3)
    Adam(0.01).update("W1", theta, np.array([3.0, -0.5, 2e-3]))
    np.testing.assert_allclose(theta, [-0.01, 0.01, -0.01], rtol=1e-5)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_round_trip_continues_identically(name: str) -> None:
    grads = _gradients(3, (3, 2), 6)
    straight = make_optimizer(name, 0.1, momentum=0.9, weight_decay=0.01)
    W_straight = np.ones((3, 2))
    for g in grads:
        straight.update("W1", W_straight, g)

    first = make_optimizer(name, 0.1, momentum=0.9, weight_decay=0.01)
    W = np.ones((3, 2))
    for g in grads[:3]:
        first.update("W1", W, g)
    saved = {k: np.array(v) for k, v in first.state_arrays().items()}
    second = make_optimizer(name, 0.1, momentum=0.9, weight_decay=0.01)
    second.load_state_arrays(saved)
    for g in grads[3:]:
        second.update("W1", W, g)
    np.testing.assert_array_equal(W, W_straight)


def test_adam_state_includes_the_step_count() -> None:
    optimizer = Adam(0.1)
    optimizer.update("W1", np.zeros(2), np.ones(2))
    optimizer.update("W1", np.zeros(2), np.ones(2))
    assert int(optimizer.state_arrays()["t.W1"]) == 2


def test_make_optimizer_ignores_unused_hyperparameters() -> None:
    optimizer = make_optimizer("sgd", 0.5, momentum=0.9, beta1=0.8)
    assert isinstance(optimizer, SGD) and optimizer.learning_rate == 0.5
    with pytest.raises(KeyError):
        make_optimizer("rmsprop", 0.1)
