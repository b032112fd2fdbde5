"""Losses: one entry each, holding everything about it, in the table ``LOSSES``.

Notation: a = network output (batch, n), y = target (batch, n), z = output pre-activation,
n = output units, m = batch size. Each function gives per-sample values; the batch cost is the mean
of the per-sample costs, C = (1/m) Σ_s C_s, and delta = dC_s/dz is per sample (the 1/m enters the
weight gradients). An entry also holds its fused delta with one output activation, the in-place
output step the fast trainer uses, the formula the trace prints, its words, and target checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.activations import PROBABILITY_ACTIVATIONS as PROBABILITY_ACTIVATIONS
from gradtrace.core.activations import sigmoid_in_place
from gradtrace.core.expr import ONE, Expr, Num, add, call, div, fraction, mul, neg, square, sub

Array = NDArray[np.floating]
Times = Callable[..., Expr]
StepLoss = float | np.floating[Any]  # Σ_s C_s of a batch: a numpy scalar, so no float() per batch
# (z, a, y, delta, work, row) -> Σ_s C_s, writing a = σ(z) and delta = dC_s/dz into the buffers;
# z (m, n) may be overwritten, work (m, n) and row (m, 1) are scratch
FastOutput = Callable[[Array, Array, Array, Array, Array, Array], StepLoss]
TARGET_TOLERANCE = 1e-6  # how far a cross-entropy target row may sum from 1


def _clip_probability(a: Array) -> Array:
    eps = np.finfo(a.dtype).eps
    result: Array = np.clip(a, eps, 1.0 - eps)
    return result


def _rows(Y: Array) -> Array:
    """Targets as rows (m, n): one sample given flat is one row."""
    array = np.asarray(Y, dtype=np.float64)
    return array.reshape(1, -1) if array.ndim < 2 else array


def _where(name: str, Y: Array, row: int, column: int | None = None) -> str:
    """The field path of one target as the user wrote Y: ``name[row][column]``, flat ``name[column]``."""
    ndim = np.ndim(Y)
    path = f"{name}[{row}]" if ndim >= 2 else name
    return path if column is None or ndim == 0 else f"{path}[{column}]"


def no_target_problem(Y: Array, name: str = "targets") -> str | None:
    """Any finite target is fine for the squared and absolute errors."""
    return None


def _outside_unit_interval(Y: Array, name: str, loss: str) -> str | None:
    rows = _rows(Y)
    bad = np.argwhere((rows < 0.0) | (rows > 1.0))
    if bad.size == 0:
        return None
    row, column = (int(i) for i in bad[0])
    return (f"{_where(name, Y, row, column)} is {rows[row, column]:g}; {loss} needs every target "
            "in [0, 1] (a probability)")


# ---- half the sum of squared errors -------------------------------------------------------------

def half_sse(a: Array, y: Array) -> Array:
    """C_s = ½ Σ_k (y_k - a_k)²  (the seed notebook's cost)."""
    result: Array = 0.5 * np.sum((y - a) ** 2, axis=-1)
    return result


def half_sse_gradient(a: Array, y: Array) -> Array:
    """dC_s/da = a - y."""
    return a - y


def _half_sse_linear(z: Array, a: Array, y: Array, delta: Array, work: Array, row: Array) -> StepLoss:
    np.copyto(a, z)
    np.subtract(a, y, out=delta)  # a - y
    return 0.5 * np.vdot(delta, delta)


# ---- the sum of squared errors ----------------------------------------------------------------

def sse(a: Array, y: Array) -> Array:
    """C_s = Σ_k (y_k - a_k)²  (no ½: torch.nn.MSELoss(reduction='sum') over one sample's units)."""
    result: Array = np.sum((y - a) ** 2, axis=-1)
    return result


def sse_gradient(a: Array, y: Array) -> Array:
    """dC_s/da = 2(a - y)."""
    result: Array = 2.0 * (a - y)
    return result


def _sse_linear(z: Array, a: Array, y: Array, delta: Array, work: Array, row: Array) -> StepLoss:
    np.copyto(a, z)
    np.subtract(a, y, out=delta)
    loss_sum: StepLoss = np.vdot(delta, delta)
    delta *= 2.0  # 2(a - y)
    return loss_sum


# ---- mean squared error -------------------------------------------------------------------------

def mse(a: Array, y: Array) -> Array:
    """C_s = (1/n) Σ_k (y_k - a_k)²."""
    result: Array = np.mean((y - a) ** 2, axis=-1)
    return result


def mse_gradient(a: Array, y: Array) -> Array:
    """dC_s/da = (2/n)(a - y)."""
    result: Array = (2.0 / a.shape[-1]) * (a - y)
    return result


def _mse_linear(z: Array, a: Array, y: Array, delta: Array, work: Array, row: Array) -> StepLoss:
    n = a.shape[1]
    np.copyto(a, z)
    np.subtract(a, y, out=delta)
    loss_sum: StepLoss = np.vdot(delta, delta) / n
    delta *= 2.0 / n  # (2/n)(a - y)
    return loss_sum


# ---- mean absolute error ------------------------------------------------------------------------

def mae(a: Array, y: Array) -> Array:
    """C_s = (1/n) Σ_k |y_k - a_k|  (batch mean = torch.nn.L1Loss(reduction='mean'))."""
    result: Array = np.mean(np.abs(y - a), axis=-1)
    return result


def mae_gradient(a: Array, y: Array) -> Array:
    """dC_s/da = (1/n) sign(a - y), 0 where a = y (as PyTorch's sign)."""
    result: Array = np.sign(a - y) / a.shape[-1]
    return result


def _mae_linear(z: Array, a: Array, y: Array, delta: Array, work: Array, row: Array) -> StepLoss:
    n = a.shape[1]
    np.copyto(a, z)
    np.subtract(a, y, out=delta)
    np.abs(delta, out=work)
    loss_sum: StepLoss = np.add.reduce(work, axis=None) / n
    np.sign(delta, out=delta)
    delta /= n  # sign(a - y) / n
    return loss_sum


# ---- binary cross-entropy -----------------------------------------------------------------------

def binary_cross_entropy(a: Array, y: Array) -> Array:
    """C_s = -(1/n) Σ_k [y_k log a_k + (1 - y_k) log(1 - a_k)]  (a clipped to (0, 1))."""
    p = _clip_probability(a)
    result: Array = -np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p), axis=-1)
    return result


def binary_cross_entropy_gradient(a: Array, y: Array) -> Array:
    """dC_s/da = (1/n)(a - y) / (a (1 - a))."""
    p = _clip_probability(a)
    result: Array = (p - y) / (p * (1.0 - p)) / a.shape[-1]
    return result


def binary_cross_entropy_from_logits(z: Array, y: Array) -> Array:
    """The same cost from z with a = σ(z): (1/n) Σ_k [max(z,0) - z y + log(1 + e^(-|z|))], exact for any z."""
    result: Array = np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=-1)
    return result


def binary_cross_entropy_sigmoid_delta(a: Array, y: Array) -> Array:
    """Fused with a sigmoid output: delta = dC_s/dz = (a - y) / n."""
    result: Array = (a - y) / a.shape[-1]
    return result


def _bce_sigmoid(z: Array, a: Array, y: Array, delta: Array, work: Array, row: Array) -> StepLoss:
    """Σ_s C_s from z (exact for any z), a = σ(z), delta = (a - y) / n."""
    n = a.shape[1]
    np.copyto(a, z)
    sigmoid_in_place(a)
    np.abs(z, out=work)
    np.negative(work, out=work)
    np.exp(work, out=work)
    np.log1p(work, out=work)  # log(1 + e^(-|z|))
    total = np.add.reduce(work, axis=None) - np.vdot(z, y)
    np.maximum(z, 0.0, out=work)
    np.subtract(a, y, out=delta)
    delta /= n
    loss_sum: StepLoss = (total + np.add.reduce(work, axis=None)) / n
    return loss_sum


def binary_cross_entropy_target_problem(Y: Array, name: str = "targets") -> str | None:
    """Every y must lie in [0, 1]."""
    return _outside_unit_interval(Y, name, "binary_cross_entropy")


# ---- cross-entropy ------------------------------------------------------------------------------

def cross_entropy(a: Array, y: Array) -> Array:
    """C_s = -Σ_k y_k log a_k  (a clipped away from 0)."""
    result: Array = -np.sum(y * np.log(_clip_probability(a)), axis=-1)
    return result


def cross_entropy_gradient(a: Array, y: Array) -> Array:
    """dC_s/da = -y / a."""
    return -y / _clip_probability(a)


def cross_entropy_from_logits(z: Array, y: Array) -> Array:
    """The same cost from z with a = softmax(z): -Σ_k y_k (z_k - logsumexp(z)), exact for any z."""
    top = z.max(axis=-1, keepdims=True)
    log_sum = top + np.log(np.sum(np.exp(z - top), axis=-1, keepdims=True))
    result: Array = -np.sum(y * (z - log_sum), axis=-1)
    return result


def cross_entropy_softmax_delta(a: Array, y: Array) -> Array:
    """Fused with a softmax output: delta = dC_s/dz = a - y (needs Σ_k y_k = 1)."""
    return a - y


def _ce_softmax(z: Array, a: Array, y: Array, delta: Array, work: Array, row: Array) -> StepLoss:
    """Σ_s (logsumexp(z_s) - Σ_k y_k z_k) from the shifted z, a = softmax(z), delta = a - y."""
    np.maximum.reduce(z, axis=1, keepdims=True, out=row)
    np.subtract(z, row, out=z)  # shifted: max 0 per sample
    np.exp(z, out=a)
    np.add.reduce(a, axis=1, keepdims=True, out=row)
    np.divide(a, row, out=a)  # softmax
    np.log(row, out=row)
    np.subtract(a, y, out=delta)
    loss_sum: StepLoss = np.add.reduce(row, axis=None) - np.vdot(y, z)
    return loss_sum


def cross_entropy_target_problem(Y: Array, name: str = "targets") -> str | None:
    """Each row must be a probability distribution: entries in [0, 1], summing to 1 within 1e-6.

    Otherwise the fused delta a - y is not the gradient of the cost (it assumes Σ_k y_k = 1).
    """
    problem = _outside_unit_interval(Y, name, "cross_entropy")
    if problem is not None:
        return problem
    sums = _rows(Y).sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > TARGET_TOLERANCE)
    if bad.size == 0:
        return None
    row = int(bad[0])
    return (f"{_where(name, Y, row)} sums to {sums[row]:.6g}; cross_entropy needs each target row "
            "to sum to 1 (a probability distribution such as one-hot); normalise it, or use "
            "binary_cross_entropy for independent 0/1 outputs")


# ---- the entry ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class Loss:
    """Everything about one loss: maths, fused forms, fast output steps, trace formulas, words.

    ``denominator(m, n)`` is the constant under the batch mean's sum: m times the per-sample
    constant (2m for half_sse, m n for mse); the trace prints the two factors apart,
    (1/m) · (1/denominator(1, n)) · Σ.

    ``fused_activation`` names the output activation with which the loss has a simpler, stable
    delta (``fused_delta``) and cost from z (``cost_from_logits``). ``fast_outputs`` maps an output
    activation to the in-place step the fast trainer uses. The trace prints
    C = [−] (1/denominator(m, n)) Σ summand(y, a), dC_s/da = gradient_formula(y, a, n).
    """

    name: str
    cost: Callable[[Array, Array], Array]
    gradient: Callable[[Array, Array], Array]
    fused_activation: str | None = None
    fused_delta: Callable[[Array, Array], Array] | None = None
    cost_from_logits: Callable[[Array, Array], Array] | None = None
    fast_outputs: Mapping[str, FastOutput] = field(default_factory=dict)
    # facts
    needs_probabilities: bool = False  # the output layer must give values in (0, 1)
    classifier: bool = False  # accuracy means something (one-hot classes or 0/1 targets)
    target_problem: Callable[[Array, str], str | None] = no_target_problem
    # the trace
    words: str
    denominator: Callable[[int, int], int]
    summand: Callable[[Expr, Expr, Times], Expr]
    negated: bool = False
    gradient_formula: Callable[[Expr, Expr, int, Times], Expr]
    fused_formula: Callable[[Expr, Expr, int], Expr] | None = None
    fused_note: str | None = None
    extra_latex: Mapping[str, str] = field(default_factory=dict)  # functions its formulas print


def _log(x: Expr) -> Expr:
    return call("log", x)


def _over_n(expr: Expr, n: int) -> Expr:
    return div(expr, Num(float(n))) if n > 1 else expr


LOSSES: dict[str, Loss] = {
    "half_sse": Loss(
        name="half_sse", cost=half_sse, gradient=half_sse_gradient,
        fast_outputs={"linear": _half_sse_linear},
        words="half the sum of squared errors",
        denominator=lambda m, n: 2 * m, summand=lambda y, a, times: square(sub(y, a)),
        gradient_formula=lambda y, a, n, times: sub(a, y),
    ),
    "sse": Loss(
        name="sse", cost=sse, gradient=sse_gradient, fast_outputs={"linear": _sse_linear},
        words="the sum of squared errors",
        denominator=lambda m, n: m, summand=lambda y, a, times: square(sub(y, a)),
        gradient_formula=lambda y, a, n, times: mul(Num(2.0, "2"), sub(a, y)),
    ),
    "mse": Loss(
        name="mse", cost=mse, gradient=mse_gradient, fast_outputs={"linear": _mse_linear},
        words="mean squared error",
        denominator=lambda m, n: m * n, summand=lambda y, a, times: square(sub(y, a)),
        gradient_formula=lambda y, a, n, times: mul(fraction(2, n), sub(a, y)),
    ),
    "mae": Loss(
        name="mae", cost=mae, gradient=mae_gradient, fast_outputs={"linear": _mae_linear},
        words="mean absolute error",
        denominator=lambda m, n: m * n, summand=lambda y, a, times: call("abs", sub(y, a)),
        gradient_formula=lambda y, a, n, times: (
            mul(fraction(1, n), call("sign", sub(a, y))) if n > 1 else call("sign", sub(a, y))
        ),
        extra_latex={"abs": "\\operatorname{abs}", "sign": "\\operatorname{sign}"},
    ),
    "binary_cross_entropy": Loss(
        name="binary_cross_entropy", cost=binary_cross_entropy,
        gradient=binary_cross_entropy_gradient, fused_activation="sigmoid",
        fused_delta=binary_cross_entropy_sigmoid_delta,
        cost_from_logits=binary_cross_entropy_from_logits, fast_outputs={"sigmoid": _bce_sigmoid},
        needs_probabilities=True, classifier=True,
        target_problem=binary_cross_entropy_target_problem,
        words="binary cross-entropy",
        denominator=lambda m, n: m * n,
        summand=lambda y, a, times: add(times(y, _log(a)), times(sub(ONE, y), _log(sub(ONE, a)))),
        negated=True,
        gradient_formula=lambda y, a, n, times: div(
            sub(a, y), times(*([Num(float(n))] if n > 1 else []), a, sub(ONE, a))
        ),
        fused_formula=lambda y, a, n: _over_n(sub(a, y), n),
        fused_note="sigmoid with binary cross-entropy: a(1 − a) cancels, leaving a − y",
    ),
    "cross_entropy": Loss(
        name="cross_entropy", cost=cross_entropy, gradient=cross_entropy_gradient,
        fused_activation="softmax", fused_delta=cross_entropy_softmax_delta,
        cost_from_logits=cross_entropy_from_logits, fast_outputs={"softmax": _ce_softmax},
        needs_probabilities=True, classifier=True, target_problem=cross_entropy_target_problem,
        words="cross-entropy",
        denominator=lambda m, n: m, summand=lambda y, a, times: times(y, _log(a)), negated=True,
        gradient_formula=lambda y, a, n, times: neg(div(y, a)),
        fused_formula=lambda y, a, n: sub(a, y),
        fused_note="softmax with cross-entropy: the softmax Jacobian and −y/a cancel to a − y",
    ),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; raises KeyError for an unknown name."""
    return LOSSES[name]


def latex_names() -> dict[str, str]:
    """Every function name a loss formula prints besides log, with its LaTeX."""
    return {key: value for entry in LOSSES.values() for key, value in entry.extra_latex.items()}
