"""Training speed side by side: gradtrace vs scikit-learn MLPClassifier vs PyTorch CPU.

Not a test: run it by hand (see benchmarks/RESULTS.md for the command and the figures).

    python benchmarks/bench_train.py            # small + wide + trace overhead + memory
    python benchmarks/bench_train.py --quick    # fewer repetitions

Every contender does the same work per epoch: a seeded shuffle, then for each mini-batch a
forward pass, the cross-entropy loss, backpropagation and a plain SGD update (no momentum, no L2),
in float32. Time per epoch is the best of several runs (the least disturbed by the machine).
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import resource
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np

from gradtrace.core.backprop import train_step
from gradtrace.core.network import backward, forward
from gradtrace.core.optimizers import SGD
from gradtrace.core.training import Trainer
from gradtrace.network import Network

LEARNING_RATE = 0.05


def best_time(run: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def synthetic(n: int, n_in: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in), dtype=np.float32)
    y = rng.integers(0, classes, n)
    return X, y


def time_gradtrace(X: np.ndarray, y: np.ndarray, sizes: list[int], batch: int, epochs: int,
                   repeats: int) -> float:
    activations = ["relu"] * (len(sizes) - 2) + ["softmax"]

    def run() -> None:
        net = Network.from_sizes(sizes, activations, "cross_entropy", seed=0, dtype="float32")
        net.fit(X, y, epochs=epochs, batch_size=batch, learning_rate=LEARNING_RATE, seed=0)

    return best_time(run, repeats) / epochs


def time_sklearn(X: np.ndarray, y: np.ndarray, sizes: list[int], batch: int, epochs: int,
                 repeats: int) -> float:
    from sklearn.neural_network import MLPClassifier

    def run() -> None:
        clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu",
                            solver="sgd", momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                            batch_size=batch, learning_rate_init=LEARNING_RATE,
                            max_iter=epochs, shuffle=True, tol=0.0, n_iter_no_change=10**9,
                            random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "did not converge": we stop it on purpose
            clf.fit(X, y)

    return best_time(run, repeats) / epochs


def time_torch(X: np.ndarray, y: np.ndarray, sizes: list[int], batch: int, epochs: int,
               repeats: int) -> float:
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def run() -> None:
        torch.manual_seed(0)
        layers: list[torch.nn.Module] = []
        for n_in, n_out in itertools.pairwise(sizes[:-1]):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-2], sizes[-1]))
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(epochs):
            order = torch.randperm(Xt.shape[0])
            for start in range(0, Xt.shape[0], batch):
                idx = order[start:start + batch]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(Xt[idx]), yt[idx])
                loss.backward()
                optimizer.step()

    return best_time(run, repeats) / epochs


def compare(title: str, X: np.ndarray, y: np.ndarray, sizes: list[int], batch: int,
            epochs: int, repeats: int) -> dict[str, float]:
    print(f"\n{title}: {X.shape[0]} x {X.shape[1]}, sizes {sizes}, batch {batch}, float32, "
          f"{epochs} epochs, best of {repeats}")
    results = {
        "gradtrace": time_gradtrace(X, y, sizes, batch, epochs, repeats),
        "scikit-learn": time_sklearn(X, y, sizes, batch, epochs, repeats),
        "pytorch": time_torch(X, y, sizes, batch, epochs, repeats),
    }
    mine = results["gradtrace"]
    for name, seconds in results.items():
        ratio = "" if name == "gradtrace" else f"   gradtrace is {seconds / mine:.2f}x faster"
        print(f"  {name:<13} {seconds * 1e3:9.2f} ms/epoch{ratio}")
    return results


def trace_overhead(steps: int) -> None:
    """One step on the wide network: recorded (train_step keeps old/new copies of every W, b and
    every z, a, delta, gradient) vs the untraced fast step, and the untraced reference step."""
    X, y = synthetic(128, 784, 10, seed=1)
    Y = np.eye(10, dtype=np.float32)[y]
    net = Network.from_sizes([784, 512, 512, 10], ["relu", "relu", "softmax"], "cross_entropy",
                             seed=0, dtype="float32")
    mlp = net.mlp
    optimizer = SGD(1e-4)

    def recorded() -> None:
        train_step(mlp, X, Y, optimizer)

    def reference() -> None:
        grads = backward(mlp, forward(mlp, X), Y)
        for k, layer in enumerate(mlp.layers, start=1):
            optimizer.update(f"W{k}", layer.W, grads.grad_W[k])  # type: ignore[arg-type]
            optimizer.update(f"b{k}", layer.b, grads.grad_b[k])  # type: ignore[arg-type]

    trainer = Trainer(mlp, optimizer, batch_size=128)
    space = trainer.workspace(128)
    predicted = np.empty(128, np.intp)

    def fast() -> None:
        trainer.fast_step(space, X, Y, predicted)

    for warm in (recorded, reference, fast):
        warm()
    t_rec = best_time(lambda: [recorded() for _ in range(steps)], 3) / steps
    t_ref = best_time(lambda: [reference() for _ in range(steps)], 3) / steps
    t_fast = best_time(lambda: [fast() for _ in range(steps)], 3) / steps
    print(f"\ntrace overhead, wide network, one batch of 128 (best of 3 x {steps} steps):")
    print(f"  recorded step (train_step)      {t_rec * 1e3:7.2f} ms")
    print(f"  untraced reference step         {t_ref * 1e3:7.2f} ms")
    print(f"  untraced fast step              {t_fast * 1e3:7.2f} ms")
    print(f"  recording overhead: {t_rec / t_fast:.2f}x the fast step, "
          f"{t_rec / t_ref:.2f}x the same engine untraced")


def peak_memory(epochs: int) -> None:
    """Peak Python-heap memory (tracemalloc sees numpy's buffers) training on 60000 x 784."""
    X, y = synthetic(60_000, 784, 10, seed=2)
    net = Network.from_sizes([784, 512, 512, 10], ["relu", "relu", "softmax"], "cross_entropy",
                             seed=0, dtype="float32")
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    net.fit(X, y, epochs=epochs, batch_size=128, learning_rate=LEARNING_RATE, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    params = sum(layer.W.nbytes + layer.b.nbytes for layer in net.mlp.layers)
    print(f"\npeak memory, 60000 x 784 float32 ({X.nbytes / 2**20:.1f} MiB of data), "
          f"784-512-512-10, batch 128, {epochs} epochs:")
    print(f"  allocated during fit beyond what existed before: {(peak - before) / 2**20:.1f} MiB "
          f"(one-hot targets {60_000 * 10 * 4 / 2**20:.1f} MiB, parameters {params / 2**20:.1f} "
          f"MiB, batch buffers and gradients the rest)")
    print(f"  process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} "
          "MiB (includes PyTorch and scikit-learn, imported earlier)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repetitions")
    parser.add_argument("--only", choices=["overhead", "memory"],
                        help="run one of the gradtrace-only measurements")
    args = parser.parse_args()
    if args.only == "overhead":
        trace_overhead(5 if args.quick else 20)
        return
    if args.only == "memory":
        peak_memory(1)
        return
    repeats = 2 if args.quick else 5
    from threadpoolctl import threadpool_info

    blas = [(p["internal_api"], p.get("architecture"), p["num_threads"])
            for p in threadpool_info() if p["user_api"] == "blas"]
    import torch

    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}"
          f", cores {os.cpu_count()}, BLAS {blas}")
    print("OPENBLAS_CORETYPE=" + os.environ.get("OPENBLAS_CORETYPE", "(unset)")
          + " OPENBLAS_L2_SIZE=" + os.environ.get("OPENBLAS_L2_SIZE", "(unset)"))
    # Before any PyTorch work: its idle worker threads spin for a while and would tax this timing.
    trace_overhead(5 if args.quick else 20)
    X, y = digits()
    small = compare("small", X, y, [64, 32, 10], 32, 10 if args.quick else 30, repeats)
    X, y = synthetic(16_384, 784, 10)
    wide = compare("wide", X, y, [784, 512, 512, 10], 128, 1 if args.quick else 2,
                   2 if args.quick else 3)
    print("\nratios (time per epoch, higher = gradtrace faster):")
    for title, res in (("small", small), ("wide", wide)):
        print(f"  {title}: vs scikit-learn {res['scikit-learn'] / res['gradtrace']:.2f}x, "
              f"vs PyTorch {res['pytorch'] / res['gradtrace']:.2f}x")
    peak_memory(1)


if __name__ == "__main__":
    main()
