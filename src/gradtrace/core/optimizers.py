"""Optimisers: how a gradient becomes a parameter update.

Notation: θ = a parameter (W_l or b_l), g = dC/dθ, η = learning rate.
Each optimiser updates θ in place and keeps its state per parameter key ("W1", "b1", ...).
"""

from __future__ import annotations

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


@dataclass
class SGD:
    """Plain gradient descent: θ ← θ - η g."""

    learning_rate: float
    name: str = field(default="sgd", init=False)

    def update(self, key: str, param: Array, grad: Array) -> None:
        param -= self.learning_rate * grad

    def state_arrays(self) -> dict[str, Array]:
        return {}

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        return None


OPTIMIZERS: dict[str, type] = {"sgd": SGD}
