"""Losses, each with its gradient beside it.

Notation: a = network output (batch, n), y = target (batch, n), n = output units, m = batch size.
Each function gives per-sample values; the batch cost is the mean of the per-sample costs,
C = (1/m) Σ_s C_s, and delta = dC_s/dz is per sample (the 1/m enters the weight gradients).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


def _clip_probability(a: Array) -> Array:
    eps = np.finfo(a.dtype).eps
    result: Array = np.clip(a, eps, 1.0 - eps)
    return result


def half_sse(a: Array, y: Array) -> Array:
    """C_s = ½ Σ_k (y_k - a_k)²  (the seed notebook's cost)."""
    result: Array = 0.5 * np.sum((y - a) ** 2, axis=-1)
    return result


def half_sse_gradient(a: Array, y: Array) -> Array:
    """dC_s/da = a - y."""
    return a - y


def mse(a: Array, y: Array) -> Array:
    """C_s = (1/n) Σ_k (y_k - a_k)²."""
    result: Array = np.mean((y - a) ** 2, axis=-1)
    return result


def mse_gradient(a: Array, y: Array) -> Array:
    """dC_s/da = (2/n)(a - y)."""
    result: Array = (2.0 / a.shape[-1]) * (a - y)
    return result


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
    """Fused with a softmax output: delta = dC_s/dz = a - y."""
    return a - y


@dataclass(frozen=True)
class Loss:
    """One loss: its per-sample cost and gradient, and an optional exact fused form.

    ``fused_activation`` names the output activation with which the loss has a simpler, stable
    delta (``fused_delta``) and cost from z (``cost_from_logits``).
    """

    name: str
    cost: Callable[[Array, Array], Array]
    gradient: Callable[[Array, Array], Array]
    fused_activation: str | None = None
    fused_delta: Callable[[Array, Array], Array] | None = None
    cost_from_logits: Callable[[Array, Array], Array] | None = None
    needs_probabilities: bool = False


LOSSES: dict[str, Loss] = {
    "half_sse": Loss("half_sse", half_sse, half_sse_gradient),
    "mse": Loss("mse", mse, mse_gradient),
    "binary_cross_entropy": Loss(
        "binary_cross_entropy",
        binary_cross_entropy,
        binary_cross_entropy_gradient,
        fused_activation="sigmoid",
        fused_delta=binary_cross_entropy_sigmoid_delta,
        cost_from_logits=binary_cross_entropy_from_logits,
        needs_probabilities=True,
    ),
    "cross_entropy": Loss(
        "cross_entropy",
        cross_entropy,
        cross_entropy_gradient,
        fused_activation="softmax",
        fused_delta=cross_entropy_softmax_delta,
        cost_from_logits=cross_entropy_from_logits,
        needs_probabilities=True,
    ),
}

# Output activations whose values lie in (0, 1), as the probability losses need.
PROBABILITY_ACTIVATIONS = ("sigmoid", "softmax")


def get_loss(name: str) -> Loss:
    """The loss called ``name``; raises KeyError for an unknown name."""
    return LOSSES[name]
