"""The trace: immutable records of everything one training step computed.

Matrices are in the textbook column-vector view: ``input``, ``z``, ``a``, ``delta`` are
(units, batch); biases and their gradients (units, 1); weights (n_out, n_in). Arrays are read-only.
``Step.quantities()`` explains each one as formula -> numbers -> result (built on first use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from gradtrace.trace.explain import explain_step
from gradtrace.trace.quantity import PHASES, Array, Equation, Phase, Quantity

__all__ = [  # Equation, Quantity and the phases live in trace/quantity.py; read here as before
    "PHASES", "Array", "BackwardRecord", "Equation", "ForwardRecord", "LayerInfo", "NetworkInfo",
    "OptimizerInfo", "OptimizerState", "Phase", "Quantity", "Step", "Trace", "UpdateRecord",
    "frozen_array",
]


def frozen_array(value: NDArray[np.floating]) -> Array:
    """A read-only float64 copy."""
    array = np.array(value, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class LayerInfo:
    inputs: int
    outputs: int
    activation: str
    slope: float | None = None  # leaky_relu only (also in params; kept for readers of /1)
    trainable: bool = True
    params: tuple[tuple[str, float], ...] = ()  # the activation's parameters: (("alpha", 0.5),)


# The conventions a trace is written in (spec fields of the same names; README "Spec format").
# They change how quantities are named and shown, never the stored arrays, which stay canonical:
# weights (n_out, n_in), column view, δ = ∂C_s/∂z; batch_reduction is maths (the engine's).
BATCH_REDUCTIONS = ("mean", "sum")
WEIGHTS_LAYOUTS = ("out_in", "in_out")
DELTA_CONVENTIONS = ("gradient", "error")


@dataclass(frozen=True)
class NetworkInfo:
    loss: str
    layers: tuple[LayerInfo, ...]
    train_biases: bool = True
    batch_reduction: str = "mean"  # C = (1/m) Σ_s C_s, or "sum": C = Σ_s C_s
    weights_layout: str = "out_in"  # "in_out": printed as rows of inputs, z = a W + b
    delta_convention: str = "gradient"  # "error": printed as Err = −∂C/∂z, w ← w + η Err O

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].inputs] + [layer.outputs for layer in self.layers]


@dataclass(frozen=True, eq=False)
class ForwardRecord:
    layer: int
    z: Array  # (n_l, m)
    a: Array  # (n_l, m)


@dataclass(frozen=True, eq=False)
class BackwardRecord:
    layer: int
    delta: Array  # (n_l, m), per-sample dC_s/dz_l
    grad_W: Array  # (n_l, n_{l-1}), dC/dW_l (the true gradient, not its negative)
    grad_b: Array  # (n_l, 1)
    grad_a: Array | None = None  # (n_L, m): dC_s/da_L, output layer only, when not fused


@dataclass(frozen=True, eq=False)
class OptimizerState:
    """One optimiser state array of one parameter ("velocity" or Adam's "m"/"v"), before and after."""

    name: str  # "velocity", "m", "v"
    parameter: str  # "W" or "b"
    old: Array
    new: Array
    count: int | None = None  # Adam's step count t after this step


@dataclass(frozen=True, eq=False)
class UpdateRecord:
    layer: int
    W_old: Array
    W_new: Array
    b_old: Array  # (n_l, 1)
    b_new: Array
    W_trained: bool = True
    b_trained: bool = True
    state: tuple[OptimizerState, ...] = ()

    def state_of(self, parameter: str, name: str) -> OptimizerState:
        return next(s for s in self.state if s.parameter == parameter and s.name == name)


@dataclass(frozen=True)
class OptimizerInfo:
    """The optimiser of a step and its hyperparameters (learning rate included)."""

    name: str = "sgd"
    hyperparameters: tuple[tuple[str, float], ...] = ()

    def get(self, name: str, default: float = 0.0) -> float:
        return dict(self.hyperparameters).get(name, default)


@dataclass(frozen=True, eq=False)
class Step:
    """One training step: its inputs, every intermediate, and the update."""

    index: int
    network: NetworkInfo
    learning_rate: float
    input: Array  # (n_0, m)
    target: Array  # (n_L, m)
    forward: tuple[ForwardRecord, ...]
    cost: float
    per_sample_cost: Array  # (m,)
    backward: tuple[BackwardRecord, ...]  # from the last layer down
    update: tuple[UpdateRecord, ...]
    optimizer: OptimizerInfo = field(default_factory=OptimizerInfo)
    # With hand rounding: this step in float64 arithmetic, from the exact run's own weights
    exact: Step | None = None

    @property
    def batch_size(self) -> int:
        return int(self.input.shape[1])

    def forward_of(self, layer: int) -> ForwardRecord:
        return self.forward[layer - 1]

    def backward_of(self, layer: int) -> BackwardRecord:
        return next(record for record in self.backward if record.layer == layer)

    def update_of(self, layer: int) -> UpdateRecord:
        return self.update[layer - 1]

    def activation(self, layer: int) -> Array:
        """a_l, with a_0 the input."""
        return self.input if layer == 0 else self.forward_of(layer).a

    @cached_property
    def _quantities(self) -> tuple[Quantity, ...]:
        return explain_step(self)

    def quantities(self) -> tuple[Quantity, ...]:
        """Every quantity in order: a0, z1, a1, ..., cost, delta_L, ..., grads, updates."""
        return self._quantities


@dataclass(frozen=True, eq=False)
class Trace:
    """A network and the steps it took."""

    network: NetworkInfo
    steps: tuple[Step, ...]
    name: str | None = None
    rounding: int | None = None  # decimals every quantity was rounded to (hand arithmetic)
