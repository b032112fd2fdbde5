"""The engine against PyTorch autograd in float64: cost, every gradient, and SGD's new weights.

The torch side is written from the definitions (W is (n_out, n_in) as in torch.nn.Linear):
half_sse = ½ Σ over outputs, mean over the batch; mse = mean over all elements;
binary cross-entropy = mean over all elements; cross-entropy = mean over the batch of -Σ y log a.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import Case, cases
from gradtrace.core.backprop import train_step
from gradtrace.core.network import MLP, backward, forward
from gradtrace.core.optimizers import SGD
from gradtrace.spec import load_spec

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch

TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}


def _activate(name: str, z: Any, slope: float) -> Any:
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
    assert name == "softmax"
    return torch.softmax(z, dim=1)


def _torch_cost(loss: str, output: str, z: Any, a: Any, y: Any) -> Any:
    if loss == "half_sse":
        return 0.5 * ((a - y) ** 2).sum(dim=1).mean()
    if loss == "mse":
        return ((a - y) ** 2).mean()
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
            a = _activate(layer.activation.name, z, layer.activation.params.get("slope", 0.01))
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


def test_frozen_layer_keeps_its_weights_like_torch_without_them() -> None:
    spec = load_spec("softmax")
    X, Y = spec.arrays()
    mlp = spec.build_mlp()
    mlp.layers[0].trainable = False
    W1 = mlp.layers[0].W.copy()
    _assert_steps_match(mlp, X, Y, 0.5, steps=3)
    np.testing.assert_array_equal(mlp.layers[0].W, W1)
