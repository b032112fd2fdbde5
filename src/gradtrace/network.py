"""``Network``: train, evaluate, predict, save and load an MLP, on the same engine as ``step``.

Notation: X (n, n_0) rows are samples; Y (n, n_L) targets, one-hot for classes (integer labels
(n,) are one-hot encoded here); an epoch is one pass over the training rows in batches of B.

    net = Network.from_sizes([64, 32, 10], activations=["relu", "softmax"],
                             loss="cross_entropy", seed=0, dtype="float32")
    history = net.fit(X, y, epochs=20, batch_size=32, optimizer="sgd", learning_rate=0.1)
    net.evaluate(X, y); net.predict(X); net.save("model.npz"); Network.load("model.npz")
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import ValidationError

from gradtrace import checkpoint as checkpoint_file
from gradtrace.core.network import MLP, forward, per_sample_cost
from gradtrace.core.optimizers import HYPERPARAMETERS, OPTIMIZERS, Optimizer, make_optimizer
from gradtrace.core.training import Trainer, class_labels, is_classifier
from gradtrace.data.dataset import one_hot
from gradtrace.errors import (
    CheckpointError,
    DivergenceError,
    ShapeError,
    SpecError,
    UnknownNameError,
    unknown_name,
)
from gradtrace.spec import OptimizerSpec, Spec, describe_validation_error, parse_spec

Array = NDArray[np.floating]
# Rows per forward pass in predict/evaluate: bounds memory for any dataset size.
PREDICT_CHUNK = 8192


@dataclass
class History:
    """Per-epoch figures: mean training loss and accuracy over the epoch's batches (as Keras
    reports them), and loss/accuracy on the validation rows after the epoch when there are any."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    samples_per_second: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def to_dict(self) -> dict[str, list[float]]:
        return asdict(self)


@dataclass(frozen=True)
class EpochLog:
    """What a progress display shows after each epoch."""

    epoch: int  # from 1
    epochs: int
    loss: float
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    samples_per_second: float

    def line(self) -> str:
        parts = [f"epoch {self.epoch}/{self.epochs}", f"loss {self.loss:.4f}"]
        if self.accuracy is not None:
            parts.append(f"accuracy {self.accuracy:.3f}")
        if self.val_loss is not None:
            parts.append(f"val_loss {self.val_loss:.4f}")
        if self.val_accuracy is not None:
            parts.append(f"val_accuracy {self.val_accuracy:.3f}")
        parts.append(f"{self.samples_per_second:,.0f} samples/s")
        return "  ".join(parts)


ProgressCallback = Callable[[EpochLog], None]


def progress_due(log: EpochLog) -> bool:
    """Whether plain progress shows this epoch: the first, the last and every epochs/20th."""
    every = max(1, log.epochs // 20)
    return log.epoch == 1 or log.epoch == log.epochs or log.epoch % every == 0


def print_progress(log: EpochLog) -> None:
    """Plain one-line-per-epoch progress (about 20 lines for any number of epochs)."""
    if progress_due(log):
        print(log.line(), flush=True)


@dataclass
class _Resume:
    """Training state a checkpoint carries besides the weights."""

    optimizer: dict[str, Any]
    optimizer_state: dict[str, Array]
    rng_state: dict[str, Any] | None
    history: History


class Network:
    """A multilayer perceptron you can fit, evaluate, predict with, save and load."""

    def __init__(self, mlp: MLP, spec: Spec | None = None) -> None:
        self.mlp = mlp
        self.spec = spec
        self.history = History()
        # JSON-able facts saved with the model: feature/class names, standardisation, dataset
        self.metadata: dict[str, Any] = {}
        self._resume: _Resume | None = None

    # ---- building ----------------------------------------------------------------------------

    @classmethod
    def from_sizes(
        cls,
        sizes: Sequence[int],
        activations: str | Sequence[str] = "sigmoid",
        loss: str = "half_sse",
        *,
        init: str | None = None,
        seed: int | None = 0,
        dtype: str = "float64",
        train_biases: bool = True,
    ) -> Network:
        """Layer sizes [n_0, ..., n_L] with seeded initial weights (He for relu, else Xavier)."""
        names = [activations] if isinstance(activations, str) else list(activations)
        if init is None:
            init = "he" if "relu" in names else "xavier"
        data: dict[str, Any] = {
            "sizes": list(sizes), "loss": loss, "init": init, "seed": seed, "dtype": dtype,
            "train_biases": train_biases,
            "activations": activations if isinstance(activations, str) else list(activations),
        }
        return cls.from_spec(parse_spec(data, source="Network.from_sizes"))

    @classmethod
    def from_spec(cls, spec: Spec) -> Network:
        """The network a spec describes (explicit weights, or sizes with init and seed)."""
        return cls(spec.build_mlp(), spec)

    @property
    def sizes(self) -> list[int]:
        return self.mlp.sizes

    @property
    def dtype(self) -> np.dtype[np.floating]:
        return self.mlp.dtype

    @property
    def is_classifier(self) -> bool:
        return is_classifier(self.mlp)

    # ---- data in -----------------------------------------------------------------------------

    def inputs(self, X: ArrayLike, name: str = "X") -> Array:
        """X as C-contiguous rows in the network's dtype (copied only when it has to be)."""
        array = np.asarray(X)
        if array.ndim == 1 and self.sizes[0] == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != self.sizes[0]:
            raise ShapeError(
                f"{name} has shape {array.shape}; the network takes rows of {self.sizes[0]} "
                f"inputs, so expected ({array.shape[0] if array.ndim else 'n'}, {self.sizes[0]})"
            )
        return np.ascontiguousarray(array, dtype=self.dtype)

    def targets(self, Y: ArrayLike, n: int, name: str = "Y") -> Array:
        """Y as (n, n_L) rows; integer class labels (n,) become one-hot rows."""
        array = np.asarray(Y)
        n_out = self.sizes[-1]
        if array.ndim == 1 and n_out > 1:
            if not np.issubdtype(array.dtype, np.integer):
                if not np.all(np.equal(np.mod(array, 1), 0)):
                    raise ShapeError(f"{name} is 1-D but not integer class labels")
                array = array.astype(np.int64)
            if array.size and (array.min() < 0 or array.max() >= n_out):
                raise ShapeError(
                    f"{name} holds class labels {int(array.min())}..{int(array.max())}; the "
                    f"network has {n_out} outputs, so labels must lie in 0..{n_out - 1}"
                )
            array = one_hot(array, n_out, self.dtype)
        elif array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != n_out or array.shape[0] != n:
            raise ShapeError(
                f"{name} has shape {array.shape}; expected ({n}, {n_out}) (one row per sample of "
                f"X, one column per output) or ({n},) integer class labels"
            )
        if (problem := self.mlp.loss.target_problem(array, name)) is not None:
            raise ShapeError(problem)
        return np.ascontiguousarray(array, dtype=self.dtype)

    # ---- training ----------------------------------------------------------------------------

    def fit(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        epochs: int = 10,
        batch_size: int = 32,
        optimizer: str | Optimizer = "sgd",
        learning_rate: float = 0.1,
        *,
        momentum: float = 0.9,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        shuffle: bool = True,
        seed: int | None = 0,
        validation_split: float = 0.0,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        progress: bool | ProgressCallback = False,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 0,
        resume: bool = False,
    ) -> History:
        """Train for ``epochs`` epochs (in total, counting those a resumed checkpoint already did).

        ``validation_split`` holds out the *last* fraction of the rows (before any shuffling, as
        Keras does). With ``checkpoint`` the state is saved there atomically at the end, every
        ``checkpoint_every`` epochs and on Ctrl-C; ``resume=True`` continues from it bit for bit.
        A NaN or infinite loss raises DivergenceError and leaves the last good checkpoint in place.
        """
        _check_positive("epochs", epochs)
        _check_positive("batch_size", batch_size)
        if not 0.0 <= validation_split < 1.0:
            raise SpecError(f"validation_split must be in [0, 1), found {validation_split}")
        X_all = self.inputs(X)
        Y_all = self.targets(Y, X_all.shape[0])
        X_train, Y_train, X_val, Y_val = self._split(
            X_all, Y_all, validation_split, validation_data
        )
        if X_train.shape[0] == 0:
            raise ShapeError("no training rows: give data, or a smaller validation_split")
        hyper = {"momentum": momentum, "beta1": beta1, "beta2": beta2, "epsilon": epsilon,
                 "weight_decay": weight_decay}
        opt = self._optimizer(optimizer, learning_rate, hyper)
        rng = np.random.default_rng(seed)
        self.history = History()
        if resume and checkpoint is not None and Path(checkpoint).exists():
            self._restore(Network.load(checkpoint), opt, rng)
        elif resume and self._resume is not None:
            self._restore(self, opt, rng)
        trainer = Trainer(self.mlp, opt, batch_size)
        labels = class_labels(Y_train) if self.is_classifier else None
        callback = print_progress if progress is True else progress or None
        config = {"optimizer": _optimizer_config(opt), "batch_size": batch_size,
                  "shuffle": shuffle, "seed": seed}
        good = self._snapshot(opt, rng) if checkpoint is not None else None
        # A file that was there before a fresh run is someone's model: a diverging run must not
        # replace it, unless this run has already written its own checkpoints there.
        owned = resume or checkpoint is None or not Path(checkpoint).exists()
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # a NaN loss is reported below
                for epoch in range(self.history.epochs + 1, epochs + 1):
                    started = time.perf_counter()
                    order = rng.permutation(X_train.shape[0]) if shuffle else None
                    totals = trainer.epoch(X_train, Y_train, labels, order)
                    seconds = max(time.perf_counter() - started, 1e-12)
                    loss = totals.loss_sum / totals.samples
                    if not np.isfinite(loss):
                        raise DivergenceError(f"training diverged at epoch {epoch}: the loss "
                                              f"is {loss}")
                    accuracy = totals.correct / totals.samples if labels is not None else None
                    log = self._record(epoch, epochs, loss, accuracy, totals.samples / seconds,
                                       X_val, Y_val)
                    if checkpoint is not None:
                        good = self._snapshot(opt, rng)
                        if checkpoint_every and epoch % checkpoint_every == 0:
                            self._write(checkpoint, good, config)
                            owned = True
                    if callback is not None:
                        callback(log)
        except KeyboardInterrupt:
            if checkpoint is not None and good is not None:
                self._write(checkpoint, good, config)  # the last completed epoch
            raise
        except DivergenceError as error:
            kept = ""
            if checkpoint is not None and good is not None:
                target = Path(checkpoint) if owned else diverged_path(checkpoint)
                self._write(target, good, config)  # the last completed, finite epoch
                kept = (f"; the last good checkpoint (epoch {len(good['history']['loss'])}) is "
                        f"kept in {target}" + ("" if owned else f" ({checkpoint} is untouched)"))
            raise DivergenceError(f"{error}{kept}; try a smaller learning rate") from None
        if checkpoint is not None and good is not None:
            self._write(checkpoint, good, config)
        return self.history

    def _split(
        self, X: Array, Y: Array, split: float, data: tuple[ArrayLike, ArrayLike] | None
    ) -> tuple[Array, Array, Array | None, Array | None]:
        if data is not None:
            X_val = self.inputs(data[0], "validation X")
            return X, Y, X_val, self.targets(data[1], X_val.shape[0], "validation Y")
        if split == 0.0:
            return X, Y, None, None
        cut = X.shape[0] - round(X.shape[0] * split)
        return X[:cut], Y[:cut], X[cut:], Y[cut:]  # views: no copy

    def _optimizer(
        self, optimizer: str | Optimizer, learning_rate: float, hyper: dict[str, float]
    ) -> Optimizer:
        if not isinstance(optimizer, str):
            return optimizer
        if optimizer not in OPTIMIZERS:
            raise UnknownNameError(unknown_name("optimizer", optimizer, OPTIMIZERS))
        if not learning_rate > 0:
            raise SpecError(f"learning_rate must be positive, found {learning_rate}")
        try:  # the spec's own rules (e.g. 0 <= momentum < 1), so both paths accept the same
            settings = OptimizerSpec(name=optimizer, **hyper)
        except ValidationError as error:
            raise SpecError(describe_validation_error(error), source="Network.fit") from None
        return make_optimizer(optimizer, learning_rate, **settings.model_dump(exclude={"name"}))

    def _record(
        self, epoch: int, epochs: int, loss: float, accuracy: float | None, speed: float,
        X_val: Array | None, Y_val: Array | None,
    ) -> EpochLog:
        history = self.history
        history.loss.append(loss)
        history.samples_per_second.append(speed)
        if accuracy is not None:
            history.accuracy.append(accuracy)
        val_loss = val_accuracy = None
        if X_val is not None and Y_val is not None and X_val.shape[0]:
            scores = self.evaluate(X_val, Y_val)
            val_loss, val_accuracy = scores["loss"], scores.get("accuracy")
            history.val_loss.append(val_loss)
            if val_accuracy is not None:
                history.val_accuracy.append(val_accuracy)
        return EpochLog(epoch, epochs, loss, accuracy, val_loss, val_accuracy, speed)

    # ---- using -------------------------------------------------------------------------------

    def predict(self, X: ArrayLike) -> Array:
        """The network's outputs a_L (n, n_L), e.g. class probabilities for softmax."""
        X_rows = self.inputs(X)
        out = np.empty((X_rows.shape[0], self.sizes[-1]), dtype=self.dtype)
        for start in range(0, X_rows.shape[0], PREDICT_CHUNK):
            rows = slice(start, start + PREDICT_CHUNK)
            out[rows] = forward(self.mlp, X_rows[rows]).a[-1]
        return out

    def predict_classes(self, X: ArrayLike) -> NDArray[np.intp]:
        """Class index per row: argmax of the outputs, or a > 0.5 for one sigmoid output."""
        return class_labels(self.predict(X))

    def evaluate(self, X: ArrayLike, Y: ArrayLike) -> dict[str, float]:
        """{"loss": mean C_s} plus {"accuracy": fraction correct} for a classifier."""
        X_rows = self.inputs(X)
        Y_rows = self.targets(Y, X_rows.shape[0])
        if X_rows.shape[0] == 0:
            raise ShapeError("evaluate needs at least one row")
        total, correct = 0.0, 0
        for start in range(0, X_rows.shape[0], PREDICT_CHUNK):
            xb, yb = X_rows[start:start + PREDICT_CHUNK], Y_rows[start:start + PREDICT_CHUNK]
            fwd = forward(self.mlp, xb)
            total += float(np.sum(per_sample_cost(self.mlp, fwd, yb), dtype=np.float64))
            if self.is_classifier:
                correct += int(np.count_nonzero(class_labels(fwd.a[-1]) == class_labels(yb)))
        scores = {"loss": total / X_rows.shape[0]}
        if self.is_classifier:
            scores["accuracy"] = correct / X_rows.shape[0]
        return scores

    # ---- saving ------------------------------------------------------------------------------

    def to_torch(self) -> tuple[Any, Any, Any]:
        """``(nn.Sequential, loss_fn, optimizer)`` in float64 with this network's weights, loss and
        its spec's optimiser (plain SGD, η = 0.1, without a spec); needs PyTorch."""
        from gradtrace.interop.plan import batch_reduction, build, plan  # PyTorch: only when asked

        optimizer = self.spec.build_optimizer() if self.spec else make_optimizer("sgd", 0.1)
        return build(plan(self.mlp, optimizer, batch_reduction(self.spec)))

    def save(self, path: str | Path) -> Path:
        """Weights, architecture and history as ``.npz`` (no pickle), written atomically."""
        return checkpoint_file.write(path, checkpoint_file.encode(
            self.mlp, self.spec, self.history.to_dict(), self.metadata))

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """A network saved by ``save`` or a training checkpoint (then ``fit(resume=True)``
        continues it); every part of the file is validated first (``gradtrace.checkpoint``)."""
        saved = checkpoint_file.read(path)
        net = cls(saved.build_mlp(), saved.spec)
        net.history = History(**saved.meta.history.model_dump())
        net.metadata = saved.meta.metadata.model_dump(exclude_none=True)
        training = saved.meta.training
        if training is not None:
            rng_state = training.rng_state.model_dump() if training.rng_state else None
            net._resume = _Resume(dict(training.optimizer), saved.optimizer_state, rng_state,
                                  net.history)
        return net

    def _snapshot(self, opt: Optimizer, rng: np.random.Generator) -> dict[str, Any]:
        """Copies of everything a resumed run needs, taken at an epoch boundary."""
        return {
            "params": [(ly.W.copy(), ly.b.copy()) for ly in self.mlp.layers],
            "optimizer_state": {k: np.array(v) for k, v in opt.state_arrays().items()},
            "rng_state": rng.bit_generator.state,
            "history": json.loads(json.dumps(self.history.to_dict())),
        }

    def _write(self, path: str | Path, snapshot: dict[str, Any], config: dict[str, Any]) -> None:
        checkpoint_file.write(path, checkpoint_file.encode(
            self.mlp, self.spec, snapshot["history"], self.metadata, snapshot["params"],
            {**config, "rng_state": snapshot["rng_state"]}, snapshot["optimizer_state"]))

    def _restore(self, saved: Network, opt: Optimizer, rng: np.random.Generator) -> None:
        if saved._resume is None:
            raise CheckpointError("the file holds a saved model, not a training checkpoint")
        if saved.sizes != self.sizes:
            raise CheckpointError(f"checkpoint sizes {saved.sizes} differ from {self.sizes}")
        expected = _optimizer_config(opt)
        if saved._resume.optimizer != expected:
            raise CheckpointError(
                f"checkpoint optimiser {saved._resume.optimizer} differs from {expected}; "
                "resume with the same optimiser settings"
            )
        for mine, theirs in zip(self.mlp.layers, saved.mlp.layers, strict=True):
            mine.W[...], mine.b[...] = theirs.W, theirs.b
        opt.load_state_arrays(saved._resume.optimizer_state)
        if saved._resume.rng_state is not None:
            rng.bit_generator.state = saved._resume.rng_state
        self.history = saved.history


def _optimizer_config(opt: Optimizer) -> dict[str, Any]:
    names = HYPERPARAMETERS.get(opt.name, ())
    return {"name": opt.name, "learning_rate": float(opt.learning_rate),
            **{name: float(getattr(opt, name)) for name in names}}


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int | np.integer) or value < 1:
        raise SpecError(f"{name} must be a positive integer, found {value!r}")


def diverged_path(path: str | Path) -> Path:
    """Where a diverged run leaves its last good state beside an existing model: a.npz -> a.diverged.npz."""
    path = Path(path)
    return path.with_name(f"{path.stem}.diverged{path.suffix}")
