"""Two-dimensional toy datasets, as the TensorFlow Playground offers, seeded and noisy.

Notation: n = number of points, X (n, 2) the points, y (n,) integer class labels, noise = the
standard deviation of Gaussian jitter added to each coordinate (in the units of X).
Every generator is a pure function of (n, noise, seed): the same arguments give the same arrays.
Classification generators return integer labels y (n,); REGRESSIONS return real targets t (n,).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Points = NDArray[np.float64]
Labels = NDArray[np.int64]
Targets = NDArray[np.float64]
Generator = Callable[..., tuple[Points, Labels]]
Regression = Callable[..., tuple[Points, Targets]]


def _jitter(rng: np.random.Generator, X: Points, noise: float) -> Points:
    return X + rng.normal(0.0, noise, size=X.shape) if noise > 0 else X


def xor(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[Points, Labels]:
    """Points in [-1, 1]²; class 1 where x₁·x₂ < 0 (opposite quadrants share a class)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))  # (n, 2)
    # keep points off the axes so that the label is unambiguous before jitter
    X += np.sign(X) * 0.05
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    return _jitter(rng, X, noise), y


def circles(n: int = 200, noise: float = 0.05, seed: int | None = 0,
            factor: float = 0.5) -> tuple[Points, Labels]:
    """An outer circle of radius 1 (class 0) around an inner one of radius ``factor`` (class 1)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % 2
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)
    radius = np.where(y == 1, factor, 1.0)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])  # (n, 2)
    return _jitter(rng, X, noise), y


def moons(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[Points, Labels]:
    """Two interleaving half circles (scikit-learn's make_moons)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % 2
    t = rng.uniform(0.0, np.pi, size=n)
    X = np.where(
        (y == 0)[:, None],
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)]),
    )  # (n, 2)
    return _jitter(rng, X, noise), y


def spirals(n: int = 200, noise: float = 0.05, seed: int | None = 0,
            classes: int = 2, turns: float = 1.5) -> tuple[Points, Labels]:
    """``classes`` interleaved arms spiralling out from the origin, ``turns`` turns each."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % classes
    r = rng.uniform(0.05, 1.0, size=n)  # distance from the centre
    angle = 2.0 * np.pi * (turns * r + y / classes)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])  # (n, 2)
    return _jitter(rng, X, noise), y


def gaussians(n: int = 200, noise: float = 0.5, seed: int | None = 0,
              classes: int = 2) -> tuple[Points, Labels]:
    """``classes`` Gaussian blobs (std ``noise``) with centres evenly spaced on a circle."""
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % classes
    angle = 2.0 * np.pi * np.arange(classes) / classes + np.pi / 4
    centres = 2.0 * np.column_stack([np.cos(angle), np.sin(angle)])  # (classes, 2)
    return centres[y] + rng.normal(0.0, noise, size=(n, 2)), y


def plane(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[Points, Targets]:
    """Points in [-1, 1]²; t = (x₁ + x₂) / 2 plus Gaussian noise on t (Playground's "plane")."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))  # (n, 2)
    t = (X[:, 0] + X[:, 1]) / 2.0
    return X, t + rng.normal(0.0, noise, size=n) if noise > 0 else t


def bumps(n: int = 200, noise: float = 0.05, seed: int | None = 0) -> tuple[Points, Targets]:
    """Points in [-1, 1]²; t = Σ_k s_k exp(-|x - c_k|² / 0.18) over four bumps at (±0.5, ±0.5),
    signs s_k = +1 on one diagonal and -1 on the other (Playground's "multi Gaussian")."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))  # (n, 2)
    centres = np.array([[0.5, 0.5], [-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5]])  # (4, 2)
    signs = np.array([1.0, 1.0, -1.0, -1.0])
    squared = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)  # (n, 4)
    t = np.exp(-squared / 0.18) @ signs  # (n,)
    return X, t + rng.normal(0.0, noise, size=n) if noise > 0 else t


def plane_grid(X: NDArray[np.floating], size: int) -> tuple[Points, Points, Points]:
    """A size x size grid over the box around 2-D points X, with a 10% margin on each side.

    Returns (xs (size,), ys (size,), points (size², 2)); points run along x first, row 0 is the
    lowest y, as matplotlib's contourf and a row-major heat map expect.
    """
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-9)
    low, high = low - margin, high + margin
    xs = np.linspace(low[0], high[0], size)
    ys = np.linspace(low[1], high[1], size)
    gx, gy = np.meshgrid(xs, ys)  # (size, size) each
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])  # (size², 2)


GENERATORS: dict[str, Generator] = {
    "xor": xor, "circles": circles, "moons": moons, "spirals": spirals, "gaussians": gaussians,
}
REGRESSIONS: dict[str, Regression] = {"plane": plane, "bumps": bumps}
