"""The formulas of each activation and loss as expression trees, for the worked example.

Each builder takes symbols (matrices in the matrix view, scalars in the neuron view) and ``times``,
the product to use: ⊙ between matrices, · between scalars. Notation as the trace prints it:
a = activation, z = pre-activation, y = target, n = output units, m = batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gradtrace.trace.expr import Expr, Num, add, call, div, mul, neg, square, sub

Times = Callable[..., Expr]
ONE = Num(1.0)

FUNCTION_NAMES = {
    "sigmoid": "σ", "tanh": "tanh", "relu": "relu", "leaky_relu": "leaky_relu",
    "linear": "linear", "softmax": "softmax",
}


def fraction(numerator: int, denominator: int) -> Num:
    """A constant written as a fraction, e.g. 1/4."""
    text = "½" if (numerator, denominator) == (1, 2) else f"{numerator}/{denominator}"
    return Num(numerator / denominator, text)


def activation_expr(name: str, z: Expr) -> Expr:
    """a = σ(z)."""
    return z if name == "linear" else call(FUNCTION_NAMES[name], z)


def softmax_entry_expr(z_entry: Expr, z_column: Sequence[Expr]) -> Expr:
    """a_j = e^(z_j) / Σ_k e^(z_k)."""
    return div(call("exp", z_entry), add(*[call("exp", z_k) for z_k in z_column]))


def derivative_expr(name: str, z: Expr, a: Expr, times: Times) -> Expr:
    """σ'(z) in the form the engine uses: from a for sigmoid and tanh, from z otherwise."""
    if name == "sigmoid":
        return times(a, sub(ONE, a))
    if name == "tanh":
        return sub(ONE, square(a))
    if name == "linear":
        return ONE
    return call(f"{FUNCTION_NAMES[name]}'", z)


DERIVATIVE_TEXT = {
    "sigmoid": "σ'(z) = a(1 − a)",
    "tanh": "tanh'(z) = 1 − a²",
    "relu": "relu'(z) = 1 if z > 0 else 0",
    "leaky_relu": "leaky_relu'(z) = 1 if z > 0 else slope",
    "linear": "linear'(z) = 1",
}


def cost_coefficient(loss: str, m: int, n: int) -> Num | None:
    """The constant in front of the sum over samples and units (None when it is 1)."""
    denominator = {"half_sse": 2 * m, "mse": m * n, "binary_cross_entropy": m * n,
                   "cross_entropy": m}[loss]
    return None if denominator == 1 else fraction(1, denominator)


def cost_summand(loss: str, y: Expr, a: Expr, times: Times) -> Expr:
    """What is summed over samples and units: (y − a)², y log a (+ (1 − y) log(1 − a))."""
    if loss in ("half_sse", "mse"):
        return square(sub(y, a))
    if loss == "cross_entropy":
        return times(y, call("log", a))
    return add(times(y, call("log", a)), times(sub(ONE, y), call("log", sub(ONE, a))))


def cost_expr(loss: str, summed: Expr, m: int, n: int) -> Expr:
    """C = coefficient · Σ(summand), negated for the cross-entropies."""
    coefficient = cost_coefficient(loss, m, n)
    total = summed if coefficient is None else mul(coefficient, summed)
    return neg(total) if loss in ("binary_cross_entropy", "cross_entropy") else total


def loss_gradient_expr(loss: str, y: Expr, a: Expr, n: int, times: Times) -> Expr:
    """dC_s/da per sample."""
    if loss == "half_sse":
        return sub(a, y)
    if loss == "mse":
        return mul(fraction(2, n), sub(a, y))
    if loss == "cross_entropy":
        return neg(div(y, a))
    scale: list[Expr] = [Num(float(n))] if n > 1 else []
    return div(sub(a, y), times(*scale, a, sub(ONE, a)))


def fused_delta_expr(loss: str, y: Expr, a: Expr, n: int) -> Expr:
    """delta_L when the output activation and the loss cancel: a − y (over n for BCE)."""
    difference = sub(a, y)
    if loss == "binary_cross_entropy" and n > 1:
        return div(difference, Num(float(n)))
    return difference


FUSED_NOTE = {
    "cross_entropy": "softmax with cross-entropy: the softmax Jacobian and −y/a cancel to a − y",
    "binary_cross_entropy": "sigmoid with binary cross-entropy: a(1 − a) cancels, leaving a − y",
}
