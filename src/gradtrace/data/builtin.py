"""Small classic datasets shipped inside scikit-learn (no download): iris and digits.

scikit-learn is an optional extra; without it these raise a GradtraceError that says how to get it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradtrace.data.dataset import Dataset
from gradtrace.errors import GradtraceError

INSTALL_HINT = "pip install gradtrace[datasets]"


class MissingExtraError(GradtraceError):
    """An optional dependency that a requested feature needs is not installed."""


def _sklearn_datasets() -> Any:
    try:
        from sklearn import datasets
    except ImportError:
        raise MissingExtraError(
            f"the iris and digits datasets need scikit-learn, which is not installed; run "
            f"`{INSTALL_HINT}` (or use a 2-D dataset such as xor, or --data FILE.csv)"
        ) from None
    return datasets


def iris() -> Dataset:
    """Fisher's iris: 150 flowers, 4 measurements in cm, 3 species."""
    bunch = _sklearn_datasets().load_iris()
    return Dataset("iris", np.asarray(bunch.data, dtype=np.float64),
                   np.asarray(bunch.target, dtype=np.int64),
                   [str(name) for name in bunch.feature_names],
                   [str(name) for name in bunch.target_names], "species")


def digits() -> Dataset:
    """8x8 handwritten digits: 1797 images, 64 pixels scaled from 0..16 to [0, 1], classes 0-9."""
    bunch = _sklearn_datasets().load_digits()
    return Dataset("digits", np.asarray(bunch.data, dtype=np.float64) / 16.0,
                   np.asarray(bunch.target, dtype=np.int64),
                   [f"pixel_{i // 8}_{i % 8}" for i in range(64)],
                   [str(d) for d in range(10)], "digit")


BUILTIN = {"iris": iris, "digits": digits}
