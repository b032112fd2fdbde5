"""Optimisers: how a gradient becomes a parameter update.

Notation: θ = a parameter (W_l or b_l), g = dC/dθ, η = learning rate, λ = L2 weight decay,
λ₁ = L1 strength,
μ = momentum, v = velocity; Adam: m, v = first and second moment estimates, β1, β2 their decay
rates, t = the step count, ε = a small constant.

Each optimiser updates θ in place and keeps its state per parameter key ("W1", "b1", ...).
The conventions are PyTorch's (``torch.optim.SGD``/``Adam``), so results match it step for step:

- L2 weight decay is added to the gradient first, g ← g + λθ, for every parameter (biases too),
  as PyTorch's ``weight_decay`` does (Adam's, not AdamW's decoupled form).
- L1 adds its subgradient the same way, g ← g + λ₁ sign(θ) (sign(0) = 0, as PyTorch's autograd of
  λ₁ Σ|θ| gives), before L2. PyTorch's optimisers have no L1 option; the tests compare with the
  gradient of C + λ₁ Σ|θ|.
- Momentum: v ← μ v + g, θ ← θ - η v (v starts at 0, so the first step is plain SGD). Note this is
  *not* the "v ← μ v - η g, θ ← θ + v" form of some textbooks; the two differ when η changes.
- Adam: m ← β1 m + (1-β1) g, v ← β2 v + (1-β2) g², θ ← θ - η m̂ / (√v̂ + ε), with the bias
  corrections m̂ = m / (1-β1^t), v̂ = v / (1-β2^t) and t counted per parameter from 1.

``update(..., grad_is_scratch=True)`` lets the optimiser overwrite ``grad`` as workspace, which the
fast training loop uses to avoid allocating a temporary per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


class Optimizer(Protocol):
    """Updates one parameter in place from its gradient."""

    name: str
    learning_rate: float

    def update(self, key: str, param: Array, grad: Array) -> None: ...

    def state_arrays(self) -> dict[str, Array]: ...

    def load_state_arrays(self, arrays: dict[str, Array]) -> None: ...


def _decayed(param: Array, grad: Array, weight_decay: float, grad_is_scratch: bool,
             l1: float = 0.0) -> Array:
    """g + λ₁ sign(θ) + λθ (g itself when λ₁ = λ = 0); written into ``grad`` when it is scratch."""
    if weight_decay == 0.0 and l1 == 0.0:
        return grad
    if not grad_is_scratch:
        grad = grad.copy()
    if l1 != 0.0:
        grad += l1 * np.sign(param)
    if weight_decay != 0.0:
        grad += weight_decay * param
    return grad


def _load_keyed(arrays: dict[str, Array], prefix: str) -> dict[str, Array]:
    """The entries "prefix.KEY" of a checkpoint, as {KEY: copy}."""
    return {
        name.removeprefix(prefix): np.array(value)
        for name, value in arrays.items()
        if name.startswith(prefix)
    }


@dataclass
class SGD:
    """Plain gradient descent: θ ← θ - η (g + λ₁ sign(θ) + λθ)."""

    learning_rate: float
    weight_decay: float = 0.0
    l1: float = 0.0
    name: str = field(default="sgd", init=False)

    def update(self, key: str, param: Array, grad: Array, *, grad_is_scratch: bool = False) -> None:
        g = _decayed(param, grad, self.weight_decay, grad_is_scratch, self.l1)
        if grad_is_scratch or g is not grad:
            g *= self.learning_rate  # reuse the workspace instead of allocating η g
            param -= g
        else:
            param -= self.learning_rate * g

    def state_arrays(self) -> dict[str, Array]:
        return {}

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        return None


@dataclass
class Momentum:
    """Gradient descent with momentum (PyTorch's form): v ← μ v + g, θ ← θ - η v."""

    learning_rate: float
    momentum: float = 0.9
    weight_decay: float = 0.0
    l1: float = 0.0
    name: str = field(default="momentum", init=False)
    velocity: dict[str, Array] = field(default_factory=dict, init=False, repr=False)

    def update(self, key: str, param: Array, grad: Array, *, grad_is_scratch: bool = False) -> None:
        g = _decayed(param, grad, self.weight_decay, grad_is_scratch, self.l1)
        v = self.velocity.get(key)
        if v is None:
            v = self.velocity[key] = np.zeros_like(param)
        v *= self.momentum
        v += g  # v = μ v + g
        if grad_is_scratch:
            np.multiply(v, self.learning_rate, out=g)
            param -= g
        else:
            param -= self.learning_rate * v

    def state_arrays(self) -> dict[str, Array]:
        return {f"velocity.{key}": v for key, v in self.velocity.items()}

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        self.velocity = _load_keyed(arrays, "velocity.")


@dataclass
class Adam:
    """Adam (Kingma & Ba), PyTorch's form: θ ← θ - η m̂ / (√v̂ + ε)."""

    learning_rate: float = 0.001
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    weight_decay: float = 0.0
    l1: float = 0.0
    name: str = field(default="adam", init=False)
    m: dict[str, Array] = field(default_factory=dict, init=False, repr=False)
    v: dict[str, Array] = field(default_factory=dict, init=False, repr=False)
    t: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _work: dict[str, Array] = field(default_factory=dict, init=False, repr=False)

    def update(self, key: str, param: Array, grad: Array, *, grad_is_scratch: bool = False) -> None:
        g = _decayed(param, grad, self.weight_decay, grad_is_scratch, self.l1)
        if key not in self.m:
            self.m[key] = np.zeros_like(param)
            self.v[key] = np.zeros_like(param)
            self.t[key] = 0
            self._work[key] = np.empty_like(param)
        m, v, work = self.m[key], self.v[key], self._work[key]
        t = self.t[key] = self.t[key] + 1
        np.multiply(g, 1.0 - self.beta1, out=work)
        m *= self.beta1
        m += work  # m = β1 m + (1-β1) g
        np.multiply(g, g, out=work)
        work *= 1.0 - self.beta2
        v *= self.beta2
        v += work  # v = β2 v + (1-β2) g²
        bias1 = 1.0 - self.beta1**t
        bias2 = 1.0 - self.beta2**t
        # θ -= η/bias1 · m / (√v / √bias2 + ε), in PyTorch's order of operations
        np.sqrt(v, out=work)
        work /= np.sqrt(bias2)
        work += self.epsilon
        np.divide(m, work, out=work)
        work *= self.learning_rate / bias1
        param -= work

    def state_arrays(self) -> dict[str, Array]:
        arrays: dict[str, Array] = {}
        for key in self.m:
            arrays[f"m.{key}"] = self.m[key]
            arrays[f"v.{key}"] = self.v[key]
            arrays[f"t.{key}"] = np.array(self.t[key], dtype=np.int64)
        return arrays

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        self.m = _load_keyed(arrays, "m.")
        self.v = _load_keyed(arrays, "v.")
        self.t = {key: int(value) for key, value in _load_keyed(arrays, "t.").items()}
        self._work = {key: np.empty_like(value) for key, value in self.m.items()}


def round_state(optimizer: Optimizer, rounder: Callable[[Array], Array]) -> None:
    """Round the optimiser's state arrays (momentum's v, Adam's m and v) in place, as hand work
    writes them down before the next step reads them; Adam's integer step counts are kept."""
    for values in optimizer.state_arrays().values():
        if np.issubdtype(values.dtype, np.floating):
            values[...] = rounder(values)


OptimizerFactory = Callable[..., Optimizer]

# name -> factory; each takes learning_rate and the keyword hyperparameters shown in its class.
OPTIMIZERS: dict[str, OptimizerFactory] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}

# The hyperparameters each optimiser accepts besides learning_rate (for validation and help text).
HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "sgd": ("weight_decay",),
    "momentum": ("momentum", "weight_decay"),
    "adam": ("beta1", "beta2", "epsilon", "weight_decay"),
}


def make_optimizer(
    name: str, learning_rate: float, *, l1: float = 0.0, **hyperparameters: float | None
) -> Optimizer:
    """The optimiser called ``name``; hyperparameters it does not use are ignored.

    ``l1`` (λ₁ ≥ 0) is a training option of every optimiser, kept out of HYPERPARAMETERS because
    a traced step does not print it: the web page's training uses it, the step-through does not.

    Raises KeyError for an unknown name (callers at the boundary turn it into a user error).
    """
    factory = OPTIMIZERS[name]
    accepted = HYPERPARAMETERS[name]
    kwargs = {k: float(v) for k, v in hyperparameters.items() if k in accepted and v is not None}
    if l1 < 0.0:
        raise ValueError(f"the L1 strength must be >= 0, found {l1}")
    return factory(learning_rate=float(learning_rate), l1=float(l1), **kwargs)
