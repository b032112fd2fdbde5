"""The multilayer perceptron and backpropagation, vectorised over a batch.

Notation: rows are samples. a0 = X (m, n_0); for layer l = 1..L: z_l = a_{l-1} W_lᵀ + b_l (m, n_l),
a_l = σ_l(z_l); delta_l = dC_s/dz_l per sample (m, n_l). The batch cost reduces the per-sample
costs by the network's ``batch_reduction``: C = (1/m) Σ_s C_s ("mean") or C = Σ_s C_s ("sum"), and
so do the gradients: grad_W_l = r delta_lᵀ a_{l-1} (n_l, n_{l-1}), grad_b_l = r Σ_s delta_l (n_l,)
with r = 1/m or 1. This is the textbook column-vector form z = W a + b with every matrix
transposed so that samples are rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.activations import Activation
from gradtrace.core.losses import Loss

Array = NDArray[np.floating]
# How the per-sample costs of a batch become one cost: their mean (1/m) Σ_s, or their sum Σ_s.
BatchReduction = Literal["mean", "sum"]
BATCH_REDUCTIONS: tuple[BatchReduction, ...] = ("mean", "sum")


def reduce_costs(per_sample: Array, reduction: BatchReduction, axis: int | None = None) -> Array:
    """C = (1/m) Σ_s C_s ("mean") or Σ_s C_s ("sum") along ``axis``."""
    reduce = np.mean if reduction == "mean" else np.sum
    return np.asarray(reduce(per_sample, axis=axis))


def batch_scale(m: int, reduction: BatchReduction) -> float:
    """The factor r in C = r Σ_s C_s: 1/m for the mean, 1 for the sum."""
    return 1.0 / m if reduction == "mean" else 1.0

# Applied to each quantity where it is produced, before the next quantity uses it (hand rounding);
# None computes exactly.
Rounder = Callable[[Array], Array]

# Above 2**52 every float is an integer: adding 0.5 there would round the sum, not the value.
_INTEGRAL_FROM = 2.0**52


def hand_rounder(decimals: int) -> Rounder:
    """Round to ``decimals`` places as a person does: half away from zero.

    round(x) = sign(x) · ⌊|x|·10ᴺ + ½⌋ / 10ᴺ, so 0.125 → 0.13 and −0.125 → −0.13 at N = 2
    (numpy's ``round`` is half to even: 0.12). A value already integral at that scale
    (|x|·10ᴺ ≥ 2⁵²), inf and NaN are kept as they are. The dtype is kept.
    """
    scale = 10.0**decimals

    def rounder(values: Array) -> Array:
        scaled = np.abs(values) * scale
        whole = np.where(scaled < _INTEGRAL_FROM, np.floor(scaled + 0.5), scaled)
        return np.asarray(np.copysign(whole, values) / scale, dtype=values.dtype)

    return rounder


def _keep(values: Array) -> Array:
    return values


@dataclass
class Layer:
    """A dense layer: W (n_out, n_in), b (n_out,), its activation, and whether it trains."""

    W: Array
    b: Array
    activation: Activation
    trainable: bool = True

    @property
    def n_in(self) -> int:
        return int(self.W.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[0])


@dataclass
class MLP:
    """Layers, a loss, whether biases train (``train_biases=False`` keeps every b fixed), and
    whether the batch cost is the mean or the sum of the per-sample costs."""

    layers: list[Layer]
    loss: Loss
    train_biases: bool = True
    batch_reduction: BatchReduction = "mean"

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def dtype(self) -> np.dtype[np.floating]:
        return self.layers[0].W.dtype

    @property
    def uses_fused_delta(self) -> bool:
        """True when the output activation and the loss pair up for delta_L = a_L - y (scaled)."""
        return self.loss.fused_activation == self.layers[-1].activation.name

    def copy(self) -> MLP:
        return MLP(
            [Layer(ly.W.copy(), ly.b.copy(), ly.activation, ly.trainable) for ly in self.layers],
            self.loss,
            self.train_biases,
            self.batch_reduction,
        )


@dataclass
class Forward:
    """Everything the forward pass computed: a[0] = X and, for l >= 1, z[l] and a[l]."""

    a: list[Array]
    z: list[Array | None]  # z[0] is None: the input has no pre-activation


@dataclass
class Gradients:
    """Per-sample deltas and batch gradients (mean or sum), indexed by layer (index 0 unused)."""

    delta: list[Array | None]
    grad_W: list[Array | None]
    grad_b: list[Array | None]
    per_sample_cost: Array = field(default_factory=lambda: np.zeros(0))
    batch_reduction: BatchReduction = "mean"

    @property
    def cost(self) -> float:
        """C = (1/m) Σ_s C_s, or Σ_s C_s with the "sum" reduction."""
        return float(reduce_costs(self.per_sample_cost, self.batch_reduction))


def forward(mlp: MLP, X: Array, rounder: Rounder | None = None) -> Forward:
    """The forward pass: z_l = a_{l-1} W_lᵀ + b_l, a_l = σ_l(z_l) (each rounded by ``rounder``)."""
    keep = rounder or _keep
    a: list[Array] = [X]
    z: list[Array | None] = [None]
    for layer in mlp.layers:
        z_l = keep(a[-1] @ layer.W.T + layer.b)  # (m, n_out)
        z.append(z_l)
        a.append(keep(layer.activation.forward(z_l)))
    return Forward(a, z)


def per_sample_cost(mlp: MLP, fwd: Forward, Y: Array) -> Array:
    """C_s for each sample (m,), from z where the fused form is exact for large |z|."""
    z_out = fwd.z[-1]
    if mlp.uses_fused_delta and mlp.loss.cost_from_logits is not None and z_out is not None:
        return mlp.loss.cost_from_logits(z_out, Y)
    return mlp.loss.cost(fwd.a[-1], Y)


def output_delta(mlp: MLP, fwd: Forward, Y: Array, rounder: Rounder | None = None) -> Array:
    """delta_L = dC_s/dz_L = σ_L'(z_L) ⊙ dC_s/da_L, or the fused a_L - y form.

    With ``rounder``, dC_s/da_L is rounded before the product and delta_L after it.
    """
    keep = rounder or _keep
    a_out, z_out = fwd.a[-1], fwd.z[-1]
    assert z_out is not None
    if mlp.uses_fused_delta and mlp.loss.fused_delta is not None:
        return keep(mlp.loss.fused_delta(a_out, Y))
    grad_a = keep(mlp.loss.gradient(a_out, Y))  # (m, n_L)
    return keep(mlp.layers[-1].activation.backward(z_out, a_out, grad_a))


def backward(mlp: MLP, fwd: Forward, Y: Array, rounder: Rounder | None = None) -> Gradients:
    """Backpropagation with the weights *before* any update.

    delta_L from the loss; delta_l = σ_l'(z_l) ⊙ (delta_{l+1} W_{l+1}) for l < L;
    grad_W_l = r delta_lᵀ a_{l-1}; grad_b_l = r Σ_s delta_l, with r = 1/m (mean) or 1 (sum).
    With ``rounder`` each of them (and C_s, dC/da_L) is rounded where it is produced, before the
    next one uses it.
    """
    keep = rounder or _keep
    L = len(mlp.layers)
    scale = batch_scale(fwd.a[0].shape[0], mlp.batch_reduction)
    delta: list[Array | None] = [None] * (L + 1)
    grad_W: list[Array | None] = [None] * (L + 1)
    grad_b: list[Array | None] = [None] * (L + 1)
    delta[L] = output_delta(mlp, fwd, Y, rounder)
    for l in range(L, 0, -1):
        d = delta[l]
        assert d is not None
        grad_W[l] = keep((d.T @ fwd.a[l - 1]) * scale)  # (n_l, n_{l-1})
        grad_b[l] = keep(d.sum(axis=0) * scale)  # (n_l,)
        if l > 1:
            z_prev = fwd.z[l - 1]
            assert z_prev is not None
            # a term of delta_{l-1}'s formula, not a quantity of its own: hand work keeps it
            # unrounded, as in Err_j = O_j (1 - O_j) Σ_k Err_k w_jk
            grad_a_prev = d @ mlp.layers[l - 1].W  # (m, n_{l-1})
            delta[l - 1] = keep(
                mlp.layers[l - 2].activation.backward(z_prev, fwd.a[l - 1], grad_a_prev))
    return Gradients(delta, grad_W, grad_b, keep(per_sample_cost(mlp, fwd, Y)),
                     mlp.batch_reduction)


def trains(mlp: MLP, layer_index: int, parameter: str) -> bool:
    """Whether parameter "W" or "b" of layer ``layer_index`` (from 1) is updated."""
    layer = mlp.layers[layer_index - 1]
    return layer.trainable and (parameter == "W" or mlp.train_biases)
