"""The seed notebook's ``NeuralNet`` API, kept for people who follow that notebook.

It runs on gradtrace's engine and prints exactly what the notebook printed. Two conventions of
the notebook are kept here on purpose, and *not* in the main API:

- Its "gradients" are the **negative** gradient: it prints ``delta2 = (y - y_hat) * σ'`` and
  ``grad_W = delta @ a.T`` and then updates ``W += eta * grad_W``. The true gradient is
  dC/dW = -grad_W; the step is the same gradient-descent step.
- It computes bias gradients but **never applies them**: biases keep their initial values
  (the main API's ``train_biases = false`` reproduces this).

For any other network, for true gradients and for bias updates, use the main API:
``gradtrace step`` on the command line, or ``gradtrace.workflow.trace_spec`` in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.activations import get_activation, sigmoid, sigmoid_derivative
from gradtrace.core.losses import get_loss
from gradtrace.core.network import MLP, Forward, Layer, backward, forward

Array = NDArray[np.floating]
Gradients = tuple[Array, Array, Array, Array]


class NeuralNet:
    """A 2-layer sigmoid network with half squared error, as in the seed notebook.

    Arrays are column vectors as in the notebook: a0 is (n_in, 1), W1 is (n_hidden, n_in).
    """

    def __init__(self, W1_initial: Array, W2_initial: Array,
                 b1: Array | None = None, b2: Array | None = None) -> None:
        self.W1 = W1_initial.copy()
        self.W2 = W2_initial.copy()
        self.b1 = b1 if b1 is not None else np.zeros((self.W1.shape[0], 1))
        self.b2 = b2 if b2 is not None else np.zeros((self.W2.shape[0], 1))
        self.a0: Array | None = None
        self.z1: Array | None = None
        self.a1: Array | None = None
        self.z2: Array | None = None
        self.a2: Array | None = None
        self._forward: Forward | None = None

    @staticmethod
    def sigmoid(z: Array) -> Array:
        return sigmoid(z)

    @staticmethod
    def sigmoid_derivative(a: Array) -> Array:
        """σ'(z) from a = σ(z): a (1 - a)."""
        return sigmoid_derivative(a, a)

    def _mlp(self) -> MLP:
        sig = get_activation("sigmoid")
        return MLP(
            [Layer(self.W1, self.b1.reshape(-1), sig), Layer(self.W2, self.b2.reshape(-1), sig)],
            get_loss("half_sse"),
            train_biases=False,
        )

    def forward_pass(self, a0: Array) -> Array:
        print("--- Forward Pass ---")
        self.a0 = a0
        print(f"Input a0: {self.a0}\n")
        fwd = self._forward = forward(self._mlp(), a0.T)  # the engine takes rows of samples
        z1, z2 = fwd.z[1], fwd.z[2]
        assert z1 is not None and z2 is not None
        self.z1, self.a1 = z1.T, fwd.a[1].T
        print(f"z1 = W1 @ a0: \n{self.z1}\n")
        print(f"a1 = sigmoid(z1): \n{self.a1}\n")
        self.z2, a2 = z2.T, fwd.a[2].T
        self.a2 = a2
        print(f"z2 = W2 @ a1: \n{self.z2}\n")
        print(f"a2 = sigmoid(z2): \n{self.a2}\n")
        print(f"Predicted y_hat = a2: \n{a2[0, 0]}\n")
        return a2

    def calculate_cost(self, y: Any) -> float | None:
        if self.a2 is None:
            print("Run Forward pass")
            return None
        cost = 0.5 * np.sum((y - self.a2) ** 2)
        print(f"Cost: \n{cost}\n")
        return float(cost)

    def backpropagation(self, y: Any) -> Gradients | None:
        """The notebook's backward pass; returns the *negative* gradients (see module doc)."""
        if self._forward is None or self.a0 is None or self.a1 is None or self.a2 is None:
            print("Run Forward pass")
            return None
        print("--- Backpropagation ---")
        targets = np.broadcast_to(np.asarray(y, dtype=np.float64), self.a2.shape)
        grads = backward(self._mlp(), self._forward, targets.T)
        # The notebook's delta is (y - y_hat) σ' = -dC/dz, so its "gradient" is -dC/dW.
        d2, d1 = grads.delta[2], grads.delta[1]
        assert d2 is not None and d1 is not None
        delta2, delta1 = -d2.T, -d1.T
        print(f" delta^L = delta2 = (y - y_hat) * sigmoid_derivative(y_hat): \n{delta2}\n")
        print(f"delta1 = (W2.T @ delta2) * sigmoid_derivative(a1): \n{delta1}\n")
        grad_W2, grad_b2 = delta2 @ self.a1.T, delta2
        grad_W1, grad_b1 = delta1 @ self.a0.T, delta1
        print(f"Gradient dC/dW2 = delta2 @ a1.T: \n{grad_W2}\n")
        print(f"Gradient dC/db2 = delta2: \n{grad_b2}\n")
        print(f"Gradient dC/dW1 = delta1 @ a0.T: \n{grad_W1}\n")
        print(f"Gradient dC/db1 = delta1: \n{grad_b1}\n")
        return grad_W1, grad_b1, grad_W2, grad_b2

    def update_weights(self, grad_W1: Array, grad_b1: Array, grad_W2: Array, grad_b2: Array,
                       eta: float) -> None:
        """W += eta * grad (grad is the notebook's negative gradient); biases are left as they are."""
        print(f"Learning rate: {eta}\n")
        W1_old = self.W1.copy()
        W2_old = self.W2.copy()
        self.W1 += eta * grad_W1
        self.W2 += eta * grad_W2
        print(f"W1_old: \n{W1_old}\n")
        print(f"W1_new = W1_old + eta * grad_W1: \n{self.W1}\n")
        print(f"W2_old: \n{W2_old}\n")
        print(f"W2_new = W2_old + eta * grad_W2: \n{self.W2}\n")
