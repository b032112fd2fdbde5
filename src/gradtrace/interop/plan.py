"""To PyTorch: a gradtrace network as ``(nn.Sequential, loss_fn, optimizer)``, same numbers.

``plan`` describes the PyTorch objects in plain Python (module names, arguments, weights); both
``build`` (live objects) and ``interop.script`` (a standalone script) read that one description,
so the two cannot disagree. Weights are float64; W_l is ``nn.Linear.weight`` (n_out, n_in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradtrace.core.network import MLP
from gradtrace.core.optimizers import HYPERPARAMETERS, Optimizer
from gradtrace.interop.tables import (
    IDENTITY,
    LOSS_MAPS,
    LossMap,
    Reduction,
    activation_by_name,
    supported_losses,
)
from gradtrace.interop.torch import TorchBridgeError, half_sse_loss_class, import_torch
from gradtrace.spec import Spec

# gradtrace optimiser -> (torch.optim class, {torch argument: gradtrace hyperparameter})
OPTIMIZER_ARGUMENTS: dict[str, tuple[str, dict[str, str]]] = {
    "sgd": ("SGD", {"weight_decay": "weight_decay"}),
    "momentum": ("SGD", {"momentum": "momentum", "weight_decay": "weight_decay"}),
    "adam": ("Adam", {"betas": "beta1,beta2", "eps": "epsilon", "weight_decay": "weight_decay"}),
}


@dataclass(frozen=True)
class Call:
    """``name(**arguments)``: a torch.nn module, loss or torch.optim optimizer to construct."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class LinearPlan:
    """One nn.Linear's position in the Sequential, its weights and what trains."""

    position: int
    weight: list[list[float]]
    bias: list[float]
    weight_trains: bool
    bias_trains: bool


@dataclass(frozen=True)
class TorchPlan:
    modules: tuple[Call, ...]
    linears: tuple[LinearPlan, ...]
    loss: Call
    loss_fused: str | None  # the output activation the loss applies itself (dropped from modules)
    optimizer: Call


def batch_reduction(spec: Spec | None) -> Reduction:
    """The spec's batch reduction ("mean" until a spec can say otherwise)."""
    value = getattr(spec, "batch_reduction", "mean")
    return "sum" if value == "sum" else "mean"


def _loss_map(mlp: MLP, reduction: Reduction) -> LossMap:
    """The torch loss for gradtrace's loss, preferring the one that fuses the output activation."""
    output, n_out = mlp.layers[-1].activation.name, mlp.layers[-1].n_out
    fits = [e for e in LOSS_MAPS if e.loss == mlp.loss.name and e.batch_reduction == reduction
            and (not e.one_output or n_out == 1) and e.output in (None, output)]
    fits.sort(key=lambda e: e.output is None)
    if not fits:
        raise TorchBridgeError(
            f"loss {mlp.loss.name} on a {output} output with the batch's {reduction} has no exact "
            f"PyTorch loss; supported: {supported_losses()}")
    return fits[0]


def plan(mlp: MLP, optimizer: Optimizer, reduction: Reduction = "mean") -> TorchPlan:
    """The PyTorch objects that compute what ``mlp`` and ``optimizer`` compute."""
    entry = _loss_map(mlp, reduction)
    modules: list[Call] = []
    linears: list[LinearPlan] = []
    for l, layer in enumerate(mlp.layers, start=1):
        linears.append(LinearPlan(
            len(modules), layer.W.astype(float).tolist(), layer.b.astype(float).tolist(),
            layer.trainable, layer.trainable and mlp.train_biases))
        modules.append(Call("Linear", {"in_features": layer.n_in, "out_features": layer.n_out}))
        name = layer.activation.name
        if name == IDENTITY or (l == len(mlp.layers) and entry.output == name):
            continue
        activation = activation_by_name(name)
        settings: dict[str, Any] = {attr: values[0] for attr, values in activation.fixed.items()}
        settings |= {attr: float(layer.activation.params[param])
                      for attr, param in activation.params.items()}
        modules.append(Call(activation.module, settings))
    torch_name, mapping = OPTIMIZER_ARGUMENTS[optimizer.name]
    arguments: dict[str, Any] = {"lr": float(optimizer.learning_rate)}
    for argument, hyperparameter in mapping.items():
        values = tuple(float(getattr(optimizer, h)) for h in hyperparameter.split(","))
        arguments[argument] = values if len(values) > 1 else values[0]
    assert set(HYPERPARAMETERS[optimizer.name]) <= {h for v in mapping.values() for h in v.split(",")}
    return TorchPlan(tuple(modules), tuple(linears), Call(entry.module, {"reduction": entry.reduction}),
                     entry.output, Call(torch_name, arguments))


def build(torch_plan: TorchPlan) -> tuple[Any, Any, Any]:
    """(nn.Sequential in float64, loss_fn, optimizer) from a plan."""
    torch = import_torch()
    nn = torch.nn
    model = nn.Sequential(*(getattr(nn, call.name)(**call.arguments) for call in torch_plan.modules))
    model = model.double()
    with torch.no_grad():
        for linear in torch_plan.linears:
            module = model[linear.position]
            module.weight.copy_(torch.tensor(linear.weight, dtype=torch.float64))
            module.bias.copy_(torch.tensor(linear.bias, dtype=torch.float64))
            module.weight.requires_grad_(linear.weight_trains)
            module.bias.requires_grad_(linear.bias_trains)
    loss_class = getattr(nn, torch_plan.loss.name, None) or half_sse_loss_class()
    loss_fn = loss_class(**torch_plan.loss.arguments)
    # every parameter: frozen ones get no .grad, so PyTorch skips them (weight decay too)
    optimizer = getattr(torch.optim, torch_plan.optimizer.name)(
        model.parameters(), **torch_plan.optimizer.arguments)
    return model, loss_fn, optimizer


def to_torch(spec: Spec) -> tuple[Any, Any, Any]:
    """``(nn.Sequential, loss_fn, optimizer)`` with the spec's weights, loss, reduction and
    optimiser, in float64: one ``optimizer.step()`` there gives the trace's new weights."""
    return build(plan(spec.build_mlp(), spec.build_optimizer(), batch_reduction(spec)))
