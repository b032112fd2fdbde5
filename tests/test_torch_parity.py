"""The engine against PyTorch autograd in float64: cost, every gradient, and SGD's new weights.

The torch side is written from the definitions (W is (n_out, n_in) as in torch.nn.Linear):
half_sse = ½ Σ over outputs, mean over the batch; mse = mean over all elements;
binary cross-entropy = mean over all elements; cross-entropy = mean over the batch of -Σ y log a.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import Case, cases
from gradtrace.core.activations import get_activation
from gradtrace.core.backprop import train_step
from gradtrace.core.network import MLP, backward, forward
from gradtrace.core.optimizers import SGD
from gradtrace.spec import load_spec

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch

TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}


def _activate(name: str, z: Any, params: Mapping[str, float]) -> Any:
    slope = params.get("slope", 0.01)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "leaky_relu":
        return F.leaky_relu(z, negative_slope=slope)
    if name == "linear":
        return z
    modules = {
        "elu": lambda: torch.nn.ELU(alpha=params.get("alpha", 1.0)),
        "gelu": lambda: torch.nn.GELU(approximate="none"),
        "gelu_tanh": lambda: torch.nn.GELU(approximate="tanh"),
        # torch's default threshold 20 returns z itself above 20 (off by e^(-z) < 2.1e-9): ours is
        # log(1 + e^z) exactly, so compare with torch's own formula everywhere
        "silu": torch.nn.SiLU, "softplus": lambda: torch.nn.Softplus(threshold=600),
        "hardtanh": torch.nn.Hardtanh,
    }
    if name in modules:
        return modules[name]()(z)
    assert name == "softmax"
    return torch.softmax(z, dim=1)


def _torch_cost(loss: str, output: str, z: Any, a: Any, y: Any) -> Any:
    if loss == "half_sse":
        return 0.5 * ((a - y) ** 2).sum(dim=1).mean()
    if loss == "mse":
        return ((a - y) ** 2).mean()
    if loss == "mae":
        return torch.nn.L1Loss(reduction="mean")(a, y)
    if loss == "binary_cross_entropy":
        if output == "sigmoid":
            return F.binary_cross_entropy_with_logits(z, y)
        return F.binary_cross_entropy(a, y)
    log_a = torch.log_softmax(z, dim=1) if output == "softmax" else F.logsigmoid(z)
    return -(y * log_a).sum(dim=1).mean()


class TorchNet:
    """The same network as torch leaf tensors."""

    def __init__(self, mlp: MLP) -> None:
        self.mlp = mlp
        self.W = [torch.tensor(ly.W, dtype=torch.float64, requires_grad=True) for ly in mlp.layers]
        self.b = [torch.tensor(ly.b, dtype=torch.float64, requires_grad=True) for ly in mlp.layers]

    def cost(self, X: np.ndarray, Y: np.ndarray) -> Any:
        a = torch.tensor(X, dtype=torch.float64)
        z = a
        for W, b, layer in zip(self.W, self.b, self.mlp.layers, strict=True):
            z = a @ W.T + b
            a = _activate(layer.activation.name, z, layer.activation.params)
        y = torch.tensor(Y, dtype=torch.float64)
        return _torch_cost(self.mlp.loss.name, self.mlp.layers[-1].activation.name, z, a, y)

    def trained(self) -> list[Any]:
        params = []
        for W, b, layer in zip(self.W, self.b, self.mlp.layers, strict=True):
            if layer.trainable:
                params.append(W)
                if self.mlp.train_biases:
                    params.append(b)
        return params


def _assert_gradients_match(mlp: MLP, X: np.ndarray, Y: np.ndarray) -> None:
    net = TorchNet(mlp)
    cost = net.cost(X, Y)
    cost.backward()
    grads = backward(mlp, forward(mlp, X), Y)
    np.testing.assert_allclose(grads.cost, cost.item(), **TOLERANCE)
    for l in range(1, len(mlp.layers) + 1):
        np.testing.assert_allclose(grads.grad_W[l], net.W[l - 1].grad.numpy(), **TOLERANCE,
                                   err_msg=f"grad_W{l}")
        np.testing.assert_allclose(grads.grad_b[l], net.b[l - 1].grad.numpy(), **TOLERANCE,
                                   err_msg=f"grad_b{l}")


def _assert_steps_match(mlp: MLP, X: np.ndarray, Y: np.ndarray, learning_rate: float,
                        steps: int) -> None:
    net = TorchNet(mlp)
    trained = net.trained()
    optimizer = torch.optim.SGD(trained, lr=learning_rate) if trained else None
    ours = SGD(learning_rate)
    for step in range(steps):
        result = train_step(mlp, X, Y, ours)
        if optimizer is not None:
            optimizer.zero_grad()
        cost = net.cost(X, Y)
        cost.backward()
        # the cost is of the weights before this step's update
        np.testing.assert_allclose(result.cost, cost.item(), **TOLERANCE, err_msg=f"step {step}")
        if optimizer is not None:
            optimizer.step()
        for l, layer in enumerate(mlp.layers, start=1):
            np.testing.assert_allclose(layer.W, net.W[l - 1].detach().numpy(), **TOLERANCE,
                                       err_msg=f"W{l} after step {step}")
            np.testing.assert_allclose(layer.b, net.b[l - 1].detach().numpy(), **TOLERANCE,
                                       err_msg=f"b{l} after step {step}")
            np.testing.assert_array_equal(result.new[l - 1][0], layer.W)


def _not_clipped(case: Case) -> bool:
    """The unfused probability losses clip a to [eps, 1 - eps]; torch clamps logs differently."""
    if (case.loss, case.activations[-1]) not in {("binary_cross_entropy", "softmax"),
                                                 ("cross_entropy", "sigmoid")}:
        return True
    a = forward(case.mlp(), case.X).a[-1]
    return bool(np.all((a > 1e-6) & (a < 1 - 1e-6)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases())
def test_gradients_match_torch_autograd(case: Case) -> None:
    assume(_not_clipped(case))
    _assert_gradients_match(case.mlp(), case.X, case.Y)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases(), st.booleans())
def test_sgd_steps_match_torch(case: Case, train_biases: bool) -> None:
    assume(_not_clipped(case))
    mlp = case.mlp(train_biases=train_biases)
    _assert_steps_match(mlp, case.X, case.Y, learning_rate=0.3, steps=3)


@pytest.mark.parametrize("name", ["seed", "mattmazur", "softmax", "xor"])
def test_built_in_examples_match_torch(name: str) -> None:
    spec = load_spec(name)
    X, Y = spec.arrays()
    _assert_gradients_match(spec.build_mlp(), X, Y)
    _assert_steps_match(spec.build_mlp(), X, Y, spec.learning_rate, steps=5)


NEW_ACTIVATIONS = [("elu", {}), ("elu", {"alpha": 0.4}), ("gelu", {}), ("gelu_tanh", {}),
                   ("silu", {}), ("softplus", {}), ("hardtanh", {})]


@pytest.mark.parametrize(("name", "params"), NEW_ACTIVATIONS, ids=str)
@pytest.mark.parametrize("loss", ["half_sse", "mae"])
def test_each_new_activation_and_mae_match_torch(name: str, params: dict[str, float],
                                                  loss: str) -> None:
    """Hidden and output layers of each (also far out: softplus at z ≈ 30 and hardtanh's clip)."""
    rng = np.random.default_rng(3)
    X = rng.uniform(-3, 3, size=(6, 3))
    Y = rng.uniform(-1, 1, size=(6, 2))
    case = Case([rng.uniform(-4, 4, (5, 3)), rng.uniform(-2, 2, (2, 5))],
                [rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 2)], [name, name], [0.01, 0.01], loss, X, Y)
    mlp = case.mlp()
    for layer in mlp.layers:
        layer.activation = get_activation(name, **params)
    _assert_gradients_match(mlp, X, Y)
    _assert_steps_match(mlp, X, Y, learning_rate=0.1, steps=3)


def test_softplus_is_exact_and_finite_for_huge_z() -> None:
    z = np.array([[-800.0, -30.0, 0.0, 30.0, 800.0]])
    softplus = get_activation("softplus")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = softplus.forward(z)
        derivative = softplus.backward(z, a, np.ones_like(z))
    np.testing.assert_allclose(a, np.logaddexp(0.0, z), rtol=1e-15, atol=1e-300)
    theirs = torch.nn.functional.softplus(torch.tensor(z[:, 1:4], dtype=torch.float64)).numpy()
    np.testing.assert_allclose(a[:, 1:4], theirs, rtol=1e-15, atol=1e-12)  # torch: z above 20
    e = np.exp(-np.abs(z))  # σ(z) written from e^(-|z|) so it never overflows
    np.testing.assert_allclose(derivative, np.where(z >= 0, 1 / (1 + e), e / (1 + e)), rtol=1e-15)


def test_frozen_layer_keeps_its_weights_like_torch_without_them() -> None:
    spec = load_spec("softmax")
    X, Y = spec.arrays()
    mlp = spec.build_mlp()
    mlp.layers[0].trainable = False
    W1 = mlp.layers[0].W.copy()
    _assert_steps_match(mlp, X, Y, 0.5, steps=3)
    np.testing.assert_array_equal(mlp.layers[0].W, W1)
