"""From PyTorch: the worked trace of one training step of a user's own ``nn.Sequential``.

Notation as in the trace: W_l (n_out, n_in) is ``nn.Linear.weight``, b_l its bias; X (m, n_0) the
batch, Y (m, n_L) the targets. The model is read, never run or changed: its parameters become a
spec (float64 copies), which goes through ``spec.parse_spec`` and ``workflow.trace_spec`` like any
other, so that validation and the engine stay in one place. PyTorch is imported when called.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.activations import ACTIVATIONS
from gradtrace.core.losses import LOSSES
from gradtrace.data.dataset import one_hot
from gradtrace.errors import GradtraceError, shorten
from gradtrace.interop.tables import (
    HALF_SSE_MODULE,
    IDENTITY,
    LOSS_MAPS,
    LOSS_OPTIONS_OFF,
    OPTIMIZER_OPTIONS_OFF,
    STATE_NAMES,
    ActivationMap,
    LossMap,
    activation_by_module,
    supported_losses,
    supported_modules,
)
from gradtrace.spec import parse_spec
from gradtrace.trace.model import Trace
from gradtrace.workflow import trace_spec

SOURCE = "from_torch"


class TorchBridgeError(GradtraceError):
    """A PyTorch model, loss, optimiser or batch that gradtrace cannot explain exactly."""


def import_torch() -> ModuleType:
    """``torch``, or one clear line saying how to install it."""
    try:
        import torch
    except ImportError:
        raise TorchBridgeError(
            'PyTorch is not installed; install it with pip install "gradtrace[torch]"'
        ) from None
    return torch


@dataclass
class _LayerFound:
    """One nn.Linear of the model and the activation that follows it."""

    where: str
    linear: Any
    activation: str = IDENTITY
    slope: float | None = None
    linear_above: float | None = None  # Softplus's threshold: exact only below it
    activation_where: str | None = None


def _modules(model: Any, nn: Any, where: str = "model") -> list[tuple[str, Any]]:
    """(position, module) of every module, nested nn.Sequential flattened."""
    found = []
    for name, child in model.named_children():
        position = f"{where}[{name}]"
        found += _modules(child, nn, position) if type(child) is nn.Sequential else [(position, child)]
    return found


def _activation_map(where: str, module: Any, nn: Any) -> ActivationMap:
    kind = type(module).__name__
    maps = activation_by_module(kind) if type(module) is getattr(nn, kind, None) else []
    if not maps:
        raise TorchBridgeError(f"{where} is {shorten(module)}, which gradtrace cannot explain; it "
                               f"explains {supported_modules()}")
    for entry in maps:
        if all(getattr(module, attr) in values for attr, values in entry.fixed.items()):
            return entry
    accepted = "; ".join(", ".join(f"{attr}={values[0]!r}" for attr, values in entry.fixed.items())
                         for entry in maps)
    raise TorchBridgeError(f"{where} is {shorten(module)}; gradtrace computes nn.{kind} with "
                           f"{accepted} only")


def _layers(model: Any, nn: Any) -> list[_LayerFound]:
    """The model as gradtrace layers: each nn.Linear with the one activation after it."""
    if type(model) is not nn.Sequential:
        raise TorchBridgeError(f"the model is a {type(model).__name__}; from_torch takes an "
                               f"nn.Sequential of {supported_modules()}")
    layers: list[_LayerFound] = []
    for where, module in _modules(model, nn):
        if type(module) is nn.Linear:
            layers.append(_LayerFound(where, module))
            continue
        entry = _activation_map(where, module, nn)
        if not layers:
            raise TorchBridgeError(f"{where} is {shorten(module)} before any nn.Linear; the model "
                                   "must start with nn.Linear")
        layer = layers[-1]
        if entry.name == IDENTITY:  # the identity composes with anything
            continue
        if layer.activation != IDENTITY:
            raise TorchBridgeError(
                f"{where} is {shorten(module)} right after {layer.activation_where}; gradtrace "
                "explains one activation after each nn.Linear")
        layer.activation, layer.activation_where = entry.name, where
        layer.slope = next((float(getattr(module, attr)) for attr in entry.params), None)
        layer.linear_above = float(getattr(module, entry.linear_above)) if entry.linear_above else None
    if not layers:
        raise TorchBridgeError(f"the model has no nn.Linear; from_torch takes {supported_modules()}")
    return layers


def _floats(tensor: Any) -> NDArray[np.float64]:
    return np.array(tensor.detach().cpu().double().numpy(), dtype=np.float64)


def _layer_specs(layers: list[_LayerFound]) -> tuple[list[dict[str, Any]], bool]:
    """The spec's [[layers]] tables and train_biases; refuses freezing a spec cannot express."""
    specs: list[dict[str, Any]] = []
    bias_trains: list[tuple[str, bool]] = []
    for layer in layers:
        weight, bias = layer.linear.weight, layer.linear.bias
        trains_bias = bias is not None and bias.requires_grad
        if trains_bias and not weight.requires_grad:
            raise TorchBridgeError(f"{layer.where}: its weight is frozen but its bias trains; "
                                   "gradtrace freezes a layer's weight and bias together")
        if weight.requires_grad:
            bias_trains.append((layer.where, trains_bias))
        table: dict[str, Any] = {
            "weights": _floats(weight).tolist(),
            "bias": _floats(bias).tolist() if bias is not None else None,
            "activation": layer.activation, "trainable": bool(weight.requires_grad),
        }
        if layer.slope is not None:
            table["slope"] = layer.slope
        specs.append({key: value for key, value in table.items() if value is not None})
    train_biases = any(trains for _, trains in bias_trains)
    for where, trains in bias_trains:
        if trains != train_biases:
            other = next(w for w, t in bias_trains if t != trains)
            raise TorchBridgeError(
                f"{where} has {'a trained' if trains else 'no trained'} bias but {other} "
                f"{'has none' if trains else 'has one'}; gradtrace trains every bias or none: give "
                "every nn.Linear a bias, or none (bias=False)")
    return specs, train_biases


def _loss_map(loss_fn: Any, nn: Any) -> LossMap:
    kind = type(loss_fn).__name__
    known = type(loss_fn) is getattr(nn, kind, None) or type(loss_fn) is half_sse_loss_class()
    entry = next((e for e in LOSS_MAPS if known and e.module == kind
                  and e.reduction == getattr(loss_fn, "reduction", None)), None)
    if entry is None:
        raise TorchBridgeError(f"the loss {shorten(loss_fn)} with reduction "
                               f"{getattr(loss_fn, 'reduction', None)!r} has no exact gradtrace "
                               f"counterpart; supported: {supported_losses()}")
    for option, off in LOSS_OPTIONS_OFF.items():
        if getattr(loss_fn, option, off) is not off:
            raise TorchBridgeError(f"the loss {kind} has {option} set; gradtrace computes it "
                                   f"with {option}={off!r} only")
    return entry


def _fit_loss(entry: LossMap, layers: list[_LayerFound]) -> None:
    """Fuse the loss's own activation into the last layer; check the output suits the loss."""
    last = layers[-1]
    n_out = int(last.linear.out_features)
    if entry.one_output and n_out != 1:
        raise TorchBridgeError(
            f"{entry.module}(reduction={entry.reduction!r}) sums over {n_out} outputs, which "
            "gradtrace's per-sample mean cannot express exactly; use reduction='mean', or one output")
    if entry.output is not None:
        if last.activation != IDENTITY:
            raise TorchBridgeError(
                f"{entry.module} applies {entry.output} itself and takes logits, but the model ends "
                f"with {last.activation} at {last.activation_where}; end the model with nn.Linear")
        last.activation = entry.output
    elif (entry.loss in LOSSES and LOSSES[entry.loss].needs_probabilities  # sse: parse_spec says
          and not ACTIVATIONS[last.activation].probabilities):
        raise TorchBridgeError(
            f"{entry.module} needs probabilities, but the model ends with {last.activation}; end "
            "it with nn.Sigmoid, or give the logits to nn.BCEWithLogitsLoss")


def _batch(x: Any, y: Any, entry: LossMap, loss_fn: Any, n_in: int,
           n_out: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """X (m, n_0) and Y (m, n_L) as gradtrace's loss reads them (class indices one-hot)."""
    X = np.asarray(x.detach().cpu().double().numpy() if hasattr(x, "detach") else x, np.float64)
    raw = np.asarray(y.detach().cpu().numpy() if hasattr(y, "detach") else y)
    if X.ndim != 2 or X.shape[1] != n_in:
        raise TorchBridgeError(f"x has shape {X.shape}; the model takes a batch (m, {n_in})")
    m = X.shape[0]
    if entry.class_targets and raw.ndim == 1 and np.issubdtype(raw.dtype, np.integer):
        ignored = getattr(loss_fn, "ignore_index", None)
        if ignored is not None and np.any(raw == ignored):
            raise TorchBridgeError(f"y holds ignore_index {ignored}; gradtrace averages over every "
                                   "sample: drop those samples first")
        if raw.shape[0] != m or np.any((raw < 0) | (raw >= n_out)):
            raise TorchBridgeError(f"y must hold {m} class indices in 0..{n_out - 1}")
        Y = np.asarray(one_hot(raw, n_out), dtype=np.float64)  # (m, n_out)
    else:
        Y = np.asarray(raw, dtype=np.float64)
        if Y.shape != (m, n_out):
            raise TorchBridgeError(f"y has shape {Y.shape}; the model gives ({m}, {n_out}), and "
                                   "PyTorch would broadcast any other shape")
    smoothing = float(getattr(loss_fn, "label_smoothing", 0.0))
    # CE is linear in y: smoothing ε is exactly the target (1 − ε) y + ε/n
    return X, (1.0 - smoothing) * Y + smoothing / n_out if smoothing else Y


def _optimizer_spec(optimizer: Any, model: Any, layers: list[_LayerFound],
                    torch: Any) -> tuple[dict[str, Any], dict[str, NDArray[np.floating]]]:
    """The spec's learning_rate and [optimizer] table, and the state to load ("m.W1", ...)."""
    kind = type(optimizer).__name__
    if kind not in OPTIMIZER_OPTIONS_OFF or type(optimizer) is not getattr(torch.optim, kind):
        raise TorchBridgeError(f"the optimizer is a {kind}; gradtrace explains torch.optim.SGD "
                               "and torch.optim.Adam")
    groups = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    settings = {key: value for key, value in groups[0].items()
                if key in ("lr", "momentum", "weight_decay", "betas", "eps")}
    for group in groups:
        for option, off in OPTIMIZER_OPTIONS_OFF[kind].items():
            if group.get(option, off) != off:
                raise TorchBridgeError(f"the {kind} optimizer has {option}={group[option]!r}; "
                                       f"gradtrace computes {kind} with {option}={off!r}")
        if any(_plain(group[key]) != _plain(value) for key, value in settings.items()):
            raise TorchBridgeError(f"the {kind} optimizer's parameter groups differ; gradtrace "
                                   "uses one setting for every parameter")
    _check_parameters(optimizer, model)
    table: dict[str, Any] = {"weight_decay": float(settings["weight_decay"])}
    if kind == "Adam":
        beta1, beta2 = (float(b) for b in settings["betas"])
        table |= {"name": "adam", "beta1": beta1, "beta2": beta2, "epsilon": float(settings["eps"])}
    else:
        momentum = float(settings["momentum"])
        table |= {"name": "momentum", "momentum": momentum} if momentum else {"name": "sgd"}
    state: dict[str, NDArray[np.floating]] = {}
    for l, layer in enumerate(layers, start=1):
        for key, parameter in (("W", layer.linear.weight), ("b", layer.linear.bias)):
            saved = optimizer.state.get(parameter) if parameter is not None else None
            for torch_name, prefix in STATE_NAMES.items():
                value = (saved or {}).get(torch_name)
                if value is not None:
                    state[f"{prefix}.{key}{l}"] = (np.array(int(value), dtype=np.int64)
                                                   if torch_name == "step" else _floats(value))
    return {"learning_rate": float(settings["lr"]), "optimizer": table}, state


def _plain(value: Any) -> Any:
    """A hyperparameter as plain floats (lr may be a tensor, betas a tuple of them)."""
    return tuple(float(v) for v in value) if isinstance(value, tuple | list) else float(value)


def _check_parameters(optimizer: Any, model: Any) -> None:
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    mine = {id(p): name for name, p in model.named_parameters()}
    if held - set(mine):
        raise TorchBridgeError("the optimizer holds parameters that are not the model's; build it "
                               "with optimizer(model.parameters(), ...)")
    missing = [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in held]
    if missing:
        raise TorchBridgeError(f"the optimizer does not update model.{missing[0]}, which trains; give it "
                               "every parameter, or set requires_grad_(False) on that one")


def from_torch(model: Any, x: Any, y: Any, loss_fn: Any, optimizer: Any = None, *,
               steps: int = 1, name: str | None = None) -> Trace:
    """The worked trace of ``steps`` training steps of ``model`` on the batch (x, y).

    ``model``: an nn.Sequential (nested ones flattened) of nn.Linear and the activations in
    ``interop.tables``; ``loss_fn`` one of its losses, with reduction mapped exactly; ``optimizer``
    a torch.optim.SGD or Adam over the model's parameters, state included (None: plain SGD with
    the spec's default learning rate). Neither the model nor the optimizer is changed.
    Raises TorchBridgeError, one line naming the module and its position, for anything else.
    """
    torch = import_torch()
    layers = _layers(model, torch.nn)
    entry = _loss_map(loss_fn, torch.nn)
    _fit_loss(entry, layers)
    tables, train_biases = _layer_specs(layers)
    X, Y = _batch(x, y, entry, loss_fn, int(layers[0].linear.in_features),
                  int(layers[-1].linear.out_features))
    data: dict[str, Any] = {
        "name": name, "loss": entry.loss, "train_biases": train_biases, "layers": tables,
        "data": {"input": X.tolist(), "target": Y.tolist()}, "steps": steps,
    }
    if entry.batch_reduction != "mean":  # the field exists once the sum reductions are in
        data["batch_reduction"] = entry.batch_reduction
    state: dict[str, NDArray[np.floating]] = {}
    if optimizer is not None:
        settings, state = _optimizer_spec(optimizer, model, layers, torch)
        data |= settings
    spec = parse_spec({k: v for k, v in data.items() if v is not None}, source=SOURCE)
    engine_optimizer = spec.build_optimizer()
    engine_optimizer.load_state_arrays(state)
    trace = trace_spec(spec, optimizer=engine_optimizer)
    _check_linear_above(trace, layers)
    return trace


def _check_linear_above(trace: Trace, layers: list[_LayerFound]) -> None:
    """Softplus is the identity past its threshold in PyTorch (not exact): refuse such a z."""
    for l, layer in enumerate(layers, start=1):
        if layer.linear_above is None:
            continue
        for step in trace.steps:
            z = step.forward_of(l).z
            if np.any(z > layer.linear_above):
                raise TorchBridgeError(
                    f"{layer.activation_where}: z{l} reaches {float(z.max()):.6g} in step "
                    f"{step.index + 1}, past nn.Softplus's threshold {layer.linear_above:g}, where "
                    "PyTorch returns z itself; raise threshold (e.g. threshold=1e9) for the exact value")


_HALF_SSE: list[type] = []


def half_sse_loss_class() -> type:
    """gradtrace's half_sse as a torch module: ½ Σ_k (y − a)², then the batch's mean or sum."""
    if not _HALF_SSE:
        module: Any = import_torch().nn.Module  # Any: mypy does not read torch's types here

        class HalfSSELoss(module):  # type: ignore[misc]  # a base class only known at run time
            """C = (1/m) Σ_s ½ Σ_k (y − a)² (reduction='mean'), or Σ_s ½ Σ_k (y − a)² ('sum')."""

            def __init__(self, reduction: str = "mean") -> None:
                super().__init__()
                self.reduction = reduction

            def forward(self, a: Any, y: Any) -> Any:
                total = 0.5 * ((y - a) ** 2).sum()
                return total / a.shape[0] if self.reduction == "mean" else total

        HalfSSELoss.__name__ = HALF_SSE_MODULE
        _HALF_SSE.append(HalfSSELoss)
    return _HALF_SSE[0]
