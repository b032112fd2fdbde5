"""The seed notebook's example cell, run with gradtrace.classic, prints the seed's output."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np

from gradtrace.classic import NeuralNet

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "backpropagation-notebook.txt"
BUNDLED = Path(__file__).parent / "data" / "seed-printout.txt"


def seed_printout() -> str:
    """The notebook's printed output: the text after the last code cell, up to the end marker."""
    if SEED.exists():
        text = SEED.read_text(encoding="utf-8")
        start = text.rindex("--- Forward Pass ---")
        end = text.rindex("****")
        return text[start:end].rstrip("\n") + "\n"
    return BUNDLED.read_text(encoding="utf-8")


def run_seed_cell() -> str:
    # The notebook's example cell, verbatim apart from the import.
    a0_input = np.array([[0.35], [0.7]])
    y_target = 0.5
    W1_init = np.array([[0.2, 0.2], [0.3, 0.3]])
    W2_init = np.array([[0.3, 0.9]])
    learning_rate = 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        network = NeuralNet(W1_init, W2_init)
        network.a0 = a0_input
        network.forward_pass(a0_input)
        network.calculate_cost(y_target)
        gradients = network.backpropagation(y_target)
        if gradients:
            grad_W1, grad_b1, grad_W2, grad_b2 = gradients
            network.update_weights(grad_W1, grad_b1, grad_W2, grad_b2, learning_rate)
    return out.getvalue()


def _lines(text: str) -> list[str]:
    # The notebook export strips trailing spaces on some lines ("z1 = W1 @ a0: "); compare the rest.
    return [line.rstrip() for line in text.rstrip("\n").split("\n")]


def test_printout_equals_the_seed_line_for_line() -> None:
    assert _lines(run_seed_cell()) == _lines(seed_printout())


def test_bundled_copy_matches_the_seed() -> None:
    if SEED.exists():
        assert _lines(BUNDLED.read_text(encoding="utf-8")) == _lines(seed_printout())


def test_every_printed_number_matches() -> None:
    number = re.compile(r"-?\d+\.\d+(?:e-?\d+)?")
    assert number.findall(run_seed_cell()) == number.findall(seed_printout())


def test_classic_gradient_is_the_negative_gradient_and_biases_stay() -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        net = NeuralNet(np.array([[0.2, 0.2], [0.3, 0.3]]), np.array([[0.3, 0.9]]))
        net.forward_pass(np.array([[0.35], [0.7]]))
        grads = net.backpropagation(0.5)
        assert grads is not None
        net.update_weights(*grads, eta=1)
    # dC/dW2 = delta2 a1ᵀ with delta2 = (a2 - y) a2 (1 - a2) > 0 here; classic returns its negative
    assert grads[2][0, 0] < 0
    np.testing.assert_array_equal(net.b1, np.zeros((2, 1)))
    np.testing.assert_array_equal(net.b2, np.zeros((1, 1)))
