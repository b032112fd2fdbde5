"""Weight initialisation from layer sizes: W (n_out, n_in), b (n_out,) zeros."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]
# quoted: numpy loads numpy.random on first attribute access (~10 ms), which a spec with its own
# weights never needs (tests/test_startup.py)
Initialiser = Callable[["np.random.Generator", int, int], NDArray[np.float64]]


def xavier(rng: np.random.Generator, n_in: int, n_out: int) -> NDArray[np.float64]:
    """Glorot uniform: W ~ U(-r, r), r = √(6 / (n_in + n_out)); suits sigmoid and tanh."""
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, size=(n_out, n_in))


def he(rng: np.random.Generator, n_in: int, n_out: int) -> NDArray[np.float64]:
    """He normal: W ~ N(0, 2 / n_in); suits relu."""
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in))


def uniform(rng: np.random.Generator, n_in: int, n_out: int) -> NDArray[np.float64]:
    """W ~ U(-1/√n_in, 1/√n_in), PyTorch's Linear default."""
    r = 1.0 / np.sqrt(n_in)
    return rng.uniform(-r, r, size=(n_out, n_in))


INITIALISERS: dict[str, Initialiser] = {"xavier": xavier, "he": he, "uniform": uniform}


def init_weights(
    sizes: list[int], method: str, seed: int | None, dtype: np.dtype[np.floating] | type = np.float64
) -> list[tuple[Array, Array]]:
    """(W, b) for each consecutive pair of sizes; b starts at zero."""
    rng = np.random.default_rng(seed)
    init = INITIALISERS[method]
    return [
        (init(rng, n_in, n_out).astype(dtype), np.zeros(n_out, dtype=dtype))
        for n_in, n_out in itertools.pairwise(sizes)
    ]
