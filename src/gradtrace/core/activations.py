"""Activation functions, each with its derivative beside it.

Notation: z = pre-activation (batch, n), a = activation(z) (batch, n), σ'(z) = da/dz elementwise.
Derivatives take both z and a = σ(z) because the natural form differs: sigmoid' = a(1 - a) and
tanh' = 1 - a² read the forward output (as scikit-learn does), relu' reads z.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]
Forward = Callable[[Array], Array]
Derivative = Callable[[Array, Array], Array]

DEFAULT_LEAKY_SLOPE = 0.01


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(-z)), evaluated without overflow for any z (also ±1000)."""
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    result: Array = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)
    return result


def sigmoid_derivative(z: Array, a: Array) -> Array:
    """σ'(z) = a (1 - a), from the forward output a = σ(z)."""
    return a * (1.0 - a)


def tanh(z: Array) -> Array:
    """tanh(z)."""
    return np.tanh(z)


def tanh_derivative(z: Array, a: Array) -> Array:
    """tanh'(z) = 1 - a², from the forward output a = tanh(z)."""
    return 1.0 - a * a


def relu(z: Array) -> Array:
    """relu(z) = max(0, z)."""
    result: Array = np.maximum(z, 0.0)
    return result


def relu_derivative(z: Array, a: Array) -> Array:
    """relu'(z) = 1 if z > 0 else 0 (0 at the kink, as PyTorch)."""
    return (z > 0).astype(z.dtype)


def leaky_relu(z: Array, slope: float = DEFAULT_LEAKY_SLOPE) -> Array:
    """leaky_relu(z) = z if z > 0 else slope · z."""
    result: Array = np.where(z > 0, z, slope * z)
    return result


def leaky_relu_derivative(z: Array, a: Array, slope: float = DEFAULT_LEAKY_SLOPE) -> Array:
    """leaky_relu'(z) = 1 if z > 0 else slope."""
    result: Array = np.where(z > 0, 1.0, slope).astype(z.dtype)
    return result


def linear(z: Array) -> Array:
    """linear(z) = z (identity)."""
    return z


def linear_derivative(z: Array, a: Array) -> Array:
    """linear'(z) = 1."""
    return np.ones_like(z)


def softmax(z: Array) -> Array:
    """softmax(z)_k = e^(z_k) / Σ_j e^(z_j) over each sample's units, shifted by max(z) for stability."""
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    result: Array = e / e.sum(axis=-1, keepdims=True)
    return result


def softmax_backward(z: Array, a: Array, grad_a: Array) -> Array:
    """dC/dz = J^T dC/da with J = diag(a) - a aᵀ, per sample: a ⊙ (g - (g · a))."""
    result: Array = a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))
    return result


@dataclass(frozen=True)
class Activation:
    """One activation: its forward map, and either an elementwise derivative or a Jacobian product."""

    name: str
    forward: Forward
    derivative: Derivative | None  # None when σ is not elementwise (softmax)
    jacobian_product: Callable[[Array, Array, Array], Array] | None = None
    params: dict[str, float] = field(default_factory=dict)

    @property
    def elementwise(self) -> bool:
        return self.derivative is not None

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        """dC/dz from dC/da (the chain rule through this activation)."""
        if self.derivative is not None:
            return grad_a * self.derivative(z, a)
        assert self.jacobian_product is not None
        return self.jacobian_product(z, a, grad_a)


def _leaky(slope: float) -> Activation:
    return Activation(
        "leaky_relu",
        lambda z: leaky_relu(z, slope),
        lambda z, a: leaky_relu_derivative(z, a, slope),
        params={"slope": slope},
    )


ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    "sigmoid": lambda: Activation("sigmoid", sigmoid, sigmoid_derivative),
    "tanh": lambda: Activation("tanh", tanh, tanh_derivative),
    "relu": lambda: Activation("relu", relu, relu_derivative),
    "leaky_relu": lambda slope=DEFAULT_LEAKY_SLOPE: _leaky(float(slope)),
    "linear": lambda: Activation("linear", linear, linear_derivative),
    "softmax": lambda: Activation("softmax", softmax, None, softmax_backward),
}


def get_activation(name: str, **params: float) -> Activation:
    """The activation called ``name``; raises KeyError for an unknown name."""
    return ACTIVATIONS[name](**params)
