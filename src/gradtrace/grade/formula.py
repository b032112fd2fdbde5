"""The correct formula of one entry with the learner's numbers plugged in, as one line of text.

Entries are 1-based as printed: (unit) for one sample, (unit, sample) for a batch, [j,i] for weights.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradtrace.grade.engine import Array, Network, Values, compute, parse_key, recomputable

# (key, layer, row, column, one sample?, values, network) -> "lhs = formula = numbers"
_Text = Callable[[str, int, int, int, bool, Values, Network], str]


def number(value: float) -> str:
    """Up to 6 significant digits, as a learner would copy them."""
    return f"{value:.6g}"


def formula(key: str, position: tuple[int, ...], v: Values, net: Network) -> str | None:
    """``key``'s entry at ``position`` (0-based, in the column view) from the values ``v``."""
    if not recomputable(key):
        return None
    kind, l = parse_key(key)
    layer = l or 0
    result = compute(key, v, net)[0].value
    if kind == "cost":
        return f"C = {net.loss.words} of a{net.layers} and y = {number(float(result))}"
    row, col = (position + (0, 0))[:2]
    single = result.shape[1] == 1 if result.ndim == 2 else True
    value = number(float(result[row, col]))
    text = _FORMULAS.get(kind)
    return None if text is None else f"{text(key, layer, row, col, single, v, net)} = {value}"


def _index(row: int, col: int, single: bool) -> str:
    return f"[{row + 1}]" if single else f"[{row + 1},{col + 1}]"


def _z(key: str, l: int, j: int, s: int, single: bool, v: Values, net: Network) -> str:
    W, a_prev, b = v[f"W{l}"], v[f"a{l - 1}"], v[f"b{l}"]
    terms = " + ".join(f"{number(W[j, i])}×{number(a_prev[i, s])}" for i in range(W.shape[1]))
    return (f"z{l}{_index(j, s, single)} = Σᵢ W{l}[{j + 1},i] a{l - 1}[i] + b{l}[{j + 1}] = "
            f"{terms} + {number(b[j, 0])}")


def _a(key: str, l: int, j: int, s: int, single: bool, v: Values, net: Network) -> str:
    symbol = net.activations[l - 1].symbol
    return f"a{l}{_index(j, s, single)} = {symbol}(z{l}) = {symbol}({number(v[f'z{l}'][j, s])})"


def _grad_a(key: str, l: int, j: int, s: int, single: bool, v: Values, net: Network) -> str:
    name, delta = ("−∂C/∂a", "Err") if net.delta_sign < 0 else ("∂C/∂a", "δ")  # as printed
    if l < net.layers:  # a hidden layer: backpropagated
        W, delta_next = v[f"W{l + 1}"], v[f"delta{l + 1}"]
        total = " + ".join(f"{number(W[k, j])}×{number(delta_next[k, s])}"
                           for k in range(W.shape[0]))
        return f"{name}{l}{_index(j, s, single)} = Σₖ W{l + 1}[k,{j + 1}] {delta}{l + 1}[k] = {total}"
    return (f"{name}{l}{_index(j, s, single)} of {net.loss.words}, with a = "
            f"{number(v[f'a{l}'][j, s])} and y = {number(v['y'][j, s])}")


def _delta(key: str, l: int, j: int, s: int, single: bool, v: Values, net: Network) -> str:
    activation = net.activations[l - 1]
    at = _index(j, s, single)
    error = net.delta_sign < 0  # Err = −∂C/∂z, from −∂C/∂a
    delta, grad_a = ("Err", "−∂C/∂a") if error else ("δ", "∂C/∂a")
    if l == net.layers and net.fused:
        a, y = number(v[f'a{l}'][j, s]), number(v['y'][j, s])
        return ((f"Err{l}{at} = y − a = {y} − {a}" if error else
                 f"δ{l}{at} = a − y = {a} − {y}")
                + (" (scaled by 1/n)" if v["y"].shape[0] > 1 and net.loss.name != "cross_entropy"
                   else ""))
    if activation.derivative is None:
        return f"{delta}{l}{at} = {'−' if error else ''}∂C/∂z{l} through the {activation.words} Jacobian"
    derivative = activation.derivative(v[f"z{l}"].T, v[f"a{l}"].T).T[j, s]
    if l == net.layers:
        upstream = f"{grad_a}{l}{at} · {activation.symbol}′(z{l}{at})"
        numbers = f"{number(v[f'grad_a{l}'][j, s])} × {number(derivative)}"
    else:
        W, delta_next = v[f"W{l + 1}"], v[f"delta{l + 1}"]
        upstream = f"(Σₖ W{l + 1}[k,{j + 1}] {delta}{l + 1}[k]) · {activation.symbol}′(z{l}{at})"
        total = " + ".join(f"{number(W[k, j])}×{number(delta_next[k, s])}"
                           for k in range(W.shape[0]))
        numbers = f"({total}) × {number(derivative)}"
    return f"with {activation.derivative_text}: {delta}{l}{at} = {upstream} = {numbers}"


def _grad_W(key: str, l: int, j: int, i: int, single: bool, v: Values, net: Network) -> str:
    delta, a_prev = v[f"delta{l}"], v[f"a{l - 1}"]
    m = delta.shape[1]
    products = " + ".join(f"{number(delta[j, s])}×{number(a_prev[i, s])}" for s in range(m))
    mean = "" if m == 1 or net.batch_reduction == "sum" else f"(1/{m}) "
    return (f"∂C/∂W{l}[{j + 1},{i + 1}] = {mean}Σₛ δ{l}[{j + 1},s] a{l - 1}[{i + 1},s] = "
            f"{mean}({products})" if m > 1 else
            f"∂C/∂W{l}[{j + 1},{i + 1}] = δ{l}[{j + 1}] a{l - 1}[{i + 1}] = {products}")


def _grad_b(key: str, l: int, j: int, s: int, single: bool, v: Values, net: Network) -> str:
    delta = v[f"delta{l}"]
    m = delta.shape[1]
    if m == 1:
        return f"∂C/∂b{l}[{j + 1}] = δ{l}[{j + 1}] = {number(delta[j, 0])}"
    mean = "" if net.batch_reduction == "sum" else f"(1/{m}) "
    return f"∂C/∂b{l}[{j + 1}] = {mean}Σₛ δ{l}[{j + 1},s] = {mean}(" + " + ".join(
        number(delta[j, s]) for s in range(m)) + ")"


def _update(parameter: str) -> _Text:
    def text(key: str, l: int, j: int, i: int, single: bool, v: Values, net: Network) -> str:
        old, grad = v[f"{parameter}{l}"], v[f"grad_{parameter}{l}"]
        at = f"[{j + 1},{i + 1}]" if parameter == "W" else f"[{j + 1}]"
        trains = (net.trains_W if parameter == "W" else net.trains_b)[l - 1]
        if not trains:
            return f"{parameter}{l}′{at} = {parameter}{l}{at} (not trained) = {number(old[j, i])}"
        return (f"{parameter}{l}′{at} = {parameter}{l}{at} − η ∂C/∂{parameter}{l}{at} = "
                f"{number(old[j, i])} − {number(net.learning_rate)}×{number(grad[j, i])}")
    return text


_FORMULAS: dict[str, _Text] = {
    "z": _z, "a": _a, "grad_a": _grad_a, "delta": _delta, "grad_W": _grad_W, "grad_b": _grad_b,
    "W_new": _update("W"), "b_new": _update("b"),
}


def first_difference(given: Array, expected: Array, tolerance: Array) -> tuple[int, ...]:
    """The first entry (0-based) where ``given`` is outside ``tolerance`` of ``expected``."""
    outside = np.abs(given - expected) > tolerance
    if given.ndim == 0 or not outside.any():
        return (0, 0)
    return tuple(int(i) for i in np.argwhere(outside)[0])
