"""Analytic gradients against central differences, over random networks (hypothesis).

The oracle is the derivative's definition: C(θ + h) - C(θ - h) over 2h. The cost it differentiates
is written again here (``reference_cost``) with different formulas from the engine's (tanh form of
σ, logaddexp, log-softmax), so a wrong forward pass or cost cannot agree with itself.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from conftest import (
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    PROBABILITY_OUTPUTS,
    Array,
    Case,
    build_mlp,
    cases,
)
from gradtrace.core.activations import get_activation, sigmoid, sigmoid_derivative
from gradtrace.core.gradcheck import check_gradients
from gradtrace.core.losses import (
    binary_cross_entropy_from_logits,
    cross_entropy_from_logits,
    get_loss,
)
from gradtrace.core.network import MLP, Layer, backward, forward

STEP = 1e-6
KINKS = {"relu": (0.0,), "leaky_relu": (0.0,), "hardtanh": (-1.0, 1.0)}  # z where σ' jumps
UNFUSED_PROBABILITY = {("binary_cross_entropy", "softmax"), ("cross_entropy", "sigmoid")}
# e^(-1000) underflows to 0.0, which is the exact double answer: numpy's default ignores
# underflow, and so do we; overflow, invalid (NaN) and divide-by-zero must not happen.
STRICT = {"all": "raise", "under": "ignore"}


# ---- an independent forward pass and cost ------------------------------------------------------

def _reference_activation(name: str, z: Array, slope: float) -> Array:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # σ(z) = (1 + tanh(z/2)) / 2: no exp at all
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "linear":
        return z
    if name == "elu":  # alpha 1
        return np.where(z > 0, z, np.exp(np.minimum(z, 0.0)) - 1.0)
    if name == "gelu":  # z Φ(z) with Φ(z) = erfc(−z/√2)/2
        return z * 0.5 * np.vectorize(math.erfc)(-z / math.sqrt(2.0))
    if name == "gelu_tanh":
        return 0.5 * z * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3)))
    if name == "silu":
        return z * 0.5 * (1.0 + np.tanh(0.5 * z))
    if name == "softplus":
        return np.logaddexp(0.0, z)
    if name == "hardtanh":
        return np.minimum(1.0, np.maximum(-1.0, z))
    assert name == "softmax"
    return np.exp(_log_softmax(z))


def _log_softmax(z: Array) -> Array:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def reference_pre_activations(case: Case) -> list[Array]:
    """z_l for every layer, from the case's own arrays."""
    a, zs = case.X, []
    for W, b, name, slope in zip(case.weights, case.biases, case.activations, case.slopes,
                                 strict=True):
        z = np.einsum("si,oi->so", a, W) + b  # (m, n_out), written differently from a @ W.T
        zs.append(z)
        a = _reference_activation(name, z, slope)
    return zs


def reference_cost(case: Case) -> float:
    """The batch cost C = mean over samples of C_s, from first principles."""
    z = reference_pre_activations(case)[-1]
    a = _reference_activation(case.activations[-1], z, case.slopes[-1])
    Y, n = case.Y, case.Y.shape[1]
    output = case.activations[-1]
    if case.loss == "half_sse":
        per_sample = 0.5 * ((Y - a) ** 2).sum(axis=1)
    elif case.loss == "mse":
        per_sample = ((Y - a) ** 2).sum(axis=1) / n
    elif case.loss == "mae":
        per_sample = np.abs(Y - a).sum(axis=1) / n
    elif case.loss == "binary_cross_entropy":
        if output == "sigmoid":  # log σ(z) = -log(1 + e^-z), log(1 - σ(z)) = -log(1 + e^z)
            log_a, log_1_minus_a = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
        else:
            log_a, log_1_minus_a = np.log(a), np.log(1.0 - a)
        per_sample = -(Y * log_a + (1.0 - Y) * log_1_minus_a).sum(axis=1) / n
    else:
        log_a = _log_softmax(z) if output == "softmax" else -np.logaddexp(0.0, -z)
        per_sample = -(Y * log_a).sum(axis=1)
    return float(per_sample.mean())


def reference_numerical_gradients(case: Case) -> list[tuple[Array, Array]]:
    """Central differences of ``reference_cost`` for every W_l and b_l entry."""
    result = []
    for params in zip(case.weights, case.biases, strict=True):
        grads = []
        for param in params:
            estimate = np.zeros_like(param)
            for index in np.ndindex(param.shape):
                original = param[index]
                param[index] = original + STEP
                plus = reference_cost(case)
                param[index] = original - STEP
                minus = reference_cost(case)
                param[index] = original
                estimate[index] = (plus - minus) / (2 * STEP)
            grads.append(estimate)
        result.append((grads[0], grads[1]))
    return result


def _smooth_enough(case: Case) -> bool:
    """Away from kinks (relu, hardtanh, |y − a|) and from the probability clip of the unfused losses."""
    zs = reference_pre_activations(case)
    for z, name in zip(zs, case.activations, strict=True):
        if any(np.min(np.abs(z - kink)) < 1e-4 for kink in KINKS.get(name, ())):
            return False
    if case.loss == "mae":
        a = _reference_activation(case.activations[-1], zs[-1], case.slopes[-1])
        if np.min(np.abs(a - case.Y)) < 1e-4:
            return False
    if (case.loss, case.activations[-1]) in UNFUSED_PROBABILITY:
        a = _reference_activation(case.activations[-1], zs[-1], case.slopes[-1])
        return bool(np.all((a > 1e-6) & (a < 1 - 1e-6)))
    return True


def _close(analytic: float, numerical: float, cost: float) -> bool:
    # Round-off in (C+ - C-)/2h is about eps·|C|/h ≈ 1e-10·|C|; truncation about h².
    return abs(analytic - numerical) <= 1e-6 * max(1.0, abs(cost)) + 1e-6 * abs(analytic)


# ---- the property tests ------------------------------------------------------------------------

@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases())
def test_backward_matches_central_differences_of_an_independent_cost(case: Case) -> None:
    assume(_smooth_enough(case))
    mlp = case.mlp()
    grads = backward(mlp, forward(mlp, case.X), case.Y)
    cost = reference_cost(case)
    assert grads.cost == pytest.approx(cost, rel=1e-10, abs=1e-12)
    numerical = reference_numerical_gradients(case)
    for l, (num_W, num_b) in enumerate(numerical, start=1):
        grad_W, grad_b = grads.grad_W[l], grads.grad_b[l]
        assert grad_W is not None and grad_b is not None
        assert grad_W.shape == case.weights[l - 1].shape
        assert grad_b.shape == case.biases[l - 1].shape
        for analytic, estimate in ((grad_W, num_W), (grad_b, num_b)):
            for index in np.ndindex(analytic.shape):
                assert _close(float(analytic[index]), float(estimate[index]), cost), (
                    f"layer {l} {index}: analytic {analytic[index]!r} vs numerical {estimate[index]!r}"
                )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases())
def test_check_gradients_agrees_for_every_parameter(case: Case) -> None:
    assume(_smooth_enough(case))
    mlp = case.mlp()
    before = [(layer.W.copy(), layer.b.copy()) for layer in mlp.layers]
    comparisons = check_gradients(mlp, case.X, case.Y)
    grads = backward(mlp, forward(mlp, case.X), case.Y)
    expected_count = sum(W.size + b.size for W, b in zip(case.weights, case.biases, strict=True))
    assert len(comparisons) == expected_count
    for c in comparisons:
        layer = int(c.parameter[1:])
        analytic = grads.grad_W[layer] if c.parameter[0] == "W" else grads.grad_b[layer]
        assert analytic is not None
        assert c.analytic == analytic[c.index]
        assert _close(c.analytic, c.numerical, grads.cost), c
    for layer, (W, b) in zip(mlp.layers, before, strict=True):  # checking must not move weights
        np.testing.assert_array_equal(layer.W, W)
        np.testing.assert_array_equal(layer.b, b)


VALID_COMBINATIONS = [
    (hidden, output, loss)
    for hidden in HIDDEN_ACTIVATIONS
    for output in OUTPUT_ACTIVATIONS
    for loss in LOSSES
    if output in PROBABILITY_OUTPUTS or loss not in ("binary_cross_entropy", "cross_entropy")
]


@pytest.mark.parametrize(("hidden", "output", "loss"), VALID_COMBINATIONS)
def test_every_activation_and_loss_pair(hidden: str, output: str, loss: str) -> None:
    # hypothesis samples these at random; this makes sure each pair is met, on a 3-4-3 net, m = 4
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, size=(4, 3))
    Y = rng.dirichlet(np.ones(3), size=4) if loss == "cross_entropy" else rng.uniform(0, 1, (4, 3))
    case = Case([rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (3, 4))],
                [rng.uniform(-0.5, 0.5, 4), rng.uniform(-0.5, 0.5, 3)],
                [hidden, output], [0.1, 0.2], loss, X, Y)
    assert _smooth_enough(case)
    grads = backward(case.mlp(), forward(case.mlp(), X), Y)
    cost = reference_cost(case)
    assert grads.cost == pytest.approx(cost, rel=1e-12)
    for l, (num_W, num_b) in enumerate(reference_numerical_gradients(case), start=1):
        np.testing.assert_allclose(grads.grad_W[l], num_W, rtol=1e-6, atol=1e-8)  # type: ignore[arg-type]
        np.testing.assert_allclose(grads.grad_b[l], num_b, rtol=1e-6, atol=1e-8)  # type: ignore[arg-type]


def test_check_gradients_exposes_a_wrong_derivative() -> None:
    # σ' written as a instead of a(1 - a): the checker must report it, or it checks nothing.
    wrong = replace(get_activation("sigmoid"), derivative=lambda z, a: a)
    mlp = build_mlp([np.array([[0.2, 0.2], [0.3, 0.3]]), np.array([[0.3, 0.9]])],
                    [np.zeros(2), np.zeros(1)], ["sigmoid", "sigmoid"], "half_sse")
    mlp.layers[0].activation = wrong
    comparisons = check_gradients(mlp, np.array([[0.35, 0.7]]), np.array([[0.5]]))
    worst = max(c.relative_error for c in comparisons if c.parameter == "W1")
    assert worst > 0.1
    assert all(c.relative_error < 1e-6 for c in comparisons if c.parameter == "W2")


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.5])
def test_leaky_relu_slope_reaches_the_gradient(slope: float) -> None:
    # one unit, z = -1 < 0: dC/dW = (a - y) · slope · x with a = slope · z
    mlp = build_mlp([np.array([[-1.0]])], [np.zeros(1)], ["leaky_relu"], "half_sse", slopes=[slope])
    grads = backward(mlp, forward(mlp, np.array([[1.0]])), np.array([[0.0]]))
    assert grads.grad_W[1] == pytest.approx(np.array([[(-slope) * slope * 1.0]]), abs=1e-15)


# ---- numerical stability at huge z -------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_stable_at_plus_minus_1000(dtype: type) -> None:
    z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        a = sigmoid(z)
        derivative = sigmoid_derivative(z, a)
    assert a.dtype == dtype
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(derivative))
    assert a[0] == 0.0 and a[-1] == 1.0 and a[2] == 0.5
    assert np.all((a >= 0) & (a <= 1))
    assert a[1] == pytest.approx(np.exp(-40.0) / (1 + np.exp(-40.0)), rel=1e-6)


def test_losses_from_logits_stay_finite_and_exact_for_huge_z() -> None:
    z = np.array([[1000.0, -1000.0]])
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        bce = binary_cross_entropy_from_logits(z, np.array([[0.0, 1.0]]))
        bce_right = binary_cross_entropy_from_logits(z, np.array([[1.0, 0.0]]))
        ce = cross_entropy_from_logits(z, np.array([[0.0, 1.0]]))
        ce_right = cross_entropy_from_logits(z, np.array([[1.0, 0.0]]))
    # predicting the wrong class with logit 1000 costs exactly 1000 per unit (mean over 2 units)
    assert bce[0] == pytest.approx(1000.0, rel=1e-15)
    assert bce_right[0] == 0.0
    # log softmax of the wrong class: -1000 - logsumexp(1000, -1000) = -2000
    assert ce[0] == pytest.approx(2000.0, rel=1e-15)
    assert ce_right[0] == 0.0


@pytest.mark.parametrize(
    ("activation", "loss", "target", "expected_cost"),
    [
        ("sigmoid", "binary_cross_entropy", [[0.0, 1.0]], 1000.0),
        ("softmax", "cross_entropy", [[0.0, 1.0]], 2000.0),
        ("sigmoid", "half_sse", [[0.0, 1.0]], 1.0),  # ½((1 - 0)² + (0 - 1)²)
        ("sigmoid", "mse", [[1.0, 0.0]], 0.0),
    ],
)
def test_network_with_saturated_output_stays_finite(
    activation: str, loss: str, target: list[list[float]], expected_cost: float
) -> None:
    mlp = MLP([Layer(np.array([[1000.0], [-1000.0]]), np.zeros(2), get_activation(activation))],
              get_loss(loss))
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        grads = backward(mlp, forward(mlp, np.array([[1.0]])), np.array(target))
    assert grads.cost == pytest.approx(expected_cost, rel=1e-12, abs=1e-300)
    for array in (grads.grad_W[1], grads.grad_b[1], grads.delta[1]):
        assert array is not None and np.all(np.isfinite(array))
