"""Spec -> engine -> trace: the path ``gradtrace step``, ``check`` and the web API share."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.gradcheck import GradientComparison, check_gradients
from gradtrace.core.network import MLP
from gradtrace.core.optimizers import Optimizer
from gradtrace.errors import LimitError, NumericalError
from gradtrace.spec import Spec
from gradtrace.trace.model import Step, Trace
from gradtrace.trace.record import trace_steps

# What a non-finite result asks of the user: it is the input's scale, not a bug.
NUMERICAL_FIX = "scale the inputs or weights down, or lower the learning rate"


def trace_spec(spec: Spec, steps: int | None = None, name: str | None = None,
               optimizer: Optimizer | None = None) -> Trace:
    """Run ``steps`` (default: the spec's) worked training steps on the spec's network and data.

    ``optimizer``: the spec's optimiser with state already loaded (e.g. a PyTorch optimizer's
    momentum buffers); default ``spec.build_optimizer()``, which starts from no state.

    Raises NumericalError naming the first quantity, in step order, that is inf or NaN.
    """
    X, Y = spec.arrays()
    try:
        # overflow is reported by check_finite below, naming the quantity: numpy's raw
        # RuntimeWarnings would only repeat it without saying where
        with np.errstate(all="ignore"):
            trace, _ = trace_steps(
                spec.build_mlp(), X, Y, optimizer or spec.build_optimizer(), steps or spec.steps,
                name=name or spec.name, round_to=spec.round, batch_size=step_batch_size(spec),
                weights_layout=spec.weights_layout, delta_convention=spec.delta_convention,
            )
    except LimitError as error:
        raise LimitError(f"{spec.source}: {error}") from None
    check_finite(trace, spec.source)
    return trace


def step_batch_size(spec: Spec) -> int | None:
    """[training] batch_size when the spec sets it (each step then takes the next batch in
    order), else None: every step takes all the data, as the default batch of 32 would not say."""
    return spec.training.batch_size if "batch_size" in spec.training.model_fields_set else None


def check_finite(trace: Trace, source: str) -> None:
    """Raise NumericalError at the first quantity (z1, a1, ..., C, δ, ∂C/∂W, W') not finite."""
    for step in trace.steps:
        for key, layer, value in _quantities(step):
            if not np.all(np.isfinite(value)):
                raise NumericalError(
                    f"{source}: {key} {_what(value)} in step {step.index + 1}"
                    + (f" (layer {layer})" if layer else "") + f"; {NUMERICAL_FIX}"
                )


def _quantities(step: Step) -> Iterator[tuple[str, int | None, NDArray[np.float64] | float]]:
    """Every computed quantity of a step in the order the trace explains them."""
    for record in step.forward:
        yield f"z{record.layer}", record.layer, record.z
        yield f"a{record.layer}", record.layer, record.a
    yield "the cost C", None, step.cost
    for back in step.backward:  # from the last layer down
        if back.grad_a is not None:
            yield f"∂C/∂a{back.layer}", back.layer, back.grad_a
        yield f"δ{back.layer}", back.layer, back.delta
        yield f"∂C/∂W{back.layer}", back.layer, back.grad_W
        yield f"∂C/∂b{back.layer}", back.layer, back.grad_b
    for update in step.update:
        for parameter, new in (("W", update.W_new), ("b", update.b_new)):
            for state in update.state:
                if state.parameter == parameter:
                    yield f"{state.name} of {parameter}{update.layer}", update.layer, state.new
            yield f"{parameter}{update.layer}'", update.layer, new


def _what(value: NDArray[np.float64] | float) -> str:
    array = np.asarray(value)
    if np.any(np.isnan(array)):
        return "became NaN (inf − inf or 0·inf after an overflow)"
    return "overflowed to " + ("-inf" if np.all(array[np.isinf(array)] < 0) else "inf")


# Two forward passes a parameter: past this a check takes minutes (README "Limits").
MAX_CHECK_PARAMETERS = 100_000


def check_spec(spec: Spec, step_size: float,
               progress: Callable[[int], None] | None = None) -> list[GradientComparison]:
    """Analytic vs central-difference gradients of every parameter, on the spec's data.

    Raises NumericalError naming the first parameter whose gradient is inf or NaN.
    """
    X, Y = spec.arrays()
    mlp = spec.build_mlp()
    if parameter_count(mlp) > MAX_CHECK_PARAMETERS:
        raise LimitError(
            f"{spec.source}: the network has {parameter_count(mlp):,} parameters; gradient checks "
            f"are capped at {MAX_CHECK_PARAMETERS:,}; check a smaller network of the same kind"
        )
    with np.errstate(all="ignore"):  # a non-finite gradient is reported below, by name
        comparisons = check_gradients(mlp, X, Y, step_size, progress)
    for c in comparisons:
        if not (math.isfinite(c.analytic) and math.isfinite(c.numerical)):
            which = "analytic" if not math.isfinite(c.analytic) else "numerical"
            index = ",".join(str(i + 1) for i in c.index)
            raise NumericalError(
                f"{spec.source}: the {which} gradient of {c.parameter}[{index}] is "
                f"{c.analytic if which == 'analytic' else c.numerical}; the cost overflows at "
                f"these values; {NUMERICAL_FIX}"
            )
    return comparisons


def parameter_count(mlp: MLP) -> int:
    return sum(layer.W.size + layer.b.size for layer in mlp.layers)
