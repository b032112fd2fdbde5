"""The Dataset record every loader returns.

Notation: X (n, n_features) rows are samples; y (n,) integer class labels for classification, or
Y (n, k) numbers for regression; standardisation x' = (x - mean) / std per feature column.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Dataset:
    """Features, targets and their names. ``class_names`` is None for regression targets."""

    name: str
    X: NDArray[np.float64]  # (n, n_features)
    y: NDArray[np.int64] | NDArray[np.float64]  # (n,) class labels, or (n, k) numbers
    feature_names: list[str]
    class_names: list[str] | None = None
    target_name: str = "target"
    mean: NDArray[np.float64] | None = field(default=None, repr=False)  # set by standardized()
    std: NDArray[np.float64] | None = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def is_classification(self) -> bool:
        return self.class_names is not None

    @property
    def n_outputs(self) -> int:
        """Output units a network needs: one per class (one for two classes with a sigmoid is
        also possible, but one-hot keeps softmax and cross-entropy uniform)."""
        if self.class_names is not None:
            return len(self.class_names)
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    def targets(self) -> NDArray[np.float64]:
        """Y (n, n_outputs): one-hot rows for classes, the numbers themselves otherwise."""
        if self.class_names is not None:
            one_hot = np.zeros((self.n_samples, len(self.class_names)))
            one_hot[np.arange(self.n_samples), self.y.astype(np.intp)] = 1.0
            return one_hot
        return self.y.reshape(self.n_samples, -1).astype(np.float64)

    def standardized(self) -> Dataset:
        """Each feature shifted and scaled to mean 0, std 1 (constant columns left at std 1)."""
        mean = self.X.mean(axis=0)  # (n_features,)
        std = self.X.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        return replace(self, X=(self.X - mean) / std, mean=mean, std=std)
