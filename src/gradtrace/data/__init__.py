"""Datasets: 2-D generators (xor, circles, moons, spirals, gaussians), iris and digits from
scikit-learn when it is installed, and CSV files. Nothing is ever downloaded.

    from gradtrace.data import load_dataset, load_csv
    data = load_dataset("circles", n=400, noise=0.05, seed=0)   # data.X (400, 2), data.y (400,)
"""

from __future__ import annotations

from gradtrace.data.builtin import BUILTIN, INSTALL_HINT, MissingExtraError, digits, iris
from gradtrace.data.csv import CSVError, load_csv, load_features
from gradtrace.data.dataset import Dataset
from gradtrace.data.synthetic import GENERATORS, circles, gaussians, moons, spirals, xor
from gradtrace.errors import DataError, unknown_name

__all__ = [
    "BUILTIN", "GENERATORS", "INSTALL_HINT", "CSVError", "Dataset", "MissingExtraError",
    "circles", "dataset_names", "digits", "gaussians", "iris", "load_csv", "load_dataset", "load_features",
    "moons", "spirals", "xor",
]


def dataset_names() -> list[str]:
    """Every built-in dataset name."""
    return sorted([*GENERATORS, *BUILTIN])


def load_dataset(name: str, n: int = 200, noise: float | None = None,
                 seed: int | None = 0) -> Dataset:
    """A built-in dataset by name; ``n``/``noise``/``seed`` apply to the 2-D generators."""
    if name in GENERATORS:
        if n < 1:
            raise DataError(f"dataset {name!r}: n must be a positive number of points, found {n}")
        generator = GENERATORS[name]
        X, y = generator(n, seed=seed) if noise is None else generator(n, noise, seed)
        classes = int(y.max()) + 1
        return Dataset(name, X, y, ["x1", "x2"], [str(k) for k in range(classes)], "class")
    if name in BUILTIN:
        return BUILTIN[name]()
    raise DataError(unknown_name("dataset", name, dataset_names()))
