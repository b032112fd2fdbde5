"""``/api/train``: N full-batch optimiser steps on a 2-D toy dataset (or the spec's own data).

Notation: X (n, 2) points, y (n,) class labels, Y (n, n_L) targets (0/1 column, or one-hot rows);
the grid is G x G points over the data's bounding box, its values the network's output there.
The training itself is core.training.Trainer; this module only prepares arrays and reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.network import MLP, forward
from gradtrace.core.training import Trainer, class_labels, is_classifier
from gradtrace.data.synthetic import GENERATORS, plane_grid
from gradtrace.spec import Spec
from gradtrace.web import limits
from gradtrace.web.specs import explicit_spec

Array = NDArray[np.floating]
SPEC_DATA = "spec"  # dataset name meaning "the spec's own data.input / data.target"


class TrainInputError(ValueError):
    """The network does not fit the dataset; ``field`` names the request field to fix."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class TrainSettings:
    dataset: str
    points: int
    noise: float | None
    seed: int
    steps: int
    grid: int


def dataset_arrays(spec: Spec, settings: TrainSettings) -> tuple[Array, Array, Array | None]:
    """(X, Y, labels): the points, the targets the network's output layer needs, class labels."""
    sizes = spec.layer_sizes()
    if settings.dataset == SPEC_DATA:
        X, Y = spec.arrays()
        return X, Y, None
    if sizes[0] != 2:
        raise TrainInputError("spec", f"dataset {settings.dataset!r} has 2 inputs but the network "
                              f"takes {sizes[0]}; make the input layer 2 units wide")
    kwargs: dict[str, Any] = {"n": settings.points, "seed": settings.seed}
    if settings.noise is not None:
        kwargs["noise"] = settings.noise
    X, y = GENERATORS[settings.dataset](**kwargs)  # (n, 2), (n,)
    classes = int(y.max()) + 1
    n_out = sizes[-1]
    if n_out == 1:
        if classes > 2:
            raise TrainInputError("spec", f"dataset {settings.dataset!r} has {classes} classes but "
                                  "the network has 1 output; give it one output per class")
        Y = y[:, None].astype(np.float64)  # (n, 1)
    elif n_out >= classes:
        Y = np.eye(n_out)[y]  # (n, n_out) one-hot
    else:
        raise TrainInputError("spec", f"dataset {settings.dataset!r} has {classes} classes but the "
                              f"network has {n_out} outputs; use 1 output or {classes}")
    return X, Y, y.astype(np.float64)


def boundary_grid(mlp: MLP, X: Array, size: int) -> dict[str, Any]:
    """The output over a size x size grid covering X (with a margin); row 0 is the lowest y."""
    xs, ys, points = plane_grid(X, size)
    out = forward(mlp, points.astype(mlp.dtype)).a[-1]  # (size², n_L)
    if out.shape[1] == 1:
        kind, values = "output", out[:, 0]
    else:
        kind, values = "class", np.argmax(out, axis=1).astype(np.float64)
    return {
        "kind": kind, "size": size,
        "x": [float(xs[0]), float(xs[-1])], "y": [float(ys[0]), float(ys[-1])],
        "values": np.round(values, 4).reshape(size, size).tolist(),
    }


# A grid point costs a forward pass, about a third of a training sample's forward + backward.
GRID_POINT_COST = 1 / 3


def train(spec: Spec, settings: TrainSettings,
          budget: float = limits.MAX_TRAIN_SECONDS) -> dict[str, Any]:
    """Train a copy of the spec's network; the new parameters, the losses and the grid.

    After each step the time of the whole request is projected from the steps so far:
    T = t_spent + (t_step)(steps left) + (t_step / n)(G²)(GRID_POINT_COST); over ``budget`` it
    stops with a WebLimitError (413) instead of running on, so no request computes past the budget
    by more than one step.
    """
    started = time.perf_counter()
    mlp = spec.build_mlp()
    X, Y, labels = dataset_arrays(spec, settings)
    X, Y = X.astype(mlp.dtype), Y.astype(mlp.dtype)
    if labels is None and is_classifier(mlp):
        labels = class_labels(Y).astype(np.float64)
    trainer = Trainer(mlp, spec.build_optimizer(), batch_size=X.shape[0])
    label_index = None if labels is None or not is_classifier(mlp) else labels.astype(np.intp)
    losses, correct = [], 0
    grid_points = settings.grid ** 2 if X.shape[1] == 2 else 0
    loop_started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        for done in range(1, settings.steps + 1):
            totals = trainer.epoch(X, Y, label_index, None)
            losses.append(totals.loss_sum / totals.samples)
            correct = totals.correct
            now = time.perf_counter()
            per_step = (now - loop_started) / done
            grid_cost = per_step / X.shape[0] * grid_points * GRID_POINT_COST
            limits.check_time("steps", now - started + per_step * (settings.steps - done)
                              + grid_cost, f"{per_step * 1000:.1f} ms a step of {X.shape[0]:,} "
                              f"points, measured over {done} step{'s' if done > 1 else ''}", budget)
    diverged = next((i for i, loss in enumerate(losses) if not np.isfinite(loss)), None)
    if diverged is not None:
        raise TrainInputError("spec.learning_rate", f"training diverged at step {diverged + 1} "
                              f"(loss {losses[diverged]}); lower the learning rate")
    grid = boundary_grid(mlp, X, settings.grid) if X.shape[1] == 2 and settings.grid else None
    return {
        "spec": explicit_spec(spec, mlp),
        "loss": losses,
        "accuracy": correct / X.shape[0] if label_index is not None else None,
        "points": None if X.shape[1] != 2 else {
            "x": np.round(X, 4).tolist(),
            "label": None if labels is None else labels.astype(int).tolist(),
        },
        "grid": grid,
        "server_ms": (time.perf_counter() - started) * 1000.0,
    }
