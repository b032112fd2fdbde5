"""Shared test helpers: build an MLP from plain lists, and a hypothesis strategy of random cases.

The strategy draws only combinations the spec accepts (probability losses need a sigmoid or
softmax output; softmax only on the output layer), so the engine is tested where users can reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from numpy.typing import NDArray

from gradtrace.core.activations import get_activation
from gradtrace.core.losses import get_loss
from gradtrace.core.network import MLP, Layer

Array = NDArray[np.float64]

# Written out, not read from the registry, so a new entry must be added here to be tested.
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "elu", "gelu", "gelu_tanh",
                      "silu", "softplus", "hardtanh")
OUTPUT_ACTIVATIONS = (*HIDDEN_ACTIVATIONS, "softmax")
LOSSES = ("half_sse", "mse", "mae", "binary_cross_entropy", "cross_entropy")
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")


@dataclass(frozen=True)
class Case:
    """A network described by plain arrays (so torch can be given the very same numbers)."""

    weights: list[Array]  # W_l (n_out, n_in)
    biases: list[Array]  # b_l (n_out,)
    activations: list[str]
    slopes: list[float]  # leaky_relu slope per layer (ignored for other activations)
    loss: str
    X: Array  # (m, n_0)
    Y: Array  # (m, n_L)

    def mlp(self, train_biases: bool = True) -> MLP:
        return build_mlp(self.weights, self.biases, self.activations, self.loss,
                         slopes=self.slopes, train_biases=train_biases)


def build_mlp(weights: list[Array], biases: list[Array], activations: list[str], loss: str,
              *, slopes: list[float] | None = None, train_biases: bool = True) -> MLP:
    """An engine MLP with copies of the given arrays."""
    slopes = slopes or [0.01] * len(weights)
    layers = []
    for W, b, name, slope in zip(weights, biases, activations, slopes, strict=True):
        activation = get_activation(name, slope=slope) if name == "leaky_relu" else get_activation(name)
        layers.append(Layer(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64), activation))
    return MLP(layers, get_loss(loss), train_biases)


def _matrix(draw: st.DrawFn, rows: int, cols: int, low: float, high: float) -> Array:
    values = draw(st.lists(
        st.floats(low, high, allow_nan=False, allow_infinity=False),
        min_size=rows * cols, max_size=rows * cols,
    ))
    return np.array(values, dtype=np.float64).reshape(rows, cols)


@st.composite
def cases(draw: st.DrawFn, max_layers: int = 3, max_width: int = 5, max_batch: int = 5) -> Case:
    """A random valid network (1-3 layers, widths 1-5), a loss, and a batch of 1-5 samples."""
    n_layers = draw(st.integers(1, max_layers))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=n_layers + 1, max_size=n_layers + 1))
    loss = draw(st.sampled_from(LOSSES))
    outputs = PROBABILITY_OUTPUTS if loss in ("binary_cross_entropy", "cross_entropy") else (
        OUTPUT_ACTIVATIONS
    )
    activations = [draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in range(n_layers - 1)]
    activations.append(draw(st.sampled_from(outputs)))
    slopes = [draw(st.floats(0.01, 0.5)) for _ in range(n_layers)]
    weights = [_matrix(draw, n_out, n_in, -1.5, 1.5) for n_in, n_out in pairwise(sizes)]
    biases = [_matrix(draw, 1, n_out, -1.0, 1.0)[0] for n_out in sizes[1:]]
    m = draw(st.integers(1, max_batch))
    X = _matrix(draw, m, sizes[0], -2.0, 2.0)
    n_out = sizes[-1]
    if loss == "binary_cross_entropy":
        Y = _matrix(draw, m, n_out, 0.0, 1.0)
    elif loss == "cross_entropy":
        # a probability distribution per sample (one-hot is the common special case)
        raw = _matrix(draw, m, n_out, 0.0, 1.0) + 1e-3
        Y = raw / raw.sum(axis=1, keepdims=True)
    else:
        Y = _matrix(draw, m, n_out, -1.0, 1.0)
    return Case(weights, biases, activations, slopes, loss, X, Y)


# ---- the web app, for the API tests ---------------------------------------------------------------

@pytest.fixture(scope="module")
def client() -> Any:
    """The app through TestClient, on a loopback Host: the server answers no other name
    (web/guard.py), and TestClient's own default is "testserver"."""
    testclient = pytest.importorskip("fastapi.testclient")
    from gradtrace.web import create_app

    return testclient.TestClient(create_app(), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def seed(client: Any) -> dict[str, Any]:
    """The built-in seed example as the API gives it."""
    spec: dict[str, Any] = client.get("/api/examples/seed").json()
    return spec
