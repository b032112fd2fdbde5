"""One training step: forward, backward with the old weights, then the update.

The order is the point: every delta and gradient is computed from the weights *before* the step,
and only then are the weights changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.network import MLP, Forward, Gradients, Rounder, backward, forward, trains
from gradtrace.core.optimizers import Optimizer, round_state

Array = NDArray[np.floating]


@dataclass
class StepResult:
    """What one step computed. ``old``/``new`` hold (W, b) per layer, before and after the update."""

    forward: Forward
    gradients: Gradients
    old: list[tuple[Array, Array]]
    new: list[tuple[Array, Array]]

    @property
    def cost(self) -> float:
        return self.gradients.cost


def apply_update(mlp: MLP, gradients: Gradients, optimizer: Optimizer,
                 rounder: Rounder | None = None) -> None:
    """θ ← optimiser(θ, g) for every trainable parameter, in place.

    With ``rounder`` each new θ and the optimiser's state (v, m, ...) are rounded as written down.
    """
    for l, layer in enumerate(mlp.layers, start=1):
        grad_W, grad_b = gradients.grad_W[l], gradients.grad_b[l]
        assert grad_W is not None and grad_b is not None
        for trained, key, param, grad in ((trains(mlp, l, "W"), f"W{l}", layer.W, grad_W),
                                          (trains(mlp, l, "b"), f"b{l}", layer.b, grad_b)):
            if not trained:
                continue
            optimizer.update(key, param, grad)
            if rounder is not None:
                param[...] = rounder(param)
    if rounder is not None:
        round_state(optimizer, rounder)


def train_step(mlp: MLP, X: Array, Y: Array, optimizer: Optimizer,
               rounder: Rounder | None = None) -> StepResult:
    """Forward, backward (old weights), update in place; returns every intermediate.

    ``rounder`` (core.network.hand_rounder) rounds every quantity before the next uses it.
    """
    old = [(layer.W.copy(), layer.b.copy()) for layer in mlp.layers]
    fwd = forward(mlp, X, rounder)
    grads = backward(mlp, fwd, Y, rounder)
    apply_update(mlp, grads, optimizer, rounder)
    new = [(layer.W.copy(), layer.b.copy()) for layer in mlp.layers]
    return StepResult(fwd, grads, old, new)
