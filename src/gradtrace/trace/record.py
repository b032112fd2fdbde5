"""Turn the engine's step results into an immutable Trace (and cap what is worth tracing)."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.backprop import StepResult, train_step
from gradtrace.core.network import MLP, Rounder, hand_rounder, trains
from gradtrace.core.optimizers import HYPERPARAMETERS, SGD, Optimizer
from gradtrace.errors import LimitError
from gradtrace.trace.model import (
    BackwardRecord,
    ForwardRecord,
    LayerInfo,
    NetworkInfo,
    OptimizerInfo,
    OptimizerState,
    Step,
    Trace,
    UpdateRecord,
    frozen_array,
)

# A worked example of more than this is no longer readable; train instead (README "Limits").
MAX_TRACE_PARAMETERS = 5_000
MAX_TRACE_UNITS = 256
MAX_TRACE_BATCH = 64
MAX_TRACE_STEPS = 100


def network_info(mlp: MLP, weights_layout: str = "out_in",
                 delta_convention: str = "gradient") -> NetworkInfo:
    """The network's description; the two conventions only change how the trace is shown."""
    return NetworkInfo(
        loss=mlp.loss.name,
        layers=tuple(
            LayerInfo(
                layer.n_in, layer.n_out, layer.activation.name,
                layer.activation.params.get("slope"), layer.trainable,
                tuple(layer.activation.params.items()),
            )
            for layer in mlp.layers
        ),
        train_biases=mlp.train_biases,
        batch_reduction=mlp.batch_reduction,
        weights_layout=weights_layout,
        delta_convention=delta_convention,
    )


def check_traceable(mlp: MLP, batch_size: int, steps: int) -> None:
    """Raise LimitError for a network, batch or step count too large for a worked example."""
    parameters = sum(layer.W.size + layer.b.size for layer in mlp.layers)
    widest = max(mlp.sizes)
    problems = [
        (parameters > MAX_TRACE_PARAMETERS,
         f"the network has {parameters:,} parameters; tracing is capped at {MAX_TRACE_PARAMETERS:,}"),
        (widest > MAX_TRACE_UNITS,
         f"a layer has {widest:,} units; tracing is capped at {MAX_TRACE_UNITS} a layer"),
        (batch_size > MAX_TRACE_BATCH,
         f"the batch has {batch_size:,} samples; tracing is capped at {MAX_TRACE_BATCH}"),
        (steps > MAX_TRACE_STEPS, f"{steps} steps asked; tracing is capped at {MAX_TRACE_STEPS}"),
    ]
    for too_large, message in problems:
        if too_large:
            raise LimitError(f"{message}; use a smaller example, or `gradtrace train` for big runs")


def _column(rows: NDArray[np.floating]) -> NDArray[np.float64]:
    """Rows of samples (m, n) -> the column view (n, m)."""
    return frozen_array(rows.T)


StateArrays = dict[str, NDArray[np.floating]]


def snapshot(optimizer: Optimizer) -> StateArrays:
    """Copies of the optimiser's state arrays ("velocity.W1", "m.b2", "t.W1", ...)."""
    return {key: np.array(value, copy=True) for key, value in optimizer.state_arrays().items()}


def _states(layer: int, before: StateArrays, after: StateArrays,
            shapes: dict[str, tuple[int, ...]]) -> tuple[OptimizerState, ...]:
    states = []
    for key, new in after.items():
        name, _, param_key = key.partition(".")
        parameter, layer_text = param_key[0], param_key[1:]
        if name == "t" or layer_text != str(layer):
            continue
        old = before.get(key, np.zeros_like(new))
        count = after.get(f"t.{param_key}")
        assert new.shape == shapes[parameter]
        if parameter == "b":  # biases are (units, 1) columns in the trace
            old, new = old[:, None], new[:, None]
        states.append(OptimizerState(name, parameter, frozen_array(old), frozen_array(new),
                                     None if count is None else int(count)))
    return tuple(states)


def record_step(mlp: MLP, index: int, X: NDArray[np.floating], Y: NDArray[np.floating],
                result: StepResult, optimizer: Optimizer,
                state_before: StateArrays | None = None, rounder: Rounder | None = None,
                network: NetworkInfo | None = None) -> Step:
    """A Step from one engine step; ``mlp`` is the network the step was taken on.

    ``rounder``: the hand rounding the step was computed with (the batch cost and dC/da are
    rounded as the engine rounded its other quantities).
    """
    keep = rounder or (lambda values: values)
    state_after = snapshot(optimizer)
    fwd, grads = result.forward, result.gradients
    L = len(mlp.layers)
    forward = tuple(
        ForwardRecord(l, _column(fwd.z[l]), _column(fwd.a[l]))  # type: ignore[arg-type]
        for l in range(1, L + 1)
    )
    fused = mlp.uses_fused_delta
    backward = tuple(
        BackwardRecord(
            l,
            _column(grads.delta[l]),  # type: ignore[arg-type]
            frozen_array(grads.grad_W[l]),  # type: ignore[arg-type]
            frozen_array(np.asarray(grads.grad_b[l])[:, None]),
            None if l < L or fused else _column(keep(mlp.loss.gradient(fwd.a[L], Y))),
        )
        for l in range(L, 0, -1)
    )
    update = tuple(
        UpdateRecord(
            l,
            frozen_array(W_old), frozen_array(W_new),
            frozen_array(b_old[:, None]), frozen_array(b_new[:, None]),
            trains(mlp, l, "W"), trains(mlp, l, "b"),
            _states(l, state_before or {}, state_after, {"W": W_old.shape, "b": b_old.shape}),
        )
        for l, ((W_old, b_old), (W_new, b_new)) in enumerate(
            zip(result.old, result.new, strict=True), start=1
        )
    )
    return Step(
        index=index,
        network=network or network_info(mlp),
        learning_rate=float(optimizer.learning_rate),
        input=_column(X),
        target=_column(Y),
        forward=forward,
        cost=float(keep(np.array(result.cost))),
        per_sample_cost=frozen_array(grads.per_sample_cost),
        backward=backward,
        update=update,
        optimizer=OptimizerInfo(optimizer.name, _hyperparameters(optimizer)),
    )


def _hyperparameters(optimizer: Optimizer) -> tuple[tuple[str, float], ...]:
    names = ("learning_rate", *HYPERPARAMETERS.get(optimizer.name, ()))
    return tuple((name, float(getattr(optimizer, name))) for name in names)


def trace_steps(
    mlp: MLP,
    X: NDArray[np.floating],
    Y: NDArray[np.floating],
    optimizer: Optimizer | None = None,
    steps: int = 1,
    *,
    learning_rate: float = 0.1,
    name: str | None = None,
    round_to: int | None = None,
    batch_size: int | None = None,
    weights_layout: str = "out_in",
    delta_convention: str = "gradient",
) -> tuple[Trace, MLP]:
    """Take ``steps`` steps on a copy of ``mlp``; return the trace and the trained copy.

    Each step takes the whole data, or with ``batch_size`` the next ``batch_size`` samples in
    order, wrapping around (``batch_size=1`` is online learning).

    ``round_to``: hand arithmetic, every quantity rounded to that many decimals before the next
    uses it (core.network.hand_rounder); each step then also holds, as ``exact``, the same step
    of an exact run from the same start, and the returned network is the rounded one.
    """
    check_traceable(mlp, min(batch_size or X.shape[0], X.shape[0]), steps)
    optimizer = optimizer or SGD(learning_rate)
    rounder = None if round_to is None else hand_rounder(round_to)
    exact = copy.deepcopy(optimizer) if rounder is not None else None  # before any state exists
    work, exact_work = mlp.copy(), mlp.copy()
    network = network_info(work, weights_layout, delta_convention)
    recorded = []
    for index, rows in enumerate(batch_rows(X.shape[0], batch_size, steps)):
        before = snapshot(optimizer)
        xb, yb = X[rows], Y[rows]
        result = train_step(work, xb, yb, optimizer, rounder)
        step = record_step(work, index, xb, yb, result, optimizer, before, rounder, network)
        if exact is not None:
            exact_before = snapshot(exact)
            exact_result = train_step(exact_work, xb, yb, exact)
            step = dataclasses.replace(step, exact=record_step(
                exact_work, index, xb, yb, exact_result, exact, exact_before, network=network))
        recorded.append(step)
    return Trace(network, tuple(recorded), name, round_to), work


def batch_rows(samples: int, batch_size: int | None, steps: int) -> list[NDArray[np.intp]]:
    """The sample indices of each step: all of them, or the next ``batch_size`` in order, wrapping.

    With 5 samples and batch_size 2: [0, 1], [2, 3], [4, 0], [1, 2], ...
    """
    if batch_size is None or batch_size >= samples:
        return [np.arange(samples)] * steps
    return [np.arange(k * batch_size, (k + 1) * batch_size) % samples for k in range(steps)]
