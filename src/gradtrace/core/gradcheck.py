"""Gradient checking by central differences.

Notation: θ_i one parameter entry, C(θ) the batch cost, h the step:
numerical dC/dθ_i ≈ (C(θ_i + h) - C(θ_i - h)) / 2h; relative error = |g - ĝ| / max(|g| + |ĝ|, floor).
An entry passes when its relative error is within the tolerance *or* its absolute error is within
``DEFAULT_ABSOLUTE_TOLERANCE``: the central difference itself carries round-off of about
ε·C/h ≈ 1e-10 (ε the machine epsilon), which is a large relative error for a gradient of 1e-6.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.network import MLP, backward, forward, per_sample_cost

Array = NDArray[np.floating]

DEFAULT_STEP = 1e-6
DEFAULT_TOLERANCE = 1e-6
DEFAULT_ABSOLUTE_TOLERANCE = 1e-8
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
    def absolute_error(self) -> float:
        return abs(self.analytic - self.numerical)

    @property
    def relative_error(self) -> float:
        scale = max(abs(self.analytic) + abs(self.numerical), RELATIVE_ERROR_FLOOR)
        return self.absolute_error / scale

    def passes(self, tolerance: float = DEFAULT_TOLERANCE,
               absolute_tolerance: float = DEFAULT_ABSOLUTE_TOLERANCE) -> bool:
        """Within the relative tolerance, or within the central difference's round-off."""
        return self.relative_error <= tolerance or self.absolute_error <= absolute_tolerance


def batch_cost(mlp: MLP, X: Array, Y: Array) -> float:
    """C = (1/m) Σ_s C_s at the network's current parameters."""
    return float(np.mean(per_sample_cost(mlp, forward(mlp, X), Y)))


Progress = Callable[[int], None]  # called with how many entries were just estimated


def numerical_gradient(mlp: MLP, X: Array, Y: Array, param: Array, step: float,
                       progress: Progress | None = None) -> Array:
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
        if progress is not None:
            progress(1)
    return estimate


def check_gradients(
    mlp: MLP, X: Array, Y: Array, step: float = DEFAULT_STEP, progress: Progress | None = None
) -> list[GradientComparison]:
    """Every parameter's analytic gradient beside its central-difference estimate."""
    work = mlp.copy()
    grads = backward(work, forward(work, X), Y)
    comparisons: list[GradientComparison] = []
    for l, layer in enumerate(work.layers, start=1):
        for name, param, analytic in (("W", layer.W, grads.grad_W[l]), ("b", layer.b, grads.grad_b[l])):
            assert analytic is not None
            numerical = numerical_gradient(work, X, Y, param, step, progress)
            for index in np.ndindex(param.shape):
                comparisons.append(
                    GradientComparison(
                        f"{name}{l}", tuple(int(i) for i in index),
                        float(analytic[index]), float(numerical[index]),
                    )
                )
    return comparisons
