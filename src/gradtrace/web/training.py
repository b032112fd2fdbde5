"""``/api/train``: N optimiser steps on a 2-D toy dataset (or the spec's own data), as the page plays them.

Notation: P (n, 2) points, F (n, k) their input features (data/features.py; a0 of the network),
y (n,) class labels or real targets, Y (n, n_L) the targets the output layer needs (0/1 column,
one-hot rows, or numbers); the first round(n (1 - test_ratio)) points of a seeded shuffle train,
the rest test. The grid is G x G points over the data's box, its values the network's output; each
unit's thumbnail is its activation a_l[j] over a T x T grid, quantised to bytes (see ``thumbnails``).
The training itself is core.training.Trainer; this module only prepares arrays and reports.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.network import MLP, forward
from gradtrace.core.optimizers import make_optimizer
from gradtrace.core.training import Trainer, class_labels, is_classifier
from gradtrace.data.dataset import one_hot
from gradtrace.data.features import FEATURES, feature_matrix
from gradtrace.data.synthetic import GENERATORS, REGRESSIONS, plane_grid
from gradtrace.spec import Spec
from gradtrace.web import limits
from gradtrace.web.specs import explicit_spec

Array = NDArray[np.floating]
SPEC_DATA = "spec"  # dataset name meaning "the spec's own data.input / data.target"
SAMPLE = 4  # training points offered to the page as the traced batch (data.input, data.target)


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
    steps: int  # optimiser steps; 0 draws the data and the untrained network
    grid: int
    batch_size: int | None = None  # None: the whole training set, one step an epoch
    test_ratio: float = 0.0
    features: tuple[str, ...] = ("x1", "x2")
    l1: float = 0.0
    thumbnail: int = 0  # thumbnail side T, 0 for none
    start: int = 0  # steps already played: seeds this request's shuffles
    send_points: bool = True  # False while playing: the page keeps the points it has
    compact: bool = False  # the boundary grid as bytes, as the thumbnails are


@dataclass(frozen=True)
class Data:
    """Points P (n, 2) or None, features F (n, k), targets Y (n, n_L), labels (n,) or None."""

    P: Array | None
    F: Array
    Y: Array
    labels: Array | None
    regression: bool


def _generated(spec: Spec, settings: TrainSettings) -> Data:
    kwargs: dict[str, Any] = {"n": settings.points, "seed": settings.seed}
    if settings.noise is not None:
        kwargs["noise"] = settings.noise
    sizes = spec.layer_sizes()
    k = len(settings.features)
    if sizes[0] != k:
        names = ", ".join(FEATURES[f].symbol for f in settings.features)
        raise TrainInputError("spec", f"dataset {settings.dataset!r} gives {k} input feature"
                              f"{'s' if k > 1 else ''} ({names}) but the network takes {sizes[0]}; "
                              f"make the input layer {k} unit{'s' if k > 1 else ''} wide")
    n_out = sizes[-1]
    if settings.dataset in REGRESSIONS:
        P, t = REGRESSIONS[settings.dataset](**kwargs)  # (n, 2), (n,)
        if n_out != 1:
            raise TrainInputError("spec", f"dataset {settings.dataset!r} has one real target but "
                                  f"the network has {n_out} outputs; give it 1 output")
        return Data(P, feature_matrix(P, settings.features), t[:, None], None, True)
    P, y = GENERATORS[settings.dataset](**kwargs)  # (n, 2), (n,)
    classes = int(y.max()) + 1
    if n_out == 1:
        if classes > 2:
            raise TrainInputError("spec", f"dataset {settings.dataset!r} has {classes} classes but "
                                  "the network has 1 output; give it one output per class")
        Y = y[:, None].astype(np.float64)  # (n, 1)
    elif n_out >= classes:
        Y = np.asarray(one_hot(y, n_out), dtype=np.float64)  # (n, n_out)
    else:
        raise TrainInputError("spec", f"dataset {settings.dataset!r} has {classes} classes but the "
                              f"network has {n_out} outputs; use 1 output or {classes}")
    return Data(P, feature_matrix(P, settings.features), Y, y.astype(np.float64), False)


def dataset_arrays(spec: Spec, settings: TrainSettings) -> Data:
    """The points, features and targets of the request's dataset, checked against the network."""
    if settings.dataset == SPEC_DATA:
        X, Y = spec.arrays()
        return Data(X if X.shape[1] == 2 else None, X, Y, None, False)
    return _generated(spec, settings)


def split(n: int, test_ratio: float, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(train rows, test rows): a seeded shuffle, the last round(n · test_ratio) rows testing."""
    if test_ratio <= 0.0:
        return np.arange(n), np.arange(0)
    order = np.random.default_rng([seed, 1]).permutation(n)
    n_test = min(max(round(n * test_ratio), 1), n - 1)
    return np.sort(order[: n - n_test]), np.sort(order[n - n_test:])


def _as_bytes(column: NDArray[np.float64]) -> dict[str, Any]:
    """Values v as bytes q = round(255 (v - lo) / (hi - lo)), base64, with [lo, hi] beside them."""
    lo, hi = float(column.min()), float(column.max())
    scaled = (column - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(column)
    data = np.round(scaled).astype(np.uint8).tobytes()
    return {"range": [lo, hi], "bytes": base64.b64encode(data).decode("ascii")}


def boundary_grid(mlp: MLP, P: Array, features: tuple[str, ...], size: int,
                  compact: bool = False) -> dict[str, Any]:
    """The output over a size x size grid covering P (with a margin); row 0 is the lowest y.

    ``values`` (size rows of size numbers, 3 decimals) is a class index where the network has
    several outputs, else a_L itself; ``compact`` sends them as bytes instead (see thumbnails),
    a sixth of the size.
    """
    xs, ys, points = plane_grid(P, size)  # (size², 2)
    out = forward(mlp, feature_matrix(points, features).astype(mlp.dtype)).a[-1]  # (size², n_L)
    if out.shape[1] == 1:
        kind, values = "output", out[:, 0]
    else:
        kind, values = "class", np.argmax(out, axis=1).astype(np.float64)
    grid = {"kind": kind, "size": size,
            "x": [float(xs[0]), float(xs[-1])], "y": [float(ys[0]), float(ys[-1])]}
    if compact:
        return {**grid, **_as_bytes(np.asarray(values, dtype=np.float64))}
    return {**grid, "values": np.round(values, 3).reshape(size, size).tolist()}


def thumbnails(mlp: MLP, P: Array, features: tuple[str, ...], size: int) -> dict[str, Any]:
    """Every unit's activation a_l[j] over a size x size grid, as compact bytes.

    Each unit's values v are sent as q = round(255 (v - lo) / (hi - lo)) in one byte each (base64,
    row-major, row 0 the lowest y) with [lo, hi] beside them: a 16x16 thumbnail is 344 characters
    instead of ~1,800 for the numbers, within (hi - lo)/510 of the true value, enough for colour.
    layers[0] are the input features, layers[l] the units of layer l.
    """
    _, _, grid = plane_grid(P, size)
    fwd = forward(mlp, feature_matrix(grid, features).astype(mlp.dtype))
    layers = [[_as_bytes(column) for column in np.asarray(a, dtype=np.float64).T]
              for a in fwd.a]  # a: (size², n_l)
    return {"size": size, "layers": layers}


# A grid point costs a forward pass, about a third of a training sample's forward + backward.
GRID_POINT_COST = 1 / 3


def _reply_points(data: Data, test: NDArray[np.intp]) -> dict[str, Any] | None:
    if data.P is None:
        return None
    is_test = np.zeros(data.P.shape[0], dtype=bool)
    is_test[test] = True
    return {
        "x": np.round(data.P, 3).tolist(),  # (n, 2)
        "label": None if data.labels is None else data.labels.astype(int).tolist(),
        "target": np.round(data.Y[:, 0], 3).tolist() if data.regression else None,
        "test": is_test.astype(int).tolist(),
    }


def evaluate(mlp: MLP, F: Array, Y: Array, labels: NDArray[np.intp] | None
             ) -> tuple[float | None, float | None]:
    """(C, accuracy) over the rows of F after training: C = (1/n) Σ_s C_s; None for no rows."""
    if F.shape[0] == 0:
        return None, None
    out = forward(mlp, F).a[-1]  # (n, n_L)
    loss = float(np.mean(mlp.loss.cost(out, Y)))
    if labels is None:
        return loss, None
    predicted = (out[:, 0] > 0.5) if out.shape[1] == 1 else out.argmax(axis=1)
    return loss, float(np.mean(predicted == labels))


def _batches(n: int, batch: int, steps: int, seed: int, start: int) -> NDArray[np.intp] | None:
    """Row indices of ``steps`` batches, each ``batch`` rows of a seeded shuffle (epochs chained);
    None when a batch is the whole set, taken in row order without copies."""
    if batch >= n or steps == 0:
        return None
    epochs = -(-steps * batch // n)
    rng = np.random.default_rng([seed, 2, start])
    return np.concatenate([rng.permutation(n) for _ in range(epochs)])[: steps * batch]


def train(spec: Spec, settings: TrainSettings,
          budget: float = limits.MAX_TRAIN_SECONDS) -> dict[str, Any]:
    """Train a copy of the spec's network; the new parameters, the losses, grids and thumbnails.

    A step is one optimiser update on a batch of ``batch_size`` training points (all of them by
    default). ``loss[i]`` is step i's batch loss before its update (a divergence check);
    ``train_loss``/``test_loss`` are C = (1/n) Σ_s C_s over the training/test points after the
    last step, as the page plots them. After each step the time of the whole request is projected:
    T = t_spent + (t_step)(steps left) + (t_step / batch)(grid points)(GRID_POINT_COST); over
    ``budget`` it stops with a WebLimitError (413), so no request computes past the budget by more
    than one step.
    """
    started = time.perf_counter()
    mlp = spec.build_mlp()
    data = dataset_arrays(spec, settings)
    F, Y = data.F.astype(mlp.dtype), data.Y.astype(mlp.dtype)
    train_rows, test_rows = split(F.shape[0], settings.test_ratio, settings.seed)
    F_train, Y_train = F[train_rows], Y[train_rows]
    labels = data.labels
    if labels is None and is_classifier(mlp) and not data.regression:
        labels = class_labels(Y).astype(np.float64)
    label_index = None if labels is None or not is_classifier(mlp) else labels.astype(np.intp)
    n = F_train.shape[0]
    batch = n if settings.batch_size is None else min(settings.batch_size, n)
    hyperparameters = spec.optimizer.model_dump(exclude={"name"})
    optimizer = make_optimizer(spec.optimizer.name, spec.learning_rate, l1=settings.l1,
                               **hyperparameters)
    trainer = Trainer(mlp, optimizer, batch_size=batch)
    rows = _batches(n, batch, settings.steps, settings.seed, settings.start)
    # the batches' rows gathered once: (steps·batch, k), step i reads rows i·batch .. (i+1)·batch
    F_steps = F_train if rows is None else F_train[rows]
    Y_steps = Y_train if rows is None else Y_train[rows]
    losses = []
    grid_points = settings.grid ** 2 + settings.thumbnail ** 2 if data.P is not None else 0
    loop_started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        for done in range(1, settings.steps + 1):
            at = 0 if rows is None else (done - 1) * batch
            totals = trainer.epoch(F_steps[at:at + batch], Y_steps[at:at + batch], None, None)
            losses.append(totals.loss_sum / totals.samples)
            now = time.perf_counter()
            per_step = (now - loop_started) / done
            grid_cost = per_step / batch * grid_points * GRID_POINT_COST
            limits.check_time("steps", now - started + per_step * (settings.steps - done)
                              + grid_cost, f"{per_step * 1000:.1f} ms a step of {batch:,} "
                              f"points, measured over {done} step{'s' if done > 1 else ''}", budget)
        diverged = next((i for i, loss in enumerate(losses) if not np.isfinite(loss)), None)
        if diverged is not None:
            raise TrainInputError("spec.learning_rate", f"training diverged at step {diverged + 1} "
                                  f"(loss {losses[diverged]}); lower the learning rate")
        train_index = None if label_index is None else label_index[train_rows]
        test_index = None if label_index is None else label_index[test_rows]
        train_loss, accuracy = evaluate(mlp, F_train, Y_train, train_index)
        test_loss, test_accuracy = evaluate(mlp, F[test_rows], Y[test_rows], test_index)
    if not all(v is None or np.isfinite(v) for v in (train_loss, test_loss)):
        raise TrainInputError("spec.learning_rate", "the loss after training is not finite (the "
                              "network's outputs overflow); lower the learning rate")
    plane = data.P is not None
    sample = train_rows[:SAMPLE]
    return {
        "spec": explicit_spec(spec, mlp),
        "loss": losses,
        "train_loss": train_loss,
        "test_loss": test_loss,
        "accuracy": accuracy,
        "test_accuracy": test_accuracy,
        "points": _reply_points(data, test_rows) if settings.send_points else None,
        "grid": boundary_grid(mlp, data.P, settings.features, settings.grid, settings.compact)
        if plane and settings.grid and data.P is not None else None,
        "units": thumbnails(mlp, data.P, settings.features, settings.thumbnail)
        if plane and settings.thumbnail and data.P is not None else None,
        # the first training points as a traced batch: a0 holds their features (data/features.py)
        "sample": {"input": np.round(F[sample], 6).tolist(),
                   "target": np.round(Y[sample], 6).tolist()},
        "server_ms": (time.perf_counter() - started) * 1000.0,
    }
