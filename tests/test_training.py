"""The fast training loop: same gradients as network.backward, convergence, Network API."""

from __future__ import annotations

import numpy as np
import pytest

from gradtrace.core.activations import ACTIVATIONS, get_activation
from gradtrace.core.backprop import train_step
from gradtrace.core.init import init_weights
from gradtrace.core.losses import get_loss
from gradtrace.core.network import MLP, Layer, backward, forward
from gradtrace.core.optimizers import SGD, make_optimizer
from gradtrace.core.training import Trainer, fast_gradients, supports_fast_path
from gradtrace.data import load_dataset
from gradtrace.errors import DivergenceError, ShapeError, SpecError, UnknownNameError
from gradtrace.network import Network

FAST_CASES = [
    (["relu", "relu", "softmax"], "cross_entropy", 4),
    (["tanh", "sigmoid", "sigmoid"], "binary_cross_entropy", 1),
    (["sigmoid", "tanh", "sigmoid"], "binary_cross_entropy", 3),
    (["sigmoid", "relu", "linear"], "half_sse", 3),
    (["linear", "tanh", "linear"], "mse", 2),
]


def _mlp(activations: list[str], loss: str, n_out: int, dtype: type = np.float64) -> MLP:
    rng = np.random.default_rng(7)
    params = init_weights([5, 7, 6, n_out], "xavier", 3, dtype)
    layers = [Layer(W, (b + 0.1 * rng.normal(size=b.shape)).astype(dtype), get_activation(name))
              for (W, b), name in zip(params, activations, strict=True)]
    return MLP(layers, get_loss(loss))


def _batch(loss: str, n_out: int, m: int = 9) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    X = rng.normal(size=(m, 5)) * 2
    if loss == "cross_entropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, m)]
    elif loss == "binary_cross_entropy":
        Y = (rng.random((m, n_out)) > 0.5).astype(float)
    else:
        Y = rng.normal(size=(m, n_out))
    return X, Y


def assert_fast_matches_reference(mlp: MLP, X: np.ndarray, Y: np.ndarray) -> None:
    """The in-place path's gradients and cost equal network.backward's (a 3-layer network)."""
    reference = backward(mlp, forward(mlp, X), Y)
    grad_W, grad_b, cost = fast_gradients(mlp, X, Y)
    for k in range(3):
        np.testing.assert_allclose(grad_W[k], reference.grad_W[k + 1], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(grad_b[k], reference.grad_b[k + 1], rtol=1e-10, atol=1e-13)
    assert cost == pytest.approx(reference.cost, rel=1e-12)


@pytest.mark.parametrize(("activations", "loss", "n_out"), FAST_CASES)
def test_fast_gradients_equal_reference_backward(activations: list[str], loss: str,
                                                 n_out: int) -> None:
    mlp = _mlp(activations, loss, n_out)
    assert supports_fast_path(mlp)
    X, Y = _batch(loss, n_out)
    assert_fast_matches_reference(mlp, X, Y)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_epoch_equals_reference_train_steps(optimizer: str, shuffle: bool) -> None:
    """An epoch of the fast loop = the traced engine's train_step on the same batches."""
    mlp = _mlp(["relu", "tanh", "softmax"], "cross_entropy", 4)
    X, Y = _batch("cross_entropy", 4, m=23)
    order = np.random.default_rng(5).permutation(23) if shuffle else None
    fast, reference = mlp.copy(), mlp.copy()
    Trainer(fast, make_optimizer(optimizer, 0.05, weight_decay=0.01), 5).epoch(X, Y, None, order)
    opt = make_optimizer(optimizer, 0.05, weight_decay=0.01)
    rows = order if order is not None else np.arange(23)
    for start in range(0, 23, 5):
        idx = rows[start:start + 5]
        train_step(reference, X[idx], Y[idx], opt)
    for a, b in zip(fast.layers, reference.layers, strict=True):
        np.testing.assert_allclose(a.W, b.W, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.b, b.b, rtol=1e-9, atol=1e-12)


def test_untrainable_layers_and_fixed_biases_stay_put() -> None:
    mlp = _mlp(["relu", "relu", "softmax"], "cross_entropy", 4)
    mlp.layers[0].trainable = False
    mlp.train_biases = False
    before = mlp.copy()
    X, Y = _batch("cross_entropy", 4)
    Trainer(mlp, SGD(0.1), 4).epoch(X, Y, None, None)
    np.testing.assert_array_equal(mlp.layers[0].W, before.layers[0].W)
    for a, b in zip(mlp.layers, before.layers, strict=True):
        np.testing.assert_array_equal(a.b, b.b)
    assert not np.array_equal(mlp.layers[1].W, before.layers[1].W)


HIDDEN = [name for name, entry in ACTIVATIONS.items() if entry.elementwise]
VARIANTS = [(name, {}) for name in HIDDEN] + [
    ("leaky_relu", {"slope": 0.3}), ("leaky_relu", {"slope": -0.2}), ("leaky_relu", {"slope": 0.0}),
    ("elu", {"alpha": 0.5}), ("elu", {"alpha": -0.7}),
]


def _variant_mlp(name: str, params: dict[str, float], output: str, loss: str, n_out: int) -> MLP:
    mlp = _mlp([name, name, output], loss, n_out)
    for layer in mlp.layers[:2]:
        layer.activation = get_activation(name, **params)
    return mlp


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=lambda v: str(v))
@pytest.mark.parametrize(("output", "loss", "n_out"), [
    ("softmax", "cross_entropy", 4), ("sigmoid", "binary_cross_entropy", 2),
    ("linear", "half_sse", 3), ("linear", "mse", 2), ("linear", "mae", 3),
])
def test_every_activation_fast_path_agrees_with_the_reference(
    name: str, params: dict[str, float], output: str, loss: str, n_out: int
) -> None:
    """Each hidden activation's in-place forms (from a, or from the kept z) = its plain maths;
    an activation without in-place forms trains through the reference path."""
    mlp = _variant_mlp(name, params, output, loss, n_out)
    X, Y = _batch(loss, n_out)
    if not mlp.layers[0].activation.fast:
        assert not supports_fast_path(mlp) and not Trainer(mlp, SGD(0.1), 4).fast
        return
    assert supports_fast_path(mlp)
    assert_fast_matches_reference(mlp, X, Y)
    fast, slow = mlp.copy(), mlp.copy()
    Trainer(fast, make_optimizer("adam", 0.01), 4).epoch(X, Y, None, None)
    Trainer(slow, make_optimizer("adam", 0.01), 4, fast=False).epoch(X, Y, None, None)
    for a, b in zip(fast.layers, slow.layers, strict=True):
        np.testing.assert_allclose(a.W, b.W, rtol=1e-9, atol=1e-12)


def test_the_fast_path_covers_the_cheap_activations() -> None:
    """The ones with in-place forms stay on the fast path (a regression here is a slowdown)."""
    fast = {name for name in HIDDEN if ACTIVATIONS[name].fast}
    assert fast >= {"relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "silu", "softplus",
                    "hardtanh"}


def test_other_activations_use_the_reference_path() -> None:
    net = Network.from_sizes([2, 4, 2], ["gelu", "softmax"], "cross_entropy")
    assert not supports_fast_path(net.mlp)
    X, y = load_dataset("gaussians", n=64, seed=1).X, load_dataset("gaussians", n=64, seed=1).y
    history = net.fit(X, y, epochs=3, batch_size=16, learning_rate=0.1)
    assert history.epochs == 3 and history.loss[-1] < history.loss[0]


def test_float32_stays_float32_and_keeps_up_with_float64() -> None:
    data = load_dataset("moons", n=200, noise=0.1, seed=0)
    results = {}
    for dtype in ("float32", "float64"):
        net = Network.from_sizes([2, 16, 2], ["tanh", "softmax"], "cross_entropy", dtype=dtype)
        net.fit(data.X, data.y, epochs=30, batch_size=20, learning_rate=0.3, progress=False)
        assert net.mlp.layers[0].W.dtype == np.dtype(dtype)
        assert net.predict(data.X).dtype == np.dtype(dtype)
        results[dtype] = net.evaluate(data.X, data.y)["loss"]
    assert results["float32"] == pytest.approx(results["float64"], rel=1e-3)


# XOR (noise 0.1, 400 points) reaches ≥ 95% and circles ≥ 97% training accuracy with these seeds.
@pytest.mark.parametrize(("name", "optimizer", "learning_rate", "epochs", "target"), [
    ("xor", "sgd", 0.5, 60, 0.95),
    ("xor", "adam", 0.02, 40, 0.95),
    ("circles", "momentum", 0.1, 40, 0.97),
    ("circles", "adam", 0.02, 40, 0.97),
])
def test_converges_on_2d_data(name: str, optimizer: str, learning_rate: float, epochs: int,
                              target: float) -> None:
    data = load_dataset(name, n=400, seed=0)
    net = Network.from_sizes([2, 16, 16, 2], ["tanh", "tanh", "softmax"], "cross_entropy", seed=0)
    history = net.fit(data.X, data.y, epochs=epochs, batch_size=16, optimizer=optimizer,
                      learning_rate=learning_rate, seed=0)
    assert net.evaluate(data.X, data.y)["accuracy"] >= target
    assert history.loss[-1] < history.loss[0]


def test_history_with_validation_split() -> None:
    data = load_dataset("gaussians", n=300, seed=2)
    net = Network.from_sizes([2, 8, 2], ["relu", "softmax"], "cross_entropy", seed=0)
    history = net.fit(data.X, data.y, epochs=5, batch_size=32, validation_split=0.2)
    assert len(history.loss) == len(history.accuracy) == 5
    assert len(history.val_loss) == len(history.val_accuracy) == 5
    assert all(0.0 <= a <= 1.0 for a in history.val_accuracy)


def test_integer_labels_equal_one_hot_targets() -> None:
    data = load_dataset("spirals", n=120, seed=0, noise=0.0)
    a = Network.from_sizes([2, 8, 2], ["tanh", "softmax"], "cross_entropy", seed=3)
    b = Network.from_sizes([2, 8, 2], ["tanh", "softmax"], "cross_entropy", seed=3)
    a.fit(data.X, data.y, epochs=3, batch_size=10)
    b.fit(data.X, np.eye(2)[data.y], epochs=3, batch_size=10)
    np.testing.assert_array_equal(a.predict(data.X), b.predict(data.X))


def test_single_sigmoid_output_reports_accuracy() -> None:
    data = load_dataset("xor", n=200, seed=0)
    net = Network.from_sizes([2, 8, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=0)
    history = net.fit(data.X, data.y.astype(float), epochs=80, batch_size=8, learning_rate=0.5)
    assert history.accuracy[-1] >= 0.9
    assert set(np.unique(net.predict_classes(data.X))) <= {0, 1}


def test_divergence_raises_a_one_line_error() -> None:
    data = load_dataset("gaussians", n=64, seed=0)
    net = Network.from_sizes([2, 4, 1], ["relu", "linear"], "half_sse", seed=0)
    with pytest.raises(DivergenceError, match="diverged at epoch") as caught:
        net.fit(data.X * 1e3, data.y * 1e3, epochs=50, batch_size=8, learning_rate=10.0)
    assert "\n" not in str(caught.value) and caught.value.exit_code == 1


def test_user_errors_are_gradtrace_errors() -> None:
    net = Network.from_sizes([2, 3, 2], ["relu", "softmax"], "cross_entropy")
    X = np.zeros((4, 2))
    with pytest.raises(ShapeError, match=r"expected \(4, 2\)"):
        net.fit(np.zeros((4, 3)), [0, 1, 0, 1])
    with pytest.raises(ShapeError, match=r"0\.\.1"):
        net.fit(X, [0, 1, 2, 1])
    with pytest.raises(UnknownNameError, match="did you mean 'adam'"):
        net.fit(X, [0, 1, 0, 1], optimizer="adma")
    with pytest.raises(SpecError, match="positive"):
        net.fit(X, [0, 1, 0, 1], epochs=0)
    with pytest.raises(SpecError, match="activation"):
        Network.from_sizes([2, 2], ["rleu"], "half_sse")


def test_from_spec_trains_the_same_way() -> None:
    from gradtrace.spec import load_spec

    spec = load_spec("xor")
    net = Network.from_spec(spec)
    X, Y = spec.arrays()
    history = net.fit(X, Y, epochs=spec.training.epochs, batch_size=spec.training.batch_size,
                      learning_rate=spec.learning_rate, shuffle=False)
    assert history.accuracy[-1] == 1.0


def test_fit_checks_targets_with_the_loss_rule() -> None:
    net = Network.from_sizes([2, 2], "softmax", "cross_entropy")
    with pytest.raises(ShapeError, match=r"Y\[1\] sums to 0.9"):
        net.fit(np.zeros((2, 2)), np.array([[1.0, 0.0], [0.5, 0.4]]), epochs=1)
    bce = Network.from_sizes([2, 1], "sigmoid", "binary_cross_entropy")
    with pytest.raises(ShapeError, match=r"Y\[0\]\[0\] is 2"):
        bce.fit(np.zeros((2, 2)), np.array([2.0, 1.0]), epochs=1)
