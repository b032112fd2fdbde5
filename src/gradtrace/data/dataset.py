"""The Dataset record every loader returns.

Notation: X (n, n_features) rows are samples; y (n,) integer class labels for classification, or
Y (n, k) numbers for regression; standardisation x' = (x - mean) / std per feature column.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from gradtrace.errors import DataError


def one_hot(labels: NDArray[np.integer[Any]], n_classes: int,
            dtype: DTypeLike = np.float64) -> NDArray[np.floating[Any]]:
    """Y (n, n_classes) with Y[s, labels[s]] = 1 and 0 elsewhere; labels must lie in 0..k-1."""
    Y: NDArray[np.floating[Any]] = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    Y[np.arange(labels.shape[0]), labels.astype(np.intp)] = 1.0
    return Y


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

    def targets(self, n_outputs: int | None = None) -> NDArray[np.floating[Any]]:
        """Y (n, n_outputs): one-hot rows for classes, the numbers themselves otherwise.

        With ``n_outputs = 1`` two classes become one 0/1 column (a sigmoid output with binary
        cross-entropy); labels that no such encoding fits are a DataError.
        """
        if self.class_names is None:
            return self.y.reshape(self.n_samples, -1).astype(np.float64)
        k = len(self.class_names)
        if k < 2:
            raise DataError(f"{self.name}: the target {self.target_name!r} has one class "
                            f"({self.class_names[0]!r}); a classifier needs at least two")
        if n_outputs == 1:
            if k != 2:
                raise DataError(
                    f"{self.name}: the target {self.target_name!r} has {k} classes "
                    f"({_listed(self.class_names)}) but the network has one output, which "
                    f"encodes two classes as 0/1; use {k} outputs with softmax and cross_entropy")
            return self.y.reshape(-1, 1).astype(np.float64)
        return one_hot(self.y.astype(np.intp), k)

    def standardized(self) -> Dataset:
        """Each feature shifted and scaled to mean 0, std 1 (constant columns left at std 1)."""
        mean = self.X.mean(axis=0)  # (n_features,)
        std = self.X.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        return replace(self, X=(self.X - mean) / std, mean=mean, std=std)


def _listed(names: list[str], most: int = 6) -> str:
    shown = ", ".join(names[:most])
    return shown + (", ..." if len(names) > most else "")
