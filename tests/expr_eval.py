"""Evaluate a neuron-view (scalar) expression tree from its leaves, independently of the engine."""

from __future__ import annotations

import math
from collections.abc import Callable

from gradtrace.trace.expr import Expr, Num, Op, Sym


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _normal_pdf(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _gelu_u(z: float) -> float:
    return math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)


def _gelu_tanh_derivative(z: float) -> float:
    t = math.tanh(_gelu_u(z))
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * z * z)


def evaluate(expr: Expr, slopes: dict[int, float] | None = None) -> float:
    """The value of a scalar expression tree; ``slopes`` gives leaky_relu's slope per layer."""
    slopes = slopes or {}
    if isinstance(expr, Sym):
        assert isinstance(expr.value, float), expr
        return expr.value
    if isinstance(expr, Num):
        return expr.value
    assert isinstance(expr, Op)
    args = [evaluate(arg, slopes) for arg in expr.args]
    simple: dict[str, Callable[[list[float]], float]] = {
        "add": math.fsum, "mul": math.prod, "sub": lambda v: v[0] - v[1],
        "div": lambda v: v[0] / v[1], "neg": lambda v: -v[0], "square": lambda v: v[0] ** 2,
    }
    if expr.op in simple:
        return simple[expr.op](args)
    assert expr.op == "call" and expr.fn is not None, expr.op
    if expr.fn == "pow":
        return float(args[0] ** args[1])
    (x,) = args
    layer = expr.args[0].layer if isinstance(expr.args[0], Sym) else None
    slope = slopes.get(layer or 0, 0.01)
    functions: dict[str, Callable[[float], float]] = {
        "σ": _sigmoid, "tanh": math.tanh, "exp": math.exp, "log": math.log, "√": math.sqrt,
        "relu": lambda v: max(v, 0.0), "relu'": lambda v: 1.0 if v > 0 else 0.0,
        "leaky_relu": lambda v: v if v > 0 else slope * v,
        "leaky_relu'": lambda v: 1.0 if v > 0 else slope,
        # the newer activations and mae, from their definitions (elu with α = 1)
        "Φ": lambda v: 0.5 * math.erfc(-v / math.sqrt(2)), "φ": _normal_pdf,
        "abs": abs, "sign": lambda v: float((v > 0) - (v < 0)),
        "elu": lambda v: v if v > 0 else math.expm1(v), "elu'": lambda v: 1.0 if v > 0 else math.exp(v),
        "gelu": lambda v: v * 0.5 * math.erfc(-v / math.sqrt(2)),
        "gelu_tanh": lambda v: 0.5 * v * (1 + math.tanh(_gelu_u(v))),
        "gelu_tanh'": _gelu_tanh_derivative,
        "silu": lambda v: v * _sigmoid(v), "softplus": lambda v: math.log1p(math.exp(-abs(v))) + max(v, 0),
        "hardtanh": lambda v: min(1.0, max(-1.0, v)),
        "hardtanh'": lambda v: 1.0 if -1 < v < 1 else 0.0,
    }
    return functions[expr.fn](x)
