"""Gradient checking by central differences.

Notation: θ_i one parameter entry, C(θ) the batch cost, h the step:
numerical dC/dθ_i ≈ (C(θ_i + h) - C(θ_i - h)) / 2h; relative error = |g - ĝ| / max(|g| + |ĝ|, floor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.network import MLP, backward, forward, per_sample_cost

Array = NDArray[np.floating]

DEFAULT_STEP = 1e-6
DEFAULT_TOLERANCE = 1e-6
# Below this scale both gradients count as zero, so round-off is not reported as a mismatch.
RELATIVE_ERROR_FLOOR = 1e-8


@dataclass(frozen=True)
class GradientComparison:
    """Analytic vs numerical gradient of one parameter entry."""

    parameter: str  # "W1", "b2", ...
    index: tuple[int, ...]  # (row, col) for W, (row,) for b
    analytic: float
    numerical: float

    @property
    def relative_error(self) -> float:
        scale = max(abs(self.analytic) + abs(self.numerical), RELATIVE_ERROR_FLOOR)
        return abs(self.analytic - self.numerical) / scale


def batch_cost(mlp: MLP, X: Array, Y: Array) -> float:
    """C = (1/m) Σ_s C_s at the network's current parameters."""
    return float(np.mean(per_sample_cost(mlp, forward(mlp, X), Y)))


def numerical_gradient(mlp: MLP, X: Array, Y: Array, param: Array, step: float) -> Array:
    """Central differences of the batch cost for every entry of ``param`` (restored afterwards)."""
    estimate = np.zeros(param.shape, dtype=np.float64)
    for index in np.ndindex(param.shape):
        original = param[index]
        param[index] = original + step
        plus = batch_cost(mlp, X, Y)
        param[index] = original - step
        minus = batch_cost(mlp, X, Y)
        param[index] = original
        estimate[index] = (plus - minus) / (2 * step)
    return estimate


def check_gradients(
    mlp: MLP, X: Array, Y: Array, step: float = DEFAULT_STEP
) -> list[GradientComparison]:
    """Every parameter's analytic gradient beside its central-difference estimate."""
    work = mlp.copy()
    grads = backward(work, forward(work, X), Y)
    comparisons: list[GradientComparison] = []
    for l, layer in enumerate(work.layers, start=1):
        for name, param, analytic in (("W", layer.W, grads.grad_W[l]), ("b", layer.b, grads.grad_b[l])):
            assert analytic is not None
            numerical = numerical_gradient(work, X, Y, param, step)
            for index in np.ndindex(param.shape):
                comparisons.append(
                    GradientComparison(
                        f"{name}{l}", tuple(int(i) for i in index),
                        float(analytic[index]), float(numerical[index]),
                    )
                )
    return comparisons
