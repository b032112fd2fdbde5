"""The one table between PyTorch modules and gradtrace's registry entries (both directions).

Notation: a PyTorch module is named by its class in ``torch.nn``; a gradtrace entry by its name in
``core.activations.ACTIVATIONS`` / ``core.losses.LOSSES``. No other module branches on these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Reduction = Literal["mean", "sum"]
IDENTITY = "linear"  # the activation nn.Identity maps to; it composes with any other


@dataclass(frozen=True)
class ActivationMap:
    """``torch.nn.<module>`` ↔ the activation entry ``name``.

    ``fixed``: module attributes gradtrace's entry has no setting for, with the values it computes
    (the first is the one ``to_torch`` writes). ``params``: module attribute → entry parameter.
    ``linear_above``: the module attribute above which PyTorch switches to the identity (Softplus's
    threshold): a pre-activation past it would make the two differ, so it is refused.
    """

    module: str
    name: str
    fixed: Mapping[str, tuple[object, ...]] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    linear_above: str | None = None


ACTIVATION_MAPS: tuple[ActivationMap, ...] = (
    ActivationMap("Sigmoid", "sigmoid"),
    ActivationMap("Tanh", "tanh"),
    ActivationMap("ReLU", "relu"),
    ActivationMap("LeakyReLU", "leaky_relu", params={"negative_slope": "slope"}),
    ActivationMap("Identity", "linear"),
    ActivationMap("Softmax", "softmax", fixed={"dim": (-1, 1)}),  # the input is (batch, features)
    ActivationMap("ELU", "elu", fixed={"alpha": (1.0,)}),  # a spec has no alpha (yet)
    ActivationMap("GELU", "gelu", fixed={"approximate": ("none",)}),
    ActivationMap("GELU", "gelu_tanh", fixed={"approximate": ("tanh",)}),
    ActivationMap("SiLU", "silu"),
    ActivationMap("Softplus", "softplus", fixed={"beta": (1.0,)}, linear_above="threshold"),
    ActivationMap("Hardtanh", "hardtanh", fixed={"min_val": (-1.0,), "max_val": (1.0,)}),
)

# How each loss module's `reduction` maps to gradtrace's conventions: per-sample cost C_s, then
# the batch's mean or sum. ``output``: the activation the module applies itself (fused), which
# becomes the last layer's. ``one_output``: exact only for one output unit, where gradtrace's
# per-sample 1/n is 1 (e.g. L1Loss(sum) = Σ_s Σ_k |y − a| = Σ_s mae_s · n).
HALF_SSE_MODULE = "HalfSSELoss"  # gradtrace's own module: torch has no ½ Σ (y − a)²


@dataclass(frozen=True)
class LossMap:
    module: str
    reduction: Reduction
    loss: str
    batch_reduction: Reduction
    output: str | None = None
    one_output: bool = False
    class_targets: bool = False  # y may be class indices (m,), read as one-hot rows


LOSS_MAPS: tuple[LossMap, ...] = (
    LossMap("MSELoss", "mean", "mse", "mean"),  # mean over outputs and batch = mse, batch mean
    LossMap("MSELoss", "sum", "sse", "sum"),
    LossMap("L1Loss", "mean", "mae", "mean"),
    LossMap("L1Loss", "sum", "mae", "sum", one_output=True),
    LossMap("BCELoss", "mean", "binary_cross_entropy", "mean"),
    LossMap("BCELoss", "sum", "binary_cross_entropy", "sum", one_output=True),
    LossMap("BCEWithLogitsLoss", "mean", "binary_cross_entropy", "mean", output="sigmoid"),
    LossMap("BCEWithLogitsLoss", "sum", "binary_cross_entropy", "sum", output="sigmoid",
            one_output=True),
    LossMap("CrossEntropyLoss", "mean", "cross_entropy", "mean", output="softmax", class_targets=True),
    LossMap("CrossEntropyLoss", "sum", "cross_entropy", "sum", output="softmax", class_targets=True),
    LossMap(HALF_SSE_MODULE, "mean", "half_sse", "mean"),
    LossMap(HALF_SSE_MODULE, "sum", "half_sse", "sum"),
)

# Loss module options gradtrace has no counterpart for, with the value that means "off".
LOSS_OPTIONS_OFF: Mapping[str, object] = {"weight": None, "pos_weight": None}

# optimizer class -> gradtrace optimiser; the options that must be off, and how hyperparameters map
OPTIMIZER_OPTIONS_OFF: Mapping[str, Mapping[str, object]] = {
    "SGD": {"dampening": 0.0, "nesterov": False, "maximize": False},
    "Adam": {"amsgrad": False, "maximize": False, "decoupled_weight_decay": False},
}
# optimiser state in PyTorch's names -> gradtrace's state key prefix ("velocity.W1", "m.b2", ...)
STATE_NAMES: Mapping[str, str] = {"momentum_buffer": "velocity", "exp_avg": "m", "exp_avg_sq": "v",
                                  "step": "t"}


def activation_by_module(module: str) -> list[ActivationMap]:
    return [entry for entry in ACTIVATION_MAPS if entry.module == module]


def activation_by_name(name: str) -> ActivationMap:
    """The map of activation entry ``name``; every registry activation has one (tested)."""
    return next(entry for entry in ACTIVATION_MAPS if entry.name == name)


def supported_modules() -> str:
    names = dict.fromkeys(entry.module for entry in ACTIVATION_MAPS)
    return "nn.Linear and the activations " + ", ".join(f"nn.{name}" for name in names)


def supported_losses() -> str:
    """The loss modules, each with reduction 'mean' or 'sum' (some sums for one output only)."""
    modules = dict.fromkeys(entry.module for entry in LOSS_MAPS)
    one_output = {entry.module for entry in LOSS_MAPS if entry.one_output}
    return ", ".join(f"nn.{module}" + (" (sum: one output)" if module in one_output else "")
                     for module in modules) + ", with reduction 'mean' or 'sum'"
