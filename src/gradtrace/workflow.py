"""Spec -> engine -> trace: the path ``gradtrace step``, ``check`` and the web API share."""

from __future__ import annotations

from collections.abc import Callable

from gradtrace.core.gradcheck import GradientComparison, check_gradients
from gradtrace.core.network import MLP
from gradtrace.errors import LimitError
from gradtrace.spec import Spec
from gradtrace.trace.model import Trace
from gradtrace.trace.record import trace_steps


def trace_spec(spec: Spec, steps: int | None = None, name: str | None = None) -> Trace:
    """Run ``steps`` (default: the spec's) worked training steps on the spec's network and data."""
    X, Y = spec.arrays()
    try:
        trace, _ = trace_steps(
            spec.build_mlp(), X, Y, spec.build_optimizer(), steps or spec.steps,
            name=name or spec.name,
        )
    except LimitError as error:
        raise LimitError(f"{spec.source}: {error}") from None
    return trace


# Two forward passes a parameter: past this a check takes minutes (README "Limits").
MAX_CHECK_PARAMETERS = 100_000


def check_spec(spec: Spec, step_size: float,
               progress: Callable[[int], None] | None = None) -> list[GradientComparison]:
    """Analytic vs central-difference gradients of every parameter, on the spec's data."""
    X, Y = spec.arrays()
    mlp = spec.build_mlp()
    if parameter_count(mlp) > MAX_CHECK_PARAMETERS:
        raise LimitError(
            f"{spec.source}: the network has {parameter_count(mlp):,} parameters; gradient checks "
            f"are capped at {MAX_CHECK_PARAMETERS:,}; check a smaller network of the same kind"
        )
    return check_gradients(mlp, X, Y, step_size, progress)


def parameter_count(mlp: MLP) -> int:
    return sum(layer.W.size + layer.b.size for layer in mlp.layers)
