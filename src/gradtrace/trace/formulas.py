"""The formulas of each activation and loss as expression trees, for the worked example.

Each formula lives in its activation's or loss's entry (gradtrace.core.activations/losses); these
helpers look the entry up by the name the trace records. Builders take symbols (matrices in the
matrix view, scalars in the neuron view) and ``times``, the product to use: ⊙ between matrices,
· between scalars. Notation as the trace prints it: a = activation, z = pre-activation, y = target,
n = output units, m = batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from gradtrace.core.activations import ACTIVATIONS
from gradtrace.core.expr import ONE, Expr, Num, add, call, div, fraction, mul, neg
from gradtrace.core.losses import LOSSES

Times = Callable[..., Expr]

__all__ = [
    "DERIVATIVE_TEXT", "FUNCTION_NAMES", "FUSED_NOTE", "ONE", "activation_expr", "batch_factor",
    "cost_coefficient",
    "cost_expr", "cost_summand", "derivative_expr", "fraction", "fused_delta_expr", "is_elementwise",
    "loss_gradient_expr", "softmax_entry_expr",
]

FUNCTION_NAMES: Mapping[str, str] = {name: entry.symbol for name, entry in ACTIVATIONS.items()}
DERIVATIVE_TEXT: Mapping[str, str] = {
    name: entry.derivative_text for name, entry in ACTIVATIONS.items()
}
FUSED_NOTE: Mapping[str, str] = {
    name: entry.fused_note for name, entry in LOSSES.items() if entry.fused_note is not None
}


def is_elementwise(name: str) -> bool:
    """Whether a_j depends on z_j alone (false for softmax, whose entries share one sum)."""
    return ACTIVATIONS[name].elementwise


def activation_expr(name: str, z: Expr) -> Expr:
    """a = σ(z)."""
    return ACTIVATIONS[name].formula(z)


def softmax_entry_expr(z_entry: Expr, z_column: Sequence[Expr]) -> Expr:
    """a_j = e^(z_j) / Σ_k e^(z_k)."""
    return div(call("exp", z_entry), add(*[call("exp", z_k) for z_k in z_column]))


def derivative_expr(name: str, z: Expr, a: Expr, times: Times) -> Expr:
    """σ'(z) in the form the engine uses: from a for sigmoid and tanh, from z otherwise."""
    formula = ACTIVATIONS[name].derivative_formula
    assert formula is not None, f"{name} has no elementwise derivative"
    return formula(z, a, times)


def cost_coefficient(loss: str, m: int, n: int) -> Num | None:
    """The loss's own constant in front of its sum over units, per sample (½, 1/n; None for 1).

    ``m`` is ignored: the batch's 1/m is its own factor (``batch_factor``), never merged with it.
    """
    denominator = LOSSES[loss].denominator(1, n)
    return None if denominator == 1 else fraction(1, denominator)


def batch_factor(m: int, reduction: str = "mean") -> list[Expr]:
    """[1/m] for the batch mean of m > 1 samples, [] for one sample or the batch sum.

    Written 1/2, never ½, so that beside half-SSE's ½ the two factors stay told apart.
    """
    return [Num(1.0 / m, f"1/{m}")] if reduction == "mean" and m > 1 else []


def cost_summand(loss: str, y: Expr, a: Expr, times: Times) -> Expr:
    """What is summed over samples and units: (y − a)², y log a (+ (1 − y) log(1 − a)), |y − a|."""
    return LOSSES[loss].summand(y, a, times)


def cost_expr(loss: str, summed: Expr, m: int, n: int, reduction: str = "mean") -> Expr:
    """C = [1/m ·] coefficient · Σ(summand), negated for the cross-entropies.

    The batch's 1/m (mean reduction, m > 1) and the loss's own constant print as two factors.
    """
    coefficient = cost_coefficient(loss, m, n)
    factors = [*batch_factor(m, reduction), *([] if coefficient is None else [coefficient])]
    total = mul(*factors, summed) if factors else summed
    return neg(total) if LOSSES[loss].negated else total


def loss_gradient_expr(loss: str, y: Expr, a: Expr, n: int, times: Times) -> Expr:
    """dC_s/da per sample."""
    return LOSSES[loss].gradient_formula(y, a, n, times)


def fused_delta_expr(loss: str, y: Expr, a: Expr, n: int) -> Expr:
    """delta_L when the output activation and the loss cancel: a − y (over n for BCE)."""
    formula = LOSSES[loss].fused_formula
    assert formula is not None, f"{loss} has no fused delta"
    return formula(y, a, n)
