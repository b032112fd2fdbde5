"""Explain the update: θ' from θ, its gradient, and the optimiser's state.

Notation: θ = W_l or b_l, g = ∂C/∂θ (+ λθ with L2 weight decay), η = learning rate.
SGD: θ' = θ − η g. Momentum (PyTorch's form): v = μ v + g, θ' = θ − η v.
Adam: m = β1 m + (1 − β1) g, v = β2 v + (1 − β2) g², m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t),
θ' = θ − η m̂ / (√v̂ + ε). Each formula is written once and printed in both views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gradtrace.trace.expr import Expr, Num, Sym, add, call, div, hadamard, mul, square, sub, sym
from gradtrace.trace.quantity import Array, EntrySymbols, Equation, Equations, Quantity

if TYPE_CHECKING:  # reads a Step; model.py imports this module, so only for types
    from gradtrace.trace.model import Step

# get(kind, array) -> the symbol in the current view; times: ⊙ for matrices, · for scalars
Getter = Callable[[str, Array], Sym]
Builder = Callable[[Getter, Callable[..., Expr]], Expr]
ONE = Num(1.0)


def _quantity(entries: EntrySymbols, l: int, parameter: str, kind: str, key: str, value: Array,
              build: Builder | None, note: str | None) -> Quantity:
    """One quantity whose formula ``build`` prints as matrices and entry by entry."""

    def matrix_get(kind_: str, array: Array) -> Sym:
        return sym(kind_, l, array)

    lhs = sym(kind, l, value)
    matrix = Equation(lhs, None if build is None else build(matrix_get, hadamard), lhs.value, note)
    cols = value.shape[1]

    def entry(k: int) -> Equation:  # row by row; the note once, on the first entry
        j, i = divmod(k, cols)
        index = (j + 1, i + 1) if parameter == "W" else (j + 1,)

        def get(kind_: str, array: Array) -> Sym:
            return entries.get(kind_, l, array, j, i, index)

        return Equation(get(kind, value), None if build is None else build(get, mul),
                        value.item(j, i), note if k == 0 else None)

    return Quantity(key, kind, l, "update", matrix, Equations(value.size, entry))


def update_quantities(step: Step, l: int, parameter: str, frozen_note: str | None,
                      entries: EntrySymbols) -> list[Quantity]:
    """The optimiser's state quantities (if any), then θ'."""
    update, backward = step.update_of(l), step.backward_of(l)
    old = update.W_old if parameter == "W" else update.b_old
    new = update.W_new if parameter == "W" else update.b_new
    grad = backward.grad_W if parameter == "W" else backward.grad_b
    trained = update.W_trained if parameter == "W" else update.b_trained
    key_new, kind_new = f"{parameter}{l}_new", f"{parameter}_new"
    if not trained:
        return [_quantity(entries, l, parameter, kind_new, key_new, new,
                          lambda get, times: get(parameter, old), frozen_note)]
    info = step.optimizer
    eta = sym("eta", None, step.learning_rate)
    decay = info.get("weight_decay")

    grad_kind = f"grad_{parameter}"

    def gradient(get: Getter, times: Callable[..., Expr]) -> Expr:
        g: Expr = get(grad_kind, grad)
        return add(g, mul(sym("lambda", None, decay), get(parameter, old))) if decay else g

    decay_note = f"with L2 weight decay λ = {decay:g}: g = ∂C/∂{parameter} + λ{parameter}" if decay else None
    if info.name == "momentum":
        return _momentum(step, l, parameter, old, new, eta, gradient, decay_note, entries)
    if info.name == "adam":
        return _adam(step, l, parameter, old, new, eta, gradient, decay_note, entries)
    return [_quantity(
        entries, l, parameter, kind_new, key_new, new,
        lambda get, times: sub(get(parameter, old), mul(eta, gradient(get, times))), decay_note,
    )]


def _momentum(step: Step, l: int, parameter: str, old: Array, new: Array, eta: Sym,
              gradient: Builder, decay_note: str | None, entries: EntrySymbols) -> list[Quantity]:
    state = step.update_of(l).state_of(parameter, "velocity")
    mu = sym("mu", None, step.optimizer.get("momentum"))
    kind = f"velocity_{parameter}"
    velocity = _quantity(
        entries, l, parameter, kind, f"velocity_{parameter}{l}", state.new,
        lambda get, times: add(mul(mu, get(kind, state.old)), gradient(get, times)),
        decay_note or "v starts at 0, so the first step is plain gradient descent",
    )
    rule = _quantity(
        entries, l, parameter, f"{parameter}_new", f"{parameter}{l}_new", new,
        lambda get, times: sub(get(parameter, old), mul(eta, get(kind, state.new))),
        "momentum (PyTorch's form): v = μ v + g, θ' = θ − η v",
    )
    return [velocity, rule]


def _adam(step: Step, l: int, parameter: str, old: Array, new: Array, eta: Sym,
          gradient: Builder, decay_note: str | None, entries: EntrySymbols) -> list[Quantity]:
    update, info = step.update_of(l), step.optimizer
    m_state, v_state = update.state_of(parameter, "m"), update.state_of(parameter, "v")
    t = m_state.count or 1
    beta1, beta2 = sym("beta1", None, info.get("beta1")), sym("beta2", None, info.get("beta2"))
    epsilon = sym("epsilon", None, info.get("epsilon"))
    power = Num(float(t), str(t))
    # Display values of the bias-corrected moments (the engine folds these into one update).
    m_hat = m_state.new / (1.0 - info.get("beta1") ** t)
    v_hat = v_state.new / (1.0 - info.get("beta2") ** t)
    m_kind, v_kind = f"m_{parameter}", f"v_{parameter}"
    mhat_kind, vhat_kind = f"mhat_{parameter}", f"vhat_{parameter}"
    return [
        _quantity(entries, l, parameter, m_kind, f"m_{parameter}{l}", m_state.new,
                  lambda get, times: add(mul(beta1, get(m_kind, m_state.old)),
                                         mul(sub(ONE, beta1), gradient(get, times))),
                  decay_note or "m and v start at 0"),
        _quantity(entries, l, parameter, v_kind, f"v_{parameter}{l}", v_state.new,
                  lambda get, times: add(mul(beta2, get(v_kind, v_state.old)),
                                         mul(sub(ONE, beta2), square(gradient(get, times)))),
                  None),
        _quantity(entries, l, parameter, mhat_kind, f"mhat_{parameter}{l}", m_hat,
                  lambda get, times: div(get(m_kind, m_state.new),
                                         sub(ONE, call("pow", beta1, power))),
                  f"bias correction at step t = {t}"),
        _quantity(entries, l, parameter, vhat_kind, f"vhat_{parameter}{l}", v_hat,
                  lambda get, times: div(get(v_kind, v_state.new),
                                         sub(ONE, call("pow", beta2, power))),
                  None),
        _quantity(entries, l, parameter, f"{parameter}_new", f"{parameter}{l}_new", new,
                  lambda get, times: sub(get(parameter, old), mul(eta, div(
                      get(mhat_kind, m_hat), add(call("√", get(vhat_kind, v_hat)), epsilon)))),
                  "Adam: θ' = θ − η m̂ / (√v̂ + ε)"),
    ]
