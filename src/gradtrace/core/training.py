"""Fast, untraced mini-batch training: the same maths as ``network.backward``, without a trace.

Notation (as network.py): rows are samples; m = rows in this batch, B = the batch size, n_l = units
of layer l; z_l = a_{l-1} W_lᵀ + b_l (m, n_l), a_l = σ_l(z_l); delta_l = dC/dz_l, here already
divided by m so that grad_W_l = delta_lᵀ a_{l-1} (n_l, n_{l-1}) and grad_b_l = Σ_s delta_l (n_l,).

Why it is fast: every array a batch needs is allocated once per batch size (``Workspace``) and
written with ``out=``; each hidden activation's entry gives its in-place forward and its in-place
"multiply by σ'" read from the forward output a (relu' = [a > 0], tanh' = 1 - a², σ' = a(1 - a)),
or from z, which the plan then keeps (silu); the loss's entry gives the in-place output step with
its activation (softmax + cross-entropy and sigmoid + binary cross-entropy use the fused delta
a - y and the loss from z, exact for any z); a shuffled epoch gathers each batch with
``np.take(..., out=)`` from one index permutation, so the dataset is never copied; plain SGD folds
η into delta so the update is one subtraction. Networks outside these cases (an activation without
in-place forms such as gelu, an output/loss pair without a fast step) train through the reference
``forward``/``backward`` instead (``fast=False``). The tests check that both paths agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.activations import DerivativeInPlace, InPlace
from gradtrace.core.backprop import apply_update
from gradtrace.core.losses import FastOutput
from gradtrace.core.network import MLP, backward, forward, trains
from gradtrace.core.optimizers import SGD, Adam, Momentum, Optimizer

Array = NDArray[np.floating]
Indices = NDArray[np.intp]
# Σ_s C_s of one batch: a numpy scalar, so no float() per batch
StepLoss = float | np.floating[Any]


def is_classifier(mlp: MLP) -> bool:
    """Whether accuracy means something: a probability loss (one-hot classes or 0/1 targets)."""
    return mlp.loss.classifier


def class_labels(Y: Array) -> Indices:
    """Class index per row (m,): argmax of one-hot rows, or y > 0.5 for a single 0/1 output."""
    if Y.shape[1] == 1:
        return (Y[:, 0] > 0.5).astype(np.intp)
    labels: Indices = np.argmax(Y, axis=1).astype(np.intp)
    return labels


def fast_output(mlp: MLP) -> FastOutput | None:
    """The loss entry's in-place output step for this network's output activation, if it has one."""
    return mlp.loss.fast_outputs.get(mlp.layers[-1].activation.name)


def supports_fast_path(mlp: MLP) -> bool:
    """True when every hidden layer has in-place forms and the output/loss pair a fast step."""
    return all(layer.activation.fast for layer in mlp.layers[:-1]) and fast_output(mlp) is not None


@dataclass(slots=True)
class LayerPlan:
    """Layer l's arrays and in-place steps for one batch size, bound once so a step does no lookups
    (small networks are dominated by Python overhead, not arithmetic).

    Forward: z ← a_{l-1} W_lᵀ + b_l, then a ← σ_l(z) in place (``z is a`` unless σ_l' reads z).
    Backward: grad_W_l, grad_b_l from delta_l; below ← (delta_l W_l) ⊙ σ_{l-1}'(source).
    """

    l: int
    W: Array  # (n_l, n_{l-1}), updated in place
    b: Array  # (n_l,)
    W_T: Array  # a view of W, so the update reaches it
    z: Array  # (m, n_l): z_L for the output layer
    a: Array  # (m, n_l): the same array as z when σ_l acts in place on it
    activate: InPlace | None  # None on the output layer (its loss step does it)
    work: Array  # (m, n_l) scratch
    mask: NDArray[np.bool_]  # (m, n_l) scratch
    a_prev: Array | None  # a_{l-1} (m, n_{l-1}); None for l = 1: the batch, given per step
    delta: Array  # (m, n_l)
    delta_T: Array
    grad_W: Array
    grad_b: Array
    below: Array | None  # delta_{l-1} (m, n_{l-1}); None for l = 1
    derivative_times: DerivativeInPlace | None  # σ_{l-1}' in place; None for l = 1
    derivative_source: Array  # a_{l-1} or z_{l-1}, whichever σ_{l-1}' reads (unused for l = 1)
    below_work: Array  # (m, n_{l-1}) scratch
    below_mask: NDArray[np.bool_]
    key_W: str
    key_b: str
    update_W: bool
    update_b: bool


class Workspace:
    """Every array one batch of m rows needs, allocated once; ``plans`` binds them per layer."""

    def __init__(self, sizes: Sequence[int], m: int, dtype: np.dtype[np.floating],
                 keeps_z: Sequence[bool] = ()) -> None:
        self.m = m
        self.x = np.empty((m, sizes[0]), dtype)  # (m, n_0) the gathered batch
        self.y = np.empty((m, sizes[-1]), dtype)  # (m, n_L)
        self.a = [self.x] + [np.empty((m, n), dtype) for n in sizes[1:]]  # z_l, then a_l in place
        # z_l kept apart from a_l where σ_l' reads z; z_L is always kept, for the loss
        self.z = [self.x] + [
            np.empty((m, n), dtype) if keep else self.a[l]
            for l, (n, keep) in enumerate(zip(sizes[1:], keeps_z or [False] * len(sizes[1:]),
                                             strict=True), start=1)
        ]
        self.z_out = self.z[-1] = np.empty((m, sizes[-1]), dtype)
        self.delta = [self.x] + [np.empty((m, n), dtype) for n in sizes[1:]]  # delta[0] unused
        self.work = [self.x] + [np.empty((m, n), dtype) for n in sizes[1:]]
        self.mask = [np.empty((m, n), np.bool_) for n in sizes]
        self.row = np.empty((m, 1), dtype)  # per-sample max / Σ e^z
        self.plans: list[LayerPlan] = []  # layers 1..L, filled by Trainer._plan
        self.backward_plans: list[LayerPlan] = []  # layers L..1


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
        self._output = fast_output(mlp)
        self._folded = self._folds_learning_rate()
        # delta_L carries 1/m, and η too when plain SGD's update folds into the gradient
        self._scale = float(optimizer.learning_rate) if self._folded else 1.0

    def workspace(self, m: int) -> Workspace:
        space = self._spaces.get(m)
        if space is None:
            hidden = [layer.activation.derivative_reads_z for layer in self.mlp.layers[:-1]]
            space = Workspace(self.mlp.sizes, m, self.mlp.dtype, [*hidden, True])
            self._spaces[m] = space
            self._plan(space)
        return space

    def _plan(self, space: Workspace) -> None:
        """Bind each layer's arrays, buffers and in-place steps once."""
        layers, mlp = self.mlp.layers, self.mlp
        L = len(layers)
        plans = []
        for l, layer in enumerate(layers, start=1):
            below = layers[l - 2].activation if l > 1 else None
            plans.append(LayerPlan(
                l=l, W=layer.W, b=layer.b, W_T=layer.W.T, z=space.z[l], a=space.a[l],
                activate=layer.activation.forward_in_place if l < L else None,
                work=space.work[l], mask=space.mask[l],
                a_prev=None if l == 1 else space.a[l - 1],
                delta=space.delta[l], delta_T=space.delta[l].T,
                grad_W=self._grad_W[l - 1], grad_b=self._grad_b[l - 1],
                below=None if below is None else space.delta[l - 1],
                derivative_times=None if below is None else below.derivative_times,
                derivative_source=space.z[l - 1] if below and below.derivative_reads_z else (
                    space.a[l - 1]),
                below_work=space.work[l - 1], below_mask=space.mask[l - 1],
                key_W=f"W{l}", key_b=f"b{l}",
                update_W=trains(mlp, l, "W"), update_b=trains(mlp, l, "b"),
            ))
        space.plans = plans
        space.backward_plans = plans[::-1]

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
        matmul, add, copyto = np.matmul, np.add, np.copyto
        a_prev = xb
        for p in space.plans:
            z = p.z
            matmul(a_prev, p.W_T, out=z)  # z_l = a_{l-1} W_lᵀ + b_l  (m, n_l)
            add(z, p.b, out=z)
            if p.activate is not None:
                a = p.a
                if a is not z:  # σ_l' reads z: keep it
                    copyto(a, z)
                p.activate(a, p.work, p.mask)
                a_prev = a
        loss_sum = self._output_delta(space, yb, predicted)
        self._backward_update(space, xb)
        return loss_sum

    def _output_delta(self, space: Workspace, yb: Array, predicted: Indices | None) -> StepLoss:
        """a_L, Σ_s C_s, and delta_L = dC/dz_L (already ÷ m, and × η for plain SGD)."""
        assert self._output is not None
        out, delta = space.a[-1], space.delta[-1]
        loss_sum = self._output(space.z_out, out, yb, delta, space.work[-1], space.row)
        np.multiply(delta, self._scale / space.m, out=delta)
        if predicted is not None:
            _predict_classes(out, predicted)
        return loss_sum

    def _folds_learning_rate(self) -> bool:
        return (isinstance(self.optimizer, SGD) and self.optimizer.weight_decay == 0.0
                and self.optimizer.l1 == 0.0)

    def _backward_update(self, space: Workspace, xb: Array) -> None:
        """delta_{l-1} = (delta_l W_l) ⊙ σ'(z_{l-1}) with the old W_l, then θ_l's update."""
        matmul, subtract = np.matmul, np.subtract
        sum_rows = np.add.reduce
        folded = self._folded
        optimizer = self.optimizer
        for p in space.backward_plans:
            delta, a_prev, W = p.delta, p.a_prev, p.W
            matmul(p.delta_T, xb if a_prev is None else a_prev, out=p.grad_W)  # (n_l, n_{l-1})
            sum_rows(delta, axis=0, out=p.grad_b)  # (n_l,)
            below = p.below
            if below is not None:
                matmul(delta, W, out=below)  # (m, n_{l-1}), with the old W_l
                times = p.derivative_times
                if times is not None:
                    times(p.derivative_source, below, p.below_work, p.below_mask)
            if folded:  # grad_W already carries η: θ -= η g in one subtraction
                if p.update_W:
                    subtract(W, p.grad_W, out=W)
                if p.update_b:
                    subtract(p.b, p.grad_b, out=p.b)
            else:
                if p.update_W:
                    _update(optimizer, p.key_W, W, p.grad_W)
                if p.update_b:
                    _update(optimizer, p.key_b, p.b, p.grad_b)

    # ---- the reference path ------------------------------------------------------------------

    def reference_step(
        self, space: Workspace, xb: Array, yb: Array, predicted: Indices | None
    ) -> StepLoss:
        """The traced engine's forward/backward, then the optimiser: slow but any network."""
        fwd = forward(self.mlp, xb)
        grads = backward(self.mlp, fwd, yb)
        apply_update(self.mlp, grads, self.optimizer)  # the traced step's own update
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
