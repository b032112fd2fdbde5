"""``gradtrace train`` and ``gradtrace predict``: arguments -> spec + data -> Network.fit -> files.

Progress is a rich bar on a terminal and one plain line per few epochs otherwise (CI, pipes, files);
rich honours NO_COLOR. Plots are written with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from numpy.typing import NDArray
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from gradtrace.cli.app import app
from gradtrace.cli.step import with_options
from gradtrace.data import Dataset, dataset_names, load_csv, load_dataset, load_features
from gradtrace.data.synthetic import plane_grid
from gradtrace.errors import DataError, ShapeError, SpecError, UnknownNameError, unknown_name
from gradtrace.io import (
    CHECKPOINT,
    PNG,
    TEXT,
    atomic_write_bytes,
    atomic_write_text,
    check_output,
    write_stdout,
)
from gradtrace.network import EpochLog, Network, progress_due
from gradtrace.spec import Spec, load_spec, unread_fields

# Grid points per axis of the decision-boundary plot.
BOUNDARY_RESOLUTION = 200


def _data(spec: Spec, data: str | None, target: str | None, standardize: bool, samples: int,
          noise: float | None, seed: int, header: bool) -> tuple[NDArray[Any], Dataset | None]:
    """X and its dataset from --data (a CSV path or dataset name) or the spec's dataset; without
    either, the spec's [data] table (no Dataset: its targets are already numbers)."""
    name = data or spec.training.dataset
    if name is None:
        X, _ = spec.arrays()  # SpecError naming [data] when there is none
        return X, None
    if _is_file(name):
        dataset = load_csv(name, _target(target), standardize=standardize, header=header)
    elif name in dataset_names():
        dataset = load_dataset(name, n=samples, noise=noise, seed=seed)
        dataset = dataset.standardized() if standardize else dataset
    else:
        raise UnknownNameError(unknown_name("dataset (or .csv file)", name, dataset_names()))
    return dataset.X, dataset


def _is_file(name: str) -> bool:
    return name.endswith(".csv") or os.sep in name or Path(name).is_file()


def _target(target: str | None) -> str | int | None:
    return int(target) if target is not None and target.lstrip("-").isdigit() else target


def _check_fits(net: Network, n_features: int, n_outputs: int, source: str) -> None:
    sizes = net.sizes
    if n_features != sizes[0] or n_outputs != sizes[-1]:
        wanted = [n_features, *sizes[1:-1], n_outputs]
        raise ShapeError(
            f"{source} has {n_features} features and {n_outputs} outputs, but the network's "
            f"sizes are {sizes}; set sizes = {wanted} in the spec"
        )


def _outputs_needed(net: Network, dataset: Dataset) -> int:
    """One output unit per class, or a single 0/1 output for two classes."""
    two_classes = dataset.class_names is not None and len(dataset.class_names) == 2
    return 1 if two_classes and net.sizes[-1] == 1 else dataset.n_outputs


def _check_loss_fits(net: Network, dataset: Dataset, source: str) -> None:
    """A probability loss needs class labels (or numbers in [0, 1]), not arbitrary numbers."""
    if net.is_classifier and dataset.class_names is None:
        low, high = float(dataset.y.min()), float(dataset.y.max())
        if low < 0.0 or high > 1.0:
            raise DataError(
                f"{source}: the target {dataset.target_name!r} holds numbers from {low:g} to "
                f"{high:g}, but {net.mlp.loss.name} needs class labels or probabilities in "
                "[0, 1]; use a regression loss (mse) with a linear output, or class labels")


class _RichProgress:
    """A live bar: epoch, loss, accuracy, samples/s, time left."""

    def __init__(self, console: Console, epochs: int, start: int) -> None:
        self.progress = Progress(
            TextColumn("epoch {task.completed}/{task.total}"), BarColumn(),
            TextColumn("{task.fields[metrics]}"), TimeRemainingColumn(),
            console=console, transient=False,
        )
        self.task = self.progress.add_task("train", total=epochs, completed=start, metrics="")

    def __call__(self, log: EpochLog) -> None:
        metrics = [f"loss {log.loss:.4f}"]
        if log.accuracy is not None:
            metrics.append(f"acc {log.accuracy:.1%}")
        if log.val_loss is not None:
            metrics.append(f"val_loss {log.val_loss:.4f}")
        metrics.append(f"{log.samples_per_second:,.0f} samples/s")
        self.progress.update(self.task, completed=log.epoch, metrics="  ".join(metrics))


HELP = (
    "Train a network on data, watching the loss fall.\n\n"
    "SPEC is a spec file (.toml/.json/.yaml) or a built-in example name: it gives the layer "
    "sizes, activations, loss, learning_rate and the \\[training] and \\[optimizer] tables; "
    "options here override them. Data comes from --data (a .csv file, or one of: xor, circles, "
    "moons, spirals, gaussians, iris, digits), else the spec's training.dataset, else its "
    "\\[data] table.\n\n"
    "Each epoch shows the mean loss (and accuracy for classifiers) over its mini-batches; on a "
    "terminal as a live bar, otherwise as plain lines. Ctrl-C saves a checkpoint to -o; a NaN or "
    "infinite loss stops the run (exit code 1) and keeps the last good checkpoint.\n\n"
    "Try:  gradtrace train xor --data xor --epochs 200 --plot loss.png --boundary boundary.png"
    "\n\n"
    "      gradtrace train my_net.toml --data iris --standardize --optimizer adam -o iris.npz"
    "\n\n"
    "      gradtrace predict iris.npz --data flowers.csv -o predictions.csv"
)


@app.command(help=HELP)
def train(
    spec: Annotated[str, typer.Argument(help="Spec file or built-in example name.")],
    data: Annotated[str | None, typer.Option(
        "--data", "-d", help="A .csv file (one sample a row) or a built-in dataset name.")] = None,
    target: Annotated[str | None, typer.Option(
        help="CSV target column: header name or 0-based index (default: the last).")] = None,
    standardize: Annotated[bool, typer.Option(
        help="Scale each feature to mean 0, std 1 (saved with the model for predict).")] = False,
    epochs: Annotated[int | None, typer.Option(
        help="Passes over the data (total, when resuming). Default: spec training.epochs.")] = None,
    batch_size: Annotated[int | None, typer.Option(
        help="Samples per gradient step; the gradient is their mean.")] = None,
    optimizer: Annotated[str | None, typer.Option(
        help="sgd: θ -= η g;  momentum: v = μv + g, θ -= η v;  adam: θ -= η m̂/(√v̂ + ε).")] = None,
    learning_rate: Annotated[float | None, typer.Option("--learning-rate", "--lr",
        help="η, the step size. Default: the spec's learning_rate.")] = None,
    momentum: Annotated[float | None, typer.Option(help="μ for --optimizer momentum.")] = None,
    weight_decay: Annotated[float | None, typer.Option(
        help="λ: L2 penalty, adds λθ to every gradient.")] = None,
    validation_split: Annotated[float | None, typer.Option(
        help="Fraction of rows (the last ones) held out to report val_loss.")] = None,
    shuffle: Annotated[bool | None, typer.Option(
        "--shuffle/--no-shuffle", help="Reshuffle the rows every epoch (seeded).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seeds shuffling and generated datasets. Default: spec training.seed (0).")] = None,
    samples: Annotated[int | None, typer.Option(help="Points for a generated 2-D dataset "
        "(at most 1,000,000). Default: spec training.samples (400).")] = None,
    noise: Annotated[float | None, typer.Option(help="Noise of a generated 2-D dataset.")] = None,
    no_header: Annotated[bool, typer.Option(
        "--no-header", help="The CSV's first line is data, not column names.")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Save the trained model (.npz, no pickle) here.")] = None,
    force: Annotated[bool, typer.Option(
        help="Replace an existing -o/--plot/--boundary file that is not of its kind.")] = False,
    checkpoint_every: Annotated[int, typer.Option(
        help="Also save to -o every K epochs (always at the end and on Ctrl-C).")] = 0,
    resume: Annotated[bool, typer.Option(
        help="Continue the checkpoint in -o exactly where it stopped.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write the loss/accuracy curves (PNG).")] = None,
    boundary: Annotated[Path | None, typer.Option(
        help="Write the decision boundary (PNG; 2-D inputs only).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    model_spec = with_options(load_spec(spec), "train", {
        "training.epochs": ("--epochs", epochs), "training.batch_size": ("--batch-size", batch_size),
        "optimizer.name": ("--optimizer", optimizer), "learning_rate": ("--learning-rate", learning_rate),
        "optimizer.momentum": ("--momentum", momentum),
        "optimizer.weight_decay": ("--weight-decay", weight_decay),
        "training.validation_split": ("--validation-split", validation_split),
        "training.shuffle": ("--shuffle", shuffle), "training.seed": ("--seed", seed),
        "training.samples": ("--samples", samples), "training.noise": ("--noise", noise),
    })
    training = model_spec.training
    if (checkpoint_every or resume) and output is None:
        raise SpecError("--checkpoint-every and --resume need -o FILE.npz to save the run in")
    inputs = [path for path in (spec, data or training.dataset) if path is not None]
    for option, path, kind in (("-o", output, CHECKPOINT), ("--plot", plot, PNG),
                               ("--boundary", boundary, PNG)):
        if path is not None:  # before any work: a bad path fails now, not after training
            check_output(path, kind=kind, inputs=inputs, force=force, option=option)
    if boundary is not None and model_spec.layer_sizes()[0] != 2:
        raise ShapeError(f"--boundary needs 2 inputs; this network takes "
                         f"{model_spec.layer_sizes()[0]}")
    total = training.epochs
    start = _resumed_epochs(output, resume)
    if output is not None and start >= total > 0:
        print(f"nothing trained: {output} already holds {start} epochs and --epochs {total} "
              f"counts the checkpoint's epochs too; pass --epochs {start + total} to train "
              f"{total} more")
        return
    X, dataset = _data(model_spec, data, target, standardize, training.samples, training.noise,
                       training.seed, not no_header)
    net = Network.from_spec(model_spec)
    source = data or training.dataset or "the spec's [data]"
    if dataset is None:
        Y = model_spec.arrays()[1]
    else:
        _check_fits(net, X.shape[1], _outputs_needed(net, dataset), source)
        _check_loss_fits(net, dataset, source)
        Y = dataset.targets(net.sizes[-1])  # one-hot, or 0/1 for one output
    _check_fits(net, X.shape[1], Y.shape[1], source)
    if dataset is not None:
        net.metadata = _metadata(dataset)
    console = Console(stderr=False)
    out = _Stdout()
    live = _RichProgress(console, total, start) if console.is_terminal and not quiet else None
    callback = None if quiet else live or out.progress
    started = time.perf_counter()
    try:
        if live is not None:
            live.progress.start()
        history = net.fit(
            X, Y, epochs=total, batch_size=training.batch_size,
            optimizer=model_spec.build_optimizer(),
            shuffle=training.shuffle, seed=training.seed,
            validation_split=training.validation_split,
            progress=callback or False, checkpoint=output, checkpoint_every=checkpoint_every,
            resume=resume,
        )
    except KeyboardInterrupt:
        if output is not None and output.exists():
            print(f"gradtrace: checkpoint kept in {output}; continue with --resume", file=sys.stderr)
        raise
    finally:
        if live is not None:
            live.progress.stop()
    out.line(_summary(net, history.epochs - start, time.perf_counter() - started, output))
    if plot is not None:
        plot_history(net, plot)
        out.line(f"wrote {plot}")
    if boundary is not None:
        plot_boundary(net, X, Y, boundary)
        out.line(f"wrote {boundary}")
    unread = unread_fields(model_spec, "train")  # after the run: a failing one says one thing
    if unread is not None:
        print(unread, file=sys.stderr)


def _resumed_epochs(output: Path | None, resume: bool) -> int:
    """Epochs the checkpoint to resume already holds (validated now, before any work)."""
    if not resume or output is None:
        return 0
    if not output.exists():
        print(f"gradtrace: {output} does not exist yet; starting a new run", file=sys.stderr)
        return 0
    return Network.load(output).history.epochs


class _Stdout:
    """Lines for standard output. When the reader goes away (``gradtrace train | head -1``)
    training carries on without them and still saves its files; the exit code stays 0."""

    def __init__(self) -> None:
        self.open = True

    def line(self, text: str) -> None:
        if self.open and not write_stdout(text + "\n"):
            self.open = False
            print("gradtrace: standard output was closed; training goes on without progress "
                  "lines and still writes its files", file=sys.stderr)

    def progress(self, log: EpochLog) -> None:
        if progress_due(log):
            self.line(log.line())


def _metadata(dataset: Dataset) -> dict[str, Any]:
    meta: dict[str, Any] = {"dataset": dataset.name, "feature_names": dataset.feature_names,
                            "class_names": dataset.class_names, "target_name": dataset.target_name}
    if dataset.mean is not None and dataset.std is not None:
        meta["mean"], meta["std"] = dataset.mean.tolist(), dataset.std.tolist()
    return meta


def _summary(net: Network, epochs: int, seconds: float, output: Path | None) -> str:
    history = net.history
    done = f" (now {history.epochs} in all)" if history.epochs != epochs else ""
    parts = [f"trained {epochs} epochs{done} in {seconds:.2f} s", f"loss {history.loss[-1]:.4f}"]
    if history.accuracy:
        parts.append(f"accuracy {history.accuracy[-1]:.3f}")
    if history.val_loss:
        parts.append(f"val_loss {history.val_loss[-1]:.4f}")
    if output is not None:
        parts.append(f"saved {output}")
    return "; ".join(parts)


# ---- plots ---------------------------------------------------------------------------------

def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display
    import matplotlib.pyplot as plt

    return plt


def plot_history(net: Network, path: Path) -> None:
    """Loss (and validation loss) per epoch, with accuracy on a second panel for classifiers."""
    plt = _pyplot()
    history = net.history
    epochs = np.arange(1, history.epochs + 1)
    panels = 2 if history.accuracy else 1
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.6), squeeze=False)
    ax = axes[0][0]
    ax.plot(epochs, history.loss, label="training loss")
    if history.val_loss:
        ax.plot(epochs, history.val_loss, label="validation loss")
    ax.set(xlabel="epoch", ylabel=f"{net.mlp.loss.name} (mean C)", title="Loss")
    ax.legend()
    if history.accuracy:
        ax = axes[0][1]
        ax.plot(epochs, history.accuracy, label="training accuracy")
        if history.val_accuracy:
            ax.plot(epochs, history.val_accuracy, label="validation accuracy")
        ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title="Accuracy")
        ax.legend()
    _save(fig, plt, path)


def plot_boundary(net: Network, X: NDArray[Any], Y: NDArray[Any], path: Path) -> None:
    """The predicted class (or output) over the plane, with the data points on top."""
    plt = _pyplot()
    g0, g1, grid = plane_grid(X, BOUNDARY_RESOLUTION)  # grid: (R², 2)
    out = net.predict(grid)
    fig, ax = plt.subplots(figsize=(5, 4.4))
    shape = (BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION)
    if net.is_classifier:
        surface = (out[:, 0] if out.shape[1] == 1 else np.argmax(out, axis=1)).reshape(shape)
        labels = Y[:, 0] if Y.shape[1] == 1 else np.argmax(Y, axis=1)
        ax.contourf(g0, g1, surface, levels=20 if out.shape[1] == 1 else out.shape[1],
                    cmap="coolwarm", alpha=0.5)
        ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="coolwarm", edgecolors="k", s=14)
    else:
        ax.contourf(g0, g1, out[:, 0].reshape(shape), levels=20, cmap="viridis", alpha=0.6)
        ax.scatter(X[:, 0], X[:, 1], c=Y[:, 0], cmap="viridis", edgecolors="k", s=14)
    ax.set(xlabel="x1", ylabel="x2", title="Decision boundary")
    _save(fig, plt, path)


def _save(fig: Any, plt: Any, path: Path) -> None:
    import io

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())  # OutputError (one line) if it cannot


# ---- predict -------------------------------------------------------------------------------

PREDICT_HELP = (
    "Predict with a trained model (from gradtrace train -o) on a CSV file.\n\n"
    "The CSV needs the model's feature columns (by header name, else the same number of columns "
    "in order); a target column is ignored. Features are standardised as in training. The output "
    "is CSV: the predicted class and one probability column per class (or the predicted "
    "numbers).\n\n"
    "Try:  gradtrace predict iris.npz --data flowers.csv -o predictions.csv"
)


@app.command(help=PREDICT_HELP)
def predict(
    model: Annotated[Path, typer.Argument(help="A model saved by gradtrace train -o.")],
    data: Annotated[Path, typer.Option("--data", "-d", help="CSV file of samples.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write predictions here (default, or -: standard output).")] = None,
    no_header: Annotated[bool, typer.Option(
        "--no-header", help="The CSV's first line is data: exactly the features, in order.")
    ] = False,
    force: Annotated[bool, typer.Option(
        help="Replace an existing -o file even if it is not text.")] = False,
) -> None:
    if output is not None and str(output) == "-":
        output = None
    if output is not None:
        check_output(output, kind=TEXT, inputs=(model, data), force=force)
    net = Network.load(model)
    meta = net.metadata
    X, _ = load_features(data, meta.get("feature_names"), n_features=net.sizes[0],
                         header=not no_header)
    if X.shape[1] != net.sizes[0]:
        raise ShapeError(f"{data} has {X.shape[1]} feature columns; the model takes {net.sizes[0]}")
    if "mean" in meta:
        X = (X - np.asarray(meta["mean"])) / np.asarray(meta["std"])
    out = net.predict(X)
    text = _predictions_csv(net, out, meta.get("class_names"))
    if output is None:
        write_stdout(text)  # a reader that stops early (| head) is not an error
    else:
        atomic_write_text(output, text)
        print(f"wrote {X.shape[0]} predictions to {output}", file=sys.stderr)


def _predictions_csv(net: Network, out: NDArray[Any], class_names: list[str] | None) -> str:
    lines: list[str] = []
    if net.is_classifier:
        classes = class_names or [str(k) for k in range(max(out.shape[1], 2))]
        if out.shape[1] == 1:
            lines.append(f"prediction,p_{classes[-1]}")
            lines += [f"{classes[int(p > 0.5)]},{p:.6g}" for p in out[:, 0]]
        else:
            lines.append(",".join(["prediction", *(f"p_{c}" for c in classes)]))
            for row in out:
                probabilities = ",".join(f"{p:.6g}" for p in row)
                lines.append(f"{classes[int(np.argmax(row))]},{probabilities}")
    else:
        lines.append(",".join(f"y{k + 1}" for k in range(out.shape[1])))
        lines += [",".join(f"{v:.6g}" for v in row) for row in out]
    return "\n".join(lines) + "\n"
