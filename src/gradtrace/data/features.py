"""Input features computed from a 2-D point, as TensorFlow Playground offers them.

Notation: X (n, 2) the points (x₁, x₂); F (n, k) the chosen features, one column each, in the
order asked for. The network's input layer a0 is F, so the worked maths shows these values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradtrace.errors import unknown_name

Array = NDArray[np.floating]


@dataclass(frozen=True)
class Feature:
    """One input column: its name in requests, its printed symbol and f(X) -> (n,)."""

    name: str
    symbol: str
    compute: Callable[[Array], Array]


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("x1", "x₁", lambda X: X[:, 0]),
    Feature("x2", "x₂", lambda X: X[:, 1]),
    Feature("x1^2", "x₁²", lambda X: X[:, 0] ** 2),
    Feature("x2^2", "x₂²", lambda X: X[:, 1] ** 2),
    Feature("x1*x2", "x₁·x₂", lambda X: X[:, 0] * X[:, 1]),
    Feature("sin_x1", "sin x₁", lambda X: np.sin(X[:, 0])),
    Feature("sin_x2", "sin x₂", lambda X: np.sin(X[:, 1])),
)}
DEFAULT_FEATURES = ("x1", "x2")


def check_features(names: Sequence[str]) -> tuple[str, ...]:
    """The names as a tuple; ValueError naming the closest feature for an unknown or repeated one."""
    for name in names:
        if name not in FEATURES:
            raise ValueError(unknown_name("feature", name, list(FEATURES)))
    if len(set(names)) != len(names):
        raise ValueError(f"a feature is listed twice in {list(names)}; list each once")
    if not names:
        raise ValueError(f"no features; choose at least one of {', '.join(FEATURES)}")
    return tuple(names)


def feature_matrix(X: Array, names: Sequence[str]) -> Array:
    """F (n, k): column i is FEATURES[names[i]] of the points X (n, 2)."""
    if tuple(names) == DEFAULT_FEATURES:
        return X
    return np.column_stack([FEATURES[name].compute(X) for name in names])  # (n, k)
