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
from gradtrace.errors import GradtraceError, ShapeError, SpecError, UnknownNameError, unknown_name
from gradtrace.io import atomic_write_text
from gradtrace.network import EpochLog, Network, print_progress
from gradtrace.spec import Spec, load_spec

# Grid points per axis of the decision-boundary plot.
BOUNDARY_RESOLUTION = 200


def _data(spec: Spec, data: str | None, target: str | None, standardize: bool, samples: int,
          noise: float | None, seed: int) -> tuple[NDArray[Any], NDArray[Any], Dataset | None]:
    """(X, Y) from --data (a CSV path or dataset name), the spec's dataset, or its [data] table."""
    name = data or spec.training.dataset
    if name is None:
        X, Y = spec.arrays()  # SpecError naming [data] when there is none
        return X, Y, None
    looks_like_file = name.endswith(".csv") or os.sep in name or Path(name).is_file()
    if looks_like_file:
        dataset = load_csv(name, _target(target), standardize=standardize)
    elif name in dataset_names():
        dataset = load_dataset(name, n=samples, noise=noise, seed=seed)
        dataset = dataset.standardized() if standardize else dataset
    else:
        raise UnknownNameError(unknown_name("dataset (or .csv file)", name, dataset_names()))
    return dataset.X, dataset.targets(), dataset


def _target(target: str | None) -> str | int | None:
    return int(target) if target is not None and target.lstrip("-").isdigit() else target


def _check_fits(net: Network, X: NDArray[Any], Y: NDArray[Any], source: str) -> None:
    sizes = net.sizes
    if X.shape[1] != sizes[0] or Y.shape[1] != sizes[-1]:
        wanted = [X.shape[1], *sizes[1:-1], Y.shape[1]]
        raise ShapeError(
            f"{source} has {X.shape[1]} features and {Y.shape[1]} outputs, but the network's "
            f"sizes are {sizes}; set sizes = {wanted} in the spec"
        )


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
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Save the trained model (.npz, no pickle) here.")] = None,
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
    training, opt_spec = model_spec.training, model_spec.optimizer
    if (checkpoint_every or resume) and output is None:
        raise SpecError("--checkpoint-every and --resume need -o FILE.npz to save the run in")
    if boundary is not None and model_spec.layer_sizes()[0] != 2:
        raise ShapeError(f"--boundary needs 2 inputs; this network takes "
                         f"{model_spec.layer_sizes()[0]}")
    X, Y, dataset = _data(model_spec, data, target, standardize, training.samples, training.noise,
                          training.seed)
    net = Network.from_spec(model_spec)
    if dataset is not None and dataset.class_names is not None and len(dataset.class_names) == 2 \
            and net.sizes[-1] == 1:
        Y = dataset.y.reshape(-1, 1).astype(np.float64)  # two classes, one sigmoid output
    _check_fits(net, X, Y, data or training.dataset or "the spec's [data]")
    if dataset is not None:
        net.metadata = _metadata(dataset)
    total = training.epochs
    console = Console(stderr=False)
    start = Network.load(output).history.epochs if resume and output and output.exists() else 0
    live = _RichProgress(console, total, start) if console.is_terminal and not quiet else None
    callback = None if quiet else live or print_progress
    started = time.perf_counter()
    try:
        if live is not None:
            live.progress.start()
        history = net.fit(
            X, Y, epochs=total, batch_size=training.batch_size,
            optimizer=opt_spec.name, learning_rate=model_spec.learning_rate,
            momentum=opt_spec.momentum, beta1=opt_spec.beta1, beta2=opt_spec.beta2,
            epsilon=opt_spec.epsilon, weight_decay=opt_spec.weight_decay,
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
    _summary(net, history.epochs, time.perf_counter() - started, output)
    if plot is not None:
        plot_history(net, plot)
        print(f"wrote {plot}")
    if boundary is not None:
        plot_boundary(net, X, Y, boundary)
        print(f"wrote {boundary}")


def _metadata(dataset: Dataset) -> dict[str, Any]:
    meta: dict[str, Any] = {"dataset": dataset.name, "feature_names": dataset.feature_names,
                            "class_names": dataset.class_names, "target_name": dataset.target_name}
    if dataset.mean is not None and dataset.std is not None:
        meta["mean"], meta["std"] = dataset.mean.tolist(), dataset.std.tolist()
    return meta


def _summary(net: Network, epochs: int, seconds: float, output: Path | None) -> None:
    history = net.history
    parts = [f"trained {epochs} epochs in {seconds:.2f} s", f"loss {history.loss[-1]:.4f}"]
    if history.accuracy:
        parts.append(f"accuracy {history.accuracy[-1]:.3f}")
    if history.val_loss:
        parts.append(f"val_loss {history.val_loss[-1]:.4f}")
    if output is not None:
        parts.append(f"saved {output}")
    print("; ".join(parts))


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

    from gradtrace.io import atomic_write_bytes

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as error:
        raise GradtraceError(f"{path}: cannot write the plot: {error.strerror}") from None


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
        "--output", "-o", help="Write predictions here (default: standard output).")] = None,
) -> None:
    net = Network.load(model)
    meta = net.metadata
    names = meta.get("feature_names") or [f"x{i + 1}" for i in range(net.sizes[0])]
    X, _ = load_features(data, names)
    if X.shape[1] != net.sizes[0]:
        raise ShapeError(f"{data} has {X.shape[1]} feature columns; the model takes {net.sizes[0]}")
    if "mean" in meta:
        X = (X - np.asarray(meta["mean"])) / np.asarray(meta["std"])
    out = net.predict(X)
    text = _predictions_csv(net, out, meta.get("class_names"))
    if output is None:
        sys.stdout.write(text)
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
