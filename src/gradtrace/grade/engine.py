"""One quantity recomputed from its inputs, with a known mistake switched on or off.

Notation (the trace's column view): a_l, z_l, δ_l are (n_l, m), one column per sample; W_l is
(n_l, n_{l−1}); b_l, ∂C/∂b_l are (n_l, 1); the cost is a 0-d array. ``Values`` maps the trace's
quantity keys ("z1", "delta2", "W1_new", ...) plus the step's givens ("a0", "y", "W1", "b1": the
weights *before* the step) to arrays. The engine with a mistake switched on is the catalogue of
mistakes: nothing here is written per question. numpy and core only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.activations import Activation
from gradtrace.core.losses import Loss

Array = NDArray[np.floating]
Values = Mapping[str, Array]

# The stable ids (JSON, answer notes), in the order a diagnosis lists them, and what each means.
MISTAKES: dict[str, str] = {
    "updated_weights": "a hidden layer's δ (or ∂C/∂a) computed with W{next} already updated "
                       "(W{next}_new): backpropagate through the weights from before the step",
    "missing_derivative": "σ′ left out of δ: the chain rule multiplies by the activation's "
                          "derivative",
    "derivative_argument": "σ′ evaluated at the wrong value ({variant})",
    "sign": "the sign is flipped ({variant})",
    "factor_two": "a factor of two ({variant})",
    "batch_sum": "{variant} over the batch",
    "bias_not_updated": "the bias was left as it was, but it trains: b′ = b − η ∂C/∂b",
    "bias_updated": "the bias was changed, but it is frozen: b′ = b",
    "transpose": "a matrix transposed ({variant})",
    "learning_rate": "the learning rate {variant}",
    "wrong_activation_input": "∂C/∂W built from a_{layer} instead of a_{previous}: ∂C/∂W_l = δ_l "
                              "a_{{l−1}}ᵀ",
}
UNKNOWN = "unknown"

_KEY = re.compile(r"^(?P<kind>grad_W|grad_b|grad_a|delta|z|a)(?P<layer>\d+)$|"
                  r"^(?P<param>[Wb])(?P<player>\d+)_new$|^(?P<cost>cost)$")


@dataclass(frozen=True)
class Network:
    """What the maths needs to know about the network and its training step.

    ``batch_reduction``: "mean" (C = (1/m) Σ_s C_s, so ∂C/∂W = (1/m) Σ_s δ_s a_sᵀ) or "sum".
    ``delta_sign``: +1 when δ = ∂C/∂z (the gradient convention), −1 when δ = −∂C/∂z (the error
    convention, δ_L = y − a with the update θ′ = θ + η δ aᵀ; grad_a is then −∂C/∂a, as printed);
    ∂C/∂W and ∂C/∂b are gradients either way.
    ``sgd``: plain SGD (θ′ = θ − η g), the only update recomputed from a learner's numbers.
    """

    activations: tuple[Activation, ...]
    loss: Loss
    learning_rate: float
    trains_W: tuple[bool, ...]
    trains_b: tuple[bool, ...]
    batch_reduction: str = "mean"
    delta_sign: float = 1.0
    sgd: bool = True

    @property
    def layers(self) -> int:
        return len(self.activations)

    @property
    def fused(self) -> bool:
        return self.loss.fused_activation == self.activations[-1].name and (
            self.loss.fused_delta is not None)


@dataclass(frozen=True)
class Variant:
    """One way of computing a quantity: no mistake (``mistake`` None) or one mistake's form."""

    mistake: str | None
    words: str  # the variant, in a few words, for the explanation
    value: Array


def parse_key(key: str) -> tuple[str, int | None]:
    """'delta2' -> ('delta', 2); 'W1_new' -> ('W_new', 1); 'cost' -> ('cost', None)."""
    match = _KEY.match(key)
    if match is None:
        raise KeyError(key)
    if match["cost"]:
        return "cost", None
    if match["param"]:
        return f"{match['param']}_new", int(match["player"])
    return match["kind"], int(match["layer"])


def inputs(key: str, net: Network) -> tuple[str, ...]:
    """The keys a quantity is computed from (without mistakes), for carrying errors forward."""
    kind, l = parse_key(key)
    L = net.layers
    if kind == "cost":
        return (f"a{L}", "y")
    assert l is not None
    table: dict[str, tuple[str, ...]] = {
        "z": (f"W{l}", f"a{l - 1}", f"b{l}"),
        "a": (f"z{l}",),
        "grad_a": (f"a{l}", "y") if l == L else (f"W{l + 1}", f"delta{l + 1}"),
        "delta": ((f"a{L}", "y") if net.fused else (f"grad_a{L}", f"z{L}", f"a{L}")) if l == L
        else (f"W{l + 1}", f"delta{l + 1}", f"z{l}", f"a{l}"),
        "grad_W": (f"delta{l}", f"a{l - 1}"),
        "grad_b": (f"delta{l}",),
        "W_new": (f"W{l}", f"grad_W{l}"),
        "b_new": (f"b{l}", f"grad_b{l}"),
    }
    return table[kind]


def recomputable(key: str) -> bool:
    try:
        parse_key(key)
    except KeyError:
        return False  # optimiser state (velocity, Adam's m and v): graded against exact values only
    return True


def compute(key: str, v: Values, net: Network, mistakes: bool = False) -> list[Variant]:
    """The quantity from ``v``; with ``mistakes``, also every known mistake's variant of it.

    The first variant is always the correct computation (mistake None). Variants of a shape no
    answer could have (δ_l a_lᵀ when n_l ≠ n_{l−1}) are left out; a transposed one stays.
    """
    kind, l = parse_key(key)
    with np.errstate(all="ignore"):  # a mistake may overflow; it then simply matches nothing
        variants = _COMPUTE[kind](l or 0, v, net, mistakes)
    shapes = {variants[0].value.shape, variants[0].value.shape[::-1]}
    return [variant for variant in variants if variant.value.shape in shapes]


def _sample_mean(per_sample: Array, net: Network) -> Array:
    """(n, m) -> (n, 1): the mean over samples, or their sum under batch_reduction = "sum"."""
    total: Array = per_sample.sum(axis=1, keepdims=True)
    return total if net.batch_reduction == "sum" else total / per_sample.shape[1]


def _batch_variants(correct: Array, m: int, net: Network) -> list[Variant]:
    if m == 1:
        return []
    if net.batch_reduction == "sum":
        return [Variant("batch_sum", "the mean taken instead of the sum", correct / m)]
    return [Variant("batch_sum", "the sum taken instead of the mean", correct * m)]


def _z(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
    W, a_prev, b = v[f"W{l}"], v[f"a{l - 1}"], v[f"b{l}"]
    out = [Variant(None, "", W @ a_prev + b)]  # (n_l, m)
    if mistakes and W.shape[0] == W.shape[1]:
        out.append(Variant("transpose", f"W{l}ᵀ used instead of W{l}", W.T @ a_prev + b))
    return out


def _a(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
    return [Variant(None, "", _rows(net.activations[l - 1].forward, v[f"z{l}"]))]


def _rows(function: Callable[[Array], Array], column_view: Array) -> Array:
    """Apply a row-major core function (samples are rows) to the column view."""
    result: Array = np.asarray(function(column_view.T), dtype=np.float64).T
    return result


def _cost(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
    a, y = v[f"a{net.layers}"], v["y"]
    per_sample = np.asarray(net.loss.cost(a.T, y.T), dtype=np.float64)  # (m,)
    m = per_sample.size
    total = per_sample.sum()
    cost = np.asarray(total if net.batch_reduction == "sum" else total / m)
    out = [Variant(None, "", cost)]
    if mistakes:
        out += [Variant("factor_two", "½ dropped: 2·C", 2 * cost),
                Variant("factor_two", "½ added: C/2", cost / 2),
                *_batch_variants(cost, m, net)]
        out.append(Variant("sign", "the cost's sign flipped", -cost))
    return out


def _grad_a(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
    if l < net.layers:
        return _hidden_grad_a(l, v, net, mistakes)
    a, y = v[f"a{l}"], v["y"]
    grad = net.delta_sign * _rows(lambda rows: net.loss.gradient(rows, y.T), a)  # −∂C/∂a as Err
    out = [Variant(None, "", grad)]
    if mistakes:
        out += [Variant("sign", "y − a instead of a − y", -grad),
                Variant("factor_two", "2(a − y) where the ½ cancels the 2", 2 * grad),
                Variant("factor_two", "½ kept: (a − y)/2", grad / 2)]
    return out


def _hidden_grad_a(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
    """∂C/∂a_l = W_{l+1}ᵀ δ_{l+1} for a hidden layer (−∂C/∂a_l = W_{l+1}ᵀ Err_{l+1} as Err)."""
    W_next, delta_next = v[f"W{l + 1}"], v[f"delta{l + 1}"]
    grad = W_next.T @ delta_next  # (n_l, m)
    out = [Variant(None, "", grad)]
    if mistakes:
        out.append(Variant("sign", "−∂C/∂a written", -grad))
        W_updated = v.get(f"W{l + 1}_new")
        if W_updated is not None:
            out.append(Variant("updated_weights", "", W_updated.T @ delta_next))
        if W_next.shape[0] == W_next.shape[1]:
            out.append(Variant("transpose", f"W{l + 1} used where W{l + 1}ᵀ belongs",
                               W_next @ delta_next))
    return out


def _delta(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
    activation = net.activations[l - 1]
    z, a = v[f"z{l}"], v[f"a{l}"]
    if l == net.layers and net.fused:
        assert net.loss.fused_delta is not None
        fused = net.loss.fused_delta
        upstream = None
        delta = _rows(lambda rows: fused(rows, v["y"].T), a)
    else:
        upstream = v[f"grad_a{l}"] if l == net.layers else v[f"W{l + 1}"].T @ v[f"delta{l + 1}"]
        upstream = upstream * net.delta_sign  # back to ∂C/∂a: grad_a and δ_{l+1} may be Err
        delta = _through(activation, z, a, upstream)
    out = [Variant(None, "", net.delta_sign * delta)]
    if not mistakes:
        return out
    sign = net.delta_sign
    out.append(Variant("sign", "y − a instead of a − y" if sign > 0 else "a − y instead of y − a",
                       -sign * delta))
    if l == net.layers:
        out += [Variant("factor_two", "2(a − y): the ½ of the cost dropped", 2 * sign * delta),
                Variant("factor_two", "(a − y)/2: a ½ added", sign * delta / 2)]
    if upstream is not None and activation.derivative is not None:
        derivative = activation.derivative
        out.append(Variant("missing_derivative", "", sign * upstream))
        out.append(Variant("derivative_argument", "σ′ with z put where the formula takes a",
                           sign * upstream * _rows(lambda rows: derivative(rows, rows), z)))
        a_of_a = _rows(activation.forward, a)
        out.append(Variant("derivative_argument", "σ′(a) = σ(a)(1 − σ(a)) instead of σ′(z)",
                           sign * upstream * _rows(lambda rows: derivative(rows, a_of_a.T), a)))
    if l < net.layers:
        W_next, delta_next = v[f"W{l + 1}"], v[f"delta{l + 1}"]
        W_updated = v.get(f"W{l + 1}_new")
        if W_updated is not None:
            back = W_updated.T @ delta_next * sign
            out.append(Variant("updated_weights", "", sign * _through(activation, z, a, back)))
        if W_next.shape[0] == W_next.shape[1]:
            back = W_next @ delta_next * sign
            out.append(Variant("transpose", f"W{l + 1} used where W{l + 1}ᵀ belongs",
                               sign * _through(activation, z, a, back)))
    return out


def _through(activation: Activation, z: Array, a: Array, grad_a: Array) -> Array:
    """∂C/∂z from ∂C/∂a through σ (its Jacobian for softmax), in the column view."""
    return np.asarray(activation.backward(z.T, a.T, grad_a.T), dtype=np.float64).T


def _grad_W(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
    error = v[f"delta{l}"] * net.delta_sign  # ∂C/∂z whatever δ's convention
    a_prev = v[f"a{l - 1}"]
    m = a_prev.shape[1]
    scale = 1.0 if net.batch_reduction == "sum" else 1.0 / m
    grad = scale * (error @ a_prev.T)  # (n_l, n_{l−1})
    out = [Variant(None, "", grad)]
    if mistakes:
        out += [Variant("sign", "−∂C/∂W written: the update's minus sign moved into the gradient",
                        -grad),
                Variant("wrong_activation_input", "", scale * (error @ v[f"a{l}"].T)),
                *_batch_variants(grad, m, net)]
        if min(grad.shape) > 1:  # a vector reads the same either way round
            out.append(Variant("transpose", f"a{l - 1} δ{l}ᵀ instead of δ{l} a{l - 1}ᵀ", grad.T))
    return out


def _grad_b(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
    error = v[f"delta{l}"] * net.delta_sign
    grad = _sample_mean(error, net)
    out = [Variant(None, "", grad)]
    if mistakes:
        out += [Variant("sign", "−∂C/∂b written", -grad),
                *_batch_variants(grad, error.shape[1], net)]
    return out


def _update(parameter: str) -> Callable[[int, Values, Network, bool], list[Variant]]:
    def update(l: int, v: Values, net: Network, mistakes: bool) -> list[Variant]:
        old, grad = v[f"{parameter}{l}"], v[f"grad_{parameter}{l}"]
        eta = net.learning_rate
        trains = (net.trains_W if parameter == "W" else net.trains_b)[l - 1]
        stepped = old - eta * grad
        out = [Variant(None, "", stepped if trains else old)]
        if not mistakes:
            return out
        if trains:
            out += [Variant("sign", f"{parameter}′ = {parameter} + η g instead of − η g",
                            old + eta * grad),
                    Variant("learning_rate", "left out: θ − g", old - grad),
                    Variant("learning_rate", "applied twice: θ − η² g", old - eta * eta * grad)]
            if grad.shape[0] == grad.shape[1] and grad.shape[0] > 1:
                out.append(Variant("transpose", "the gradient transposed", old - eta * grad.T))
            if parameter == "b":
                out.append(Variant("bias_not_updated", "", old))
        elif parameter == "b":
            out.append(Variant("bias_updated", "", stepped))
        return out
    return update


_COMPUTE: dict[str, Callable[[int, Values, Network, bool], list[Variant]]] = {
    "z": _z, "a": _a, "cost": _cost, "grad_a": _grad_a, "delta": _delta, "grad_W": _grad_W,
    "grad_b": _grad_b, "W_new": _update("W"), "b_new": _update("b"),
}


def explain(mistake: str, variant: str, key: str, net: Network) -> str:
    """The sentence for a mistake on quantity ``key``."""
    layer = (parse_key(key)[1] if recomputable(key) else None) or 0
    return MISTAKES[mistake].format(variant=variant, next=layer + 1, layer=layer,
                                    previous=layer - 1)
