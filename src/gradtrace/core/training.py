"""Fast, untraced mini-batch training: the same maths as ``network.backward``, without a trace.

Notation (as network.py; the code spells the layer index l as k): rows are samples; m = rows in
this batch, B = the batch size, n_l = units of layer l; z_l = a_{l-1} W_lᵀ + b_l (m, n_l),
a_l = σ_l(z_l); delta_l = dC/dz_l, here already divided by m so that
grad_W_l = delta_lᵀ a_{l-1} (n_l, n_{l-1}) and grad_b_l = Σ_s delta_l (n_l,).

Why it is fast: every array a batch needs is allocated once per batch size (``Workspace``) and
written with ``out=``; activations are applied in place and their derivatives read the forward
output a (relu' = [a > 0], tanh' = 1 - a², σ' = a(1 - a)); softmax + cross-entropy and
sigmoid + binary cross-entropy use the fused delta a - y; the loss comes from z (exact for any z);
a shuffled epoch gathers each batch with ``np.take(..., out=)`` from one index permutation, so the
dataset is never copied; plain SGD folds η into delta so the update is one subtraction. Networks
outside these cases train through the reference ``forward``/``backward`` instead (``fast=False``).
The tests check that both paths give the same gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.network import MLP, backward, forward, trains
from gradtrace.core.optimizers import SGD, Adam, Momentum, Optimizer

Array = NDArray[np.floating]
Indices = NDArray[np.intp]
# Σ_s C_s of one batch: a numpy scalar, so no float() per batch
StepLoss = float | np.floating[Any]

FAST_HIDDEN = ("relu", "tanh", "sigmoid", "linear")
FAST_OUTPUT = {("softmax", "cross_entropy"), ("sigmoid", "binary_cross_entropy"),
               ("linear", "half_sse"), ("linear", "mse")}


def is_classifier(mlp: MLP) -> bool:
    """Whether accuracy means something: a probability loss (one-hot classes or 0/1 targets)."""
    return mlp.loss.name in ("cross_entropy", "binary_cross_entropy")


def class_labels(Y: Array) -> Indices:
    """Class index per row (m,): argmax of one-hot rows, or y > 0.5 for a single 0/1 output."""
    if Y.shape[1] == 1:
        return (Y[:, 0] > 0.5).astype(np.intp)
    labels: Indices = np.argmax(Y, axis=1).astype(np.intp)
    return labels


def supports_fast_path(mlp: MLP) -> bool:
    """True when every layer has an in-place kernel below (else the reference path is used)."""
    hidden = all(layer.activation.name in FAST_HIDDEN for layer in mlp.layers[:-1])
    return hidden and (mlp.layers[-1].activation.name, mlp.loss.name) in FAST_OUTPUT


# ---- in-place activations and their derivatives from a -------------------------------------------

def _forward_in_place(name: str, z: Array) -> None:
    """z ← σ(z) in place."""
    if name == "relu":
        np.maximum(z, 0.0, out=z)
    elif name == "tanh":
        np.tanh(z, out=z)
    elif name == "sigmoid":
        # σ(z) = ½ + ½ tanh(z/2): no exp, so no overflow for any z
        z *= 0.5
        np.tanh(z, out=z)
        z *= 0.5
        z += 0.5


def _derivative_times(
    name: str, a: Array, grad_a: Array, work: Array, mask: NDArray[np.bool_]
) -> None:
    """grad_a ← grad_a ⊙ σ'(z), with σ' read from a = σ(z); ``work``/``mask`` are scratch."""
    if name == "relu":
        np.greater(a, 0.0, out=mask)  # relu'(z) = [z > 0] = [a > 0]
        np.multiply(grad_a, mask, out=grad_a)
    elif name == "tanh":
        np.multiply(a, a, out=work)
        np.subtract(1.0, work, out=work)  # 1 - a²
        grad_a *= work
    elif name == "sigmoid":
        np.subtract(1.0, a, out=work)
        work *= a  # a (1 - a)
        grad_a *= work


class Workspace:
    """Every array one batch of m rows needs, allocated once."""

    def __init__(self, sizes: Sequence[int], m: int, dtype: np.dtype[np.floating]) -> None:
        self.m = m
        self.x = np.empty((m, sizes[0]), dtype)  # (m, n_0) the gathered batch
        self.y = np.empty((m, sizes[-1]), dtype)  # (m, n_L)
        self.a = [self.x] + [np.empty((m, n), dtype) for n in sizes[1:]]  # z_l, then a_l in place
        self.z_out = np.empty((m, sizes[-1]), dtype)  # z_L kept for the loss
        self.delta = [self.x] + [np.empty((m, n), dtype) for n in sizes[1:]]  # delta[0] unused
        self.work = [self.x] + [np.empty((m, n), dtype) for n in sizes[1:]]
        self.mask = [np.empty((m, n), np.bool_) for n in sizes]
        self.row = np.empty((m, 1), dtype)  # per-sample max / Σ e^z
        self.forward_plan: list[Any] = []  # filled by Trainer._plan
        self.backward_plan: list[Any] = []


@dataclass
class BatchTotals:
    """Sums over one epoch's batches: Σ_s C_s, correct predictions, samples seen."""

    loss_sum: float
    correct: int
    samples: int


class Trainer:
    """Runs epochs of mini-batch training on ``mlp`` in place.

    ``fast=None`` picks the in-place path whenever ``supports_fast_path(mlp)``.
    """

    def __init__(self, mlp: MLP, optimizer: Optimizer, batch_size: int, fast: bool | None = None):
        self.mlp = mlp
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.fast = supports_fast_path(mlp) if fast is None else fast and supports_fast_path(mlp)
        self.classifier = is_classifier(mlp)
        self._spaces: dict[int, Workspace] = {}
        self._grad_W = [np.empty_like(layer.W) for layer in mlp.layers]
        self._grad_b = [np.empty_like(layer.b) for layer in mlp.layers]
        names = [layer.activation.name for layer in mlp.layers]
        self._hidden = names[:-1]
        self._output = (names[-1], mlp.loss.name)
        self._folded = self._folds_learning_rate()
        # delta_L carries 1/m, and η too when plain SGD's update folds into the gradient
        self._scale = float(optimizer.learning_rate) if self._folded else 1.0
        L = len(mlp.layers)
        self._updates = [(trains(mlp, k, "W"), trains(mlp, k, "b")) for k in range(1, L + 1)]

    def workspace(self, m: int) -> Workspace:
        space = self._spaces.get(m)
        if space is None:
            space = self._spaces[m] = Workspace(self.mlp.sizes, m, self.mlp.dtype)
            self._plan(space)
        return space

    def _plan(self, space: Workspace) -> None:
        """Bind each layer's arrays and buffers once, so a step does no lookups (small networks
        are dominated by Python overhead, not arithmetic)."""
        layers = self.mlp.layers
        L = len(layers)
        space.forward_plan = [
            (layer.W.T, layer.b, space.z_out if k == L else space.a[k],
             self._hidden[k - 1] if k < L else None)
            for k, layer in enumerate(layers, start=1)
        ]  # a_{l-1} of layer 1 is the batch itself, given per step
        space.backward_plan = [
            (space.delta[k], space.delta[k].T, None if k == 1 else space.a[k - 1],
             self._grad_W[k - 1], self._grad_b[k - 1], layer.W, layer.b,
             None if k == 1 else space.delta[k - 1], self._hidden[k - 2] if k > 1 else "",
             space.work[k - 1], space.mask[k - 1], f"W{k}", f"b{k}", *self._updates[k - 1])
            for k, layer in reversed(list(enumerate(layers, start=1)))
        ]

    def epoch(
        self, X: Array, Y: Array, labels: Indices | None, order: Indices | None
    ) -> BatchTotals:
        """One pass over (X, Y) in batches, in ``order`` (None: row order, no copies at all)."""
        n, B = X.shape[0], self.batch_size
        batches = -(-n // B)
        loss_sums = np.zeros(batches)
        # each batch writes its predicted classes here; they are compared with the labels once
        predicted = np.empty(n, np.intp) if labels is not None and self.classifier else None
        step = self.fast_step if self.fast else self.reference_step
        for i in range(batches):
            start = i * B
            stop = min(start + B, n)
            space = self._spaces.get(stop - start) or self.workspace(stop - start)
            if order is None:
                xb, yb = X[start:stop], Y[start:stop]
            else:
                idx = order[start:stop]
                xb = X.take(idx, 0, space.x, "clip")  # (m, n_0) into the batch buffer
                yb = Y.take(idx, 0, space.y, "clip")  # (m, n_L)
            loss_sums[i] = step(space, xb, yb, None if predicted is None else predicted[start:stop])
        correct = 0
        if predicted is not None and labels is not None:
            truth = labels if order is None else labels[order]
            correct = int(np.count_nonzero(predicted == truth))
        return BatchTotals(float(loss_sums.sum()), correct, n)

    # ---- the fast path -----------------------------------------------------------------------

    def fast_step(
        self, space: Workspace, xb: Array, yb: Array, predicted: Indices | None
    ) -> StepLoss:
        """Forward, backward (old weights) and update for one batch; returns Σ_s C_s and writes
        the predicted class of each row into ``predicted`` when given."""
        matmul, add = np.matmul, np.add
        a_prev = xb
        for W_T, b, z, hidden in space.forward_plan:
            matmul(a_prev, W_T, out=z)  # z_l = a_{l-1} W_lᵀ + b_l  (m, n_l)
            add(z, b, out=z)
            if hidden is not None:
                if hidden == "relu":
                    np.maximum(z, 0.0, out=z)
                else:
                    _forward_in_place(hidden, z)
                a_prev = z
        loss_sum = self._output_delta(space, yb, predicted)
        self._backward_update(space, xb)
        return loss_sum

    def _output_delta(self, space: Workspace, yb: Array, predicted: Indices | None) -> StepLoss:
        """a_L, Σ_s C_s, and delta_L = dC/dz_L (already ÷ m, and × η for plain SGD)."""
        activation, loss = self._output
        z, out, delta, row = space.z_out, space.a[-1], space.delta[-1], space.row
        n_out = z.shape[1]
        loss_sum: StepLoss
        if activation == "softmax":
            np.maximum.reduce(z, axis=1, keepdims=True, out=row)
            np.subtract(z, row, out=z)  # shifted: max 0 per sample
            np.exp(z, out=out)
            np.add.reduce(out, axis=1, keepdims=True, out=row)
            np.divide(out, row, out=out)  # softmax
            np.log(row, out=row)
            # Σ_s (logsumexp_s - Σ_k y_k z_k), from the shifted z
            loss_sum = np.add.reduce(row, axis=None) - np.vdot(yb, z)
            np.subtract(out, yb, out=delta)  # a - y
        elif activation == "sigmoid":
            np.copyto(out, z)
            _forward_in_place("sigmoid", out)
            loss_sum = _bce_from_logits_sum(z, yb, space.work[-1]) / n_out
            np.subtract(out, yb, out=delta)
            delta /= n_out  # (a - y) / n
        else:  # linear output, squared error
            np.copyto(out, z)
            np.subtract(out, yb, out=delta)  # a - y
            squares = np.vdot(delta, delta)
            loss_sum = 0.5 * squares if loss == "half_sse" else squares / n_out
            if loss == "mse":
                delta *= 2.0 / n_out
        np.multiply(delta, self._scale / space.m, out=delta)
        if predicted is not None:
            _predict_classes(out, predicted)
        return loss_sum

    def _folds_learning_rate(self) -> bool:
        return isinstance(self.optimizer, SGD) and self.optimizer.weight_decay == 0.0

    def _backward_update(self, space: Workspace, xb: Array) -> None:
        """delta_{l-1} = (delta_l W_l) ⊙ σ'(z_{l-1}) with the old W_l, then θ_l's update."""
        matmul, subtract = np.matmul, np.subtract
        sum_rows = np.add.reduce
        folded = self._folded
        optimizer = self.optimizer
        for (delta, delta_T, a_prev, grad_W, grad_b, W, b, below, hidden, work, mask,
             key_W, key_b, update_W, update_b) in space.backward_plan:
            matmul(delta_T, xb if a_prev is None else a_prev, out=grad_W)  # (n_l, n_{l-1})
            sum_rows(delta, axis=0, out=grad_b)  # (n_l,)
            if below is not None:
                matmul(delta, W, out=below)  # (m, n_{l-1}), with the old W_l
                if hidden == "relu":
                    np.greater(a_prev, 0.0, out=mask)  # relu'(z) = [a > 0]
                    np.multiply(below, mask, out=below)
                else:
                    _derivative_times(hidden, a_prev, below, work, mask)
            if folded:  # grad_W already carries η: θ -= η g in one subtraction
                if update_W:
                    subtract(W, grad_W, out=W)
                if update_b:
                    subtract(b, grad_b, out=b)
            else:
                if update_W:
                    _update(optimizer, key_W, W, grad_W)
                if update_b:
                    _update(optimizer, key_b, b, grad_b)

    # ---- the reference path ------------------------------------------------------------------

    def reference_step(
        self, space: Workspace, xb: Array, yb: Array, predicted: Indices | None
    ) -> StepLoss:
        """The traced engine's forward/backward, then the optimiser: slow but any network."""
        fwd = forward(self.mlp, xb)
        grads = backward(self.mlp, fwd, yb)
        for k, layer in enumerate(self.mlp.layers, start=1):
            grad_W, grad_b = grads.grad_W[k], grads.grad_b[k]
            assert grad_W is not None and grad_b is not None
            if trains(self.mlp, k, "W"):
                self.optimizer.update(f"W{k}", layer.W, grad_W)
            if trains(self.mlp, k, "b"):
                self.optimizer.update(f"b{k}", layer.b, grad_b)
        if predicted is not None:
            _predict_classes(fwd.a[-1], predicted)
        return float(np.sum(grads.per_sample_cost))


def _predict_classes(out: Array, predicted: Indices) -> None:
    """Class index per row into ``predicted``: argmax, or a > 0.5 for a single output."""
    if out.shape[1] == 1:
        np.greater(out[:, 0], 0.5, out=predicted)
    else:
        out.argmax(axis=1, out=predicted)


def _update(optimizer: Optimizer, key: str, param: Array, grad: Array) -> None:
    update: Callable[..., None] = optimizer.update
    if isinstance(optimizer, SGD | Momentum | Adam):
        update(key, param, grad, grad_is_scratch=True)  # ours: may reuse grad as workspace
    else:
        update(key, param, grad)


def _bce_from_logits_sum(z: Array, y: Array, work: Array) -> float:
    """Σ_s Σ_k [max(z,0) - z y + log(1 + e^(-|z|))], exact for any z."""
    np.abs(z, out=work)
    np.negative(work, out=work)
    np.exp(work, out=work)
    np.log1p(work, out=work)
    total = float(work.sum() - np.vdot(z, y))
    np.maximum(z, 0.0, out=work)
    return total + float(work.sum())


def fast_gradients(mlp: MLP, X: Array, Y: Array) -> tuple[list[Array], list[Array], float]:
    """grad_W_l, grad_b_l (l = 1..L) and the batch cost by the fast path, weights untouched.

    For tests and tools: the same quantities ``network.backward`` returns, from the in-place code.
    """
    work = mlp.copy()
    trainer = Trainer(work, _Recorder(), batch_size=X.shape[0], fast=True)
    space = trainer.workspace(X.shape[0])
    loss_sum = trainer.fast_step(space, np.ascontiguousarray(X), np.ascontiguousarray(Y), None)
    return trainer._grad_W, trainer._grad_b, float(loss_sum) / X.shape[0]


class _Recorder:
    """An optimiser that changes nothing, so the gradients stay in the trainer's buffers."""

    name = "record"
    learning_rate = 0.0

    def update(self, key: str, param: Array, grad: Array) -> None:
        return None

    def state_arrays(self) -> dict[str, Array]:
        return {}

    def load_state_arrays(self, arrays: dict[str, Array]) -> None:
        return None
