"""Spec -> engine -> trace: the path ``gradtrace step``, ``check`` and the web API share."""

from __future__ import annotations

from gradtrace.core.gradcheck import GradientComparison, check_gradients
from gradtrace.core.optimizers import OPTIMIZERS, Optimizer
from gradtrace.errors import LimitError
from gradtrace.spec import Spec
from gradtrace.trace.model import Trace
from gradtrace.trace.record import trace_steps


def build_optimizer(spec: Spec) -> Optimizer:
    """The spec's optimiser with its learning rate and hyperparameters."""
    options = spec.optimizer
    settings: dict[str, float] = {"learning_rate": spec.learning_rate,
                                  "weight_decay": options.weight_decay}
    if options.name == "momentum":
        settings["momentum"] = options.momentum
    elif options.name == "adam":
        settings.update(beta1=options.beta1, beta2=options.beta2, epsilon=options.epsilon)
    optimizer: Optimizer = OPTIMIZERS[options.name](**settings)
    return optimizer


def trace_spec(spec: Spec, steps: int | None = None, name: str | None = None) -> Trace:
    """Run ``steps`` (default: the spec's) worked training steps on the spec's network and data."""
    X, Y = spec.arrays()
    try:
        trace, _ = trace_steps(
            spec.build_mlp(), X, Y, build_optimizer(spec), steps or spec.steps,
            name=name or spec.name,
        )
    except LimitError as error:
        raise LimitError(f"{spec.source}: {error}") from None
    return trace


def check_spec(spec: Spec, step_size: float) -> list[GradientComparison]:
    """Analytic vs central-difference gradients of every parameter, on the spec's data."""
    X, Y = spec.arrays()
    return check_gradients(spec.build_mlp(), X, Y, step_size)
