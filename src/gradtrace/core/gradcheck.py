"""Gradient checking by central differences, in float64 whatever the network's dtype.

Notation: θ_i one parameter entry, C(θ) the batch cost, h the step:
numerical dC/dθ_i ≈ (C(θ_i + h) - C(θ_i - h)) / 2h; relative error = |g - ĝ| / max(|g| + |ĝ|, floor).
An entry passes when its relative error is within the tolerance *or* its absolute error is within
``DEFAULT_ABSOLUTE_TOLERANCE``: the central difference itself carries round-off of about
ε·C/h ≈ 1e-10 (ε the machine epsilon), which is a large relative error for a gradient of 1e-6.

Both sides are computed on a float64 copy of the network: in float32, ε·C/h ≈ 0.1 for h = 1e-6, so
a float32 central difference would flag every entry of a correct network.

Vectorised: every perturbed parameter of a chunk is one slice of an extra leading axis k. A change
of W_l[j, i] by ±h changes only column j of z_l, by ±h·a_{l-1}[:, i] (of b_l[j]: by ±h), so layers
below l run once and layers from l on run for all k perturbations at once: z (k, m, n_l).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.network import (
    MLP,
    Forward,
    Layer,
    backward,
    forward,
    per_sample_cost,
    reduce_costs,
)

Array = NDArray[np.floating]

DEFAULT_STEP = 1e-6
DEFAULT_TOLERANCE = 1e-6
DEFAULT_ABSOLUTE_TOLERANCE = 1e-8
# Below this scale both gradients count as zero, so round-off is not reported as a mismatch.
RELATIVE_ERROR_FLOOR = 1e-8
# Floats of one chunk's widest (k, m, n) activation: bounds memory at about 8 MB per array.
CHUNK_FLOATS = 1 << 20
CHECK_DTYPE = "float64"  # what the check computes in, whatever the network's dtype (say so)


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
    """C = (1/m) Σ_s C_s (or Σ_s C_s, by the network's batch_reduction) at its current parameters."""
    return float(reduce_costs(per_sample_cost(mlp, forward(mlp, X), Y), mlp.batch_reduction))


Progress = Callable[[int], None]  # called with how many entries were just estimated


def as_float64(mlp: MLP) -> MLP:
    """A float64 copy of ``mlp`` (same activations, loss and trainable flags)."""
    return MLP(
        [Layer(np.array(ly.W, dtype=np.float64), np.array(ly.b, dtype=np.float64), ly.activation,
               ly.trainable) for ly in mlp.layers],
        mlp.loss, mlp.train_biases, mlp.batch_reduction,
    )


def numerical_gradient(mlp: MLP, X: Array, Y: Array, param: Array, step: float,
                       progress: Progress | None = None) -> Array:
    """Central differences of the batch cost, one entry of ``param`` at a time (restored after).

    The plain loop: slow, but the definition itself; tests hold the vectorised form against it.
    """
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


def _costs_from(mlp: MLP, l: int, z: Array, Y: Array) -> Array:
    """Batch costs (k,) from perturbed pre-activations z_l (k, m, n_l) through layers l..L."""
    k, m = z.shape[:2]
    layers = mlp.layers
    rows = z.reshape(k * m, -1)  # activations and losses work row by row: one row a sample
    for below, above in zip(layers[l - 1:], layers[l:], strict=False):
        rows = below.activation.forward(rows) @ above.W.T + above.b  # (k m, n_next)
    Y_rows = np.broadcast_to(Y, (k, *Y.shape)).reshape(k * m, -1)
    output = Forward([layers[-1].activation.forward(rows)], [rows])  # per_sample_cost reads a_L, z_L
    costs: Array = reduce_costs(per_sample_cost(mlp, output, Y_rows).reshape(k, m),
                                mlp.batch_reduction, axis=1)  # (k,)
    return costs


def vectorised_gradient(mlp: MLP, fwd: Forward, Y: Array, l: int, parameter: str, step: float,
                        progress: Progress | None = None) -> Array:
    """Central differences for every entry of W_l or b_l, many entries per batched pass.

    ``fwd`` is the unperturbed forward pass of ``mlp``; entry (j, i) moves z_l[:, j] by
    ±h·a_{l-1}[:, i] (±h for b_l[j]).
    """
    layer = mlp.layers[l - 1]
    z_base, a_prev = fwd.z[l], fwd.a[l - 1]  # (m, n_l), (m, n_{l-1})
    assert z_base is not None
    shape = layer.W.shape if parameter == "W" else layer.b.shape
    entries = list(np.ndindex(shape))
    m, widest = z_base.shape[0], max(mlp.sizes[l:])
    chunk = max(1, CHUNK_FLOATS // (m * widest))
    estimate = np.empty(len(entries), dtype=np.float64)
    for start in range(0, len(entries), chunk):
        part = entries[start:start + chunk]
        rows = np.array([index[0] for index in part])  # j of each perturbed entry
        # column j of z_l moves by h·a_{l-1}[:, i] for W_l[j, i], by h for b_l[j]: (k, m)
        moves = (a_prev[:, [index[1] for index in part]].T if parameter == "W"
                 else np.ones((len(part), m)))
        costs = []
        for sign in (1.0, -1.0):
            z = np.broadcast_to(z_base, (len(part), *z_base.shape)).copy()  # (k, m, n_l)
            z[np.arange(len(part)), :, rows] += sign * step * moves
            costs.append(_costs_from(mlp, l, z, Y))
        estimate[start:start + len(part)] = (costs[0] - costs[1]) / (2 * step)
        if progress is not None:
            progress(len(part))
    return estimate.reshape(shape)


def check_gradients(
    mlp: MLP, X: Array, Y: Array, step: float = DEFAULT_STEP, progress: Progress | None = None
) -> list[GradientComparison]:
    """Every parameter's analytic gradient beside its central-difference estimate, in float64."""
    work = as_float64(mlp)
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    fwd = forward(work, X)
    grads = backward(work, fwd, Y)
    comparisons: list[GradientComparison] = []
    for l in range(1, len(work.layers) + 1):
        for name, analytic in (("W", grads.grad_W[l]), ("b", grads.grad_b[l])):
            assert analytic is not None
            numerical = vectorised_gradient(work, fwd, Y, l, name, step, progress)
            # Python floats in one go: 5,000 entries indexed one by one cost a tenth of a second
            comparisons += [
                GradientComparison(f"{name}{l}", index, exact, estimate)
                for index, exact, estimate in zip(
                    product(*map(range, analytic.shape)), analytic.ravel().tolist(),
                    numerical.ravel().tolist(), strict=True)
            ]
    return comparisons
