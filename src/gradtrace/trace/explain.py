"""Explain a Step: every quantity as formula -> numbers plugged in -> result.

Two views of the same numbers: the matrix view (z1 = W1 a0 + b1 with whole matrices) and the
neuron view (one scalar equation per unit, sample and weight, as in hand-worked examples).
Indices printed are 1-based; with a batch, entries carry (unit, sample).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gradtrace.trace import formulas as f
from gradtrace.trace.bulk import collector_paused
from gradtrace.trace.expr import (
    Expr,
    Num,
    Op,
    Sym,
    Value,
    add,
    call,
    hadamard,
    matmul,
    mul,
    neg,
    sub,
    sym,
    transpose,
)
from gradtrace.trace.quantity import Array, EntrySymbols, Equation, Equations, Quantity
from gradtrace.trace.updates import update_quantities

if TYPE_CHECKING:  # reads a Step; model.py imports this module, so only for types
    from gradtrace.trace.model import Step


def explain_step(step: Step) -> tuple[Quantity, ...]:
    """Every quantity of the step in the order a learner meets them."""
    with collector_paused():
        return _explain(step)


def _explain(step: Step) -> tuple[Quantity, ...]:
    L = len(step.network.layers)
    entries = EntrySymbols()  # W1[3,7] is in z1[3], in ∂C/∂a0's sums and in W1'[3,7]: one Sym
    quantities = [_input(step)]
    for l in range(1, L + 1):
        quantities += [_z(step, l, entries), _a(step, l)]
    quantities.append(_cost(step))
    if step.backward_of(L).grad_a is not None:
        quantities.append(_grad_a(step))
    for l in range(L, 0, -1):
        if l < L:  # where hand work most often goes wrong: its own line before δ_l
            quantities.append(_hidden_grad_a(step, l, entries))
        quantities += [_delta(step, l), _grad_W(step, l, entries), _grad_b(step, l, entries)]
    for l in range(1, L + 1):
        for parameter in ("W", "b"):
            quantities += update_quantities(step, l, parameter, _frozen_note(step, l, parameter),
                                            entries)
    if step.network.delta_convention == "error":
        return _error_view(step, quantities)
    return tuple(quantities)


# ---- helpers ---------------------------------------------------------------------------------

# Entries are built as Sym directly, with ndarray.item: a neuron view at the trace cap has ~50,000
# of them, and sym()'s general freeze() of a 0-d array would be most of the explanation's time.

def _entry(kind: str, layer: int | None, matrix: Array, row: int, col: int, m: int) -> Sym:
    """One entry of a (units, batch) matrix; the sample index is shown only for a batch."""
    index = (row + 1,) if m == 1 else (row + 1, col + 1)
    return Sym(kind, layer, matrix.item(row, col), index)


def _columns(entries: EntrySymbols, kind: str, layer: int | None, matrix: Array,
             m: int) -> list[list[Sym]]:
    """Every entry of a (units, batch) matrix, by sample then unit: [s][row]."""
    return [[entries.get(kind, layer, matrix, row, s, (row + 1,) if m == 1 else (row + 1, s + 1))
             for row in range(matrix.shape[0])] for s in range(matrix.shape[1])]


def _weight(entries: EntrySymbols, kind: str, layer: int, W: Array, row: int, col: int) -> Sym:
    return entries.get(kind, layer, W, row, col, (row + 1, col + 1))


def _bias(entries: EntrySymbols, kind: str, layer: int, b: Array, row: int) -> Sym:
    return entries.get(kind, layer, b, row, 0, (row + 1,))


def _sample_line(step: Step) -> str:
    """Where a sample sits as the trace is shown: a column (z = W a + b) or a row (z = a W + b)."""
    return "row" if step.network.weights_layout == "in_out" else "column"


def _cells(matrix: Array) -> list[tuple[int, int]]:
    """(row, col) in sample-major order: all units of sample 1, then sample 2, ..."""
    rows, cols = matrix.shape
    return [(r, c) for c in range(cols) for r in range(rows)]


def _per_entry(kind: str, layer: int | None, value: Array, m: int,
               rhs: Callable[[int, int], Expr]) -> Equations:
    """One equation per entry, in ``_cells`` order, each built when first read."""
    rows = value.shape[0]

    def build(k: int) -> Equation:
        r, c = k % rows, k // rows
        return Equation(_entry(kind, layer, value, r, c, m), rhs(r, c), value.item(r, c))

    return Equations(value.size, build)


# ---- forward ---------------------------------------------------------------------------------

def _input(step: Step) -> Quantity:
    a0 = step.input
    m = step.batch_size
    note = f"the input, one {_sample_line(step)} per sample" if m > 1 else "the input"
    matrix = Equation(sym("a", 0, a0), None, sym("a", 0, a0).value, note)
    neuron = tuple(
        Equation(_entry("a", 0, a0, r, c, m), None, float(a0[r, c])) for r, c in _cells(a0)
    )
    return Quantity("a0", "a", 0, "forward", matrix, neuron)


def _z(step: Step, l: int, entries: EntrySymbols) -> Quantity:
    record, update = step.forward_of(l), step.update_of(l)
    a_prev, W, b, z = step.activation(l - 1), update.W_old, update.b_old, record.z
    m = step.batch_size
    note = f"b is added to every {_sample_line(step)} (sample)" if m > 1 else None
    matrix = Equation(
        sym("z", l, z), add(matmul(sym("W", l, W), sym("a", l - 1, a_prev)), sym("b", l, b)),
        sym("z", l, z).value, note,
    )

    inputs = _columns(entries, "a", l - 1, a_prev, m)  # a_{l-1}[i, s] is in every unit's sum: built once

    def neuron_rhs(j: int, s: int) -> Expr:
        products = [mul(_weight(entries, "W", l, W, j, i), a) for i, a in enumerate(inputs[s])]
        return add(*products, _bias(entries, "b", l, b, j))

    return Quantity(f"z{l}", "z", l, "forward", matrix, _per_entry("z", l, z, m, neuron_rhs))


def _a(step: Step, l: int) -> Quantity:
    record = step.forward_of(l)
    name = step.network.layers[l - 1].activation
    z, a, m = record.z, record.a, step.batch_size
    matrix = Equation(sym("a", l, a), f.activation_expr(name, sym("z", l, z)), sym("a", l, a).value)

    def neuron_rhs(j: int, s: int) -> Expr:
        z_entry = _entry("z", l, z, j, s, m)
        if not f.is_elementwise(name):
            column = [_entry("z", l, z, k, s, m) for k in range(z.shape[0])]
            return f.softmax_entry_expr(z_entry, column)
        return f.activation_expr(name, z_entry)

    return Quantity(f"a{l}", "a", l, "forward", matrix, _per_entry("a", l, a, m, neuron_rhs))


# ---- cost ------------------------------------------------------------------------------------

def _cost(step: Step) -> Quantity:
    L = len(step.network.layers)
    loss, y, a = step.network.loss, step.target, step.forward_of(L).a
    n, m = y.shape
    reduction = step.network.batch_reduction
    summed_matrix = call("Σ", f.cost_summand(loss, sym("y", None, y), sym("a", L, a), hadamard))
    note = None if m == 1 else (
        "the mean over samples of each sample's cost" if reduction == "mean"
        else "the sum over samples of each sample's cost (batch_reduction = sum)")
    matrix = Equation(
        sym("C", None, step.cost), f.cost_expr(loss, summed_matrix, m, n, reduction), step.cost, note,
    )
    terms = [
        f.cost_summand(loss, _entry("y", None, y, r, c, m), _entry("a", L, a, r, c, m), mul)
        for r, c in _cells(y)
    ]
    summed_scalar = add(*terms) if len(terms) > 1 else terms[0]
    neuron = (Equation(sym("C", None, step.cost),
                       f.cost_expr(loss, summed_scalar, m, n, reduction), step.cost),)
    return Quantity("cost", "C", None, "cost", matrix, neuron)


# ---- backward --------------------------------------------------------------------------------

def _grad_a(step: Step) -> Quantity:
    L = len(step.network.layers)
    grad_a = step.backward_of(L).grad_a
    assert grad_a is not None
    loss, y, a = step.network.loss, step.target, step.forward_of(L).a
    n, m = y.shape
    matrix = Equation(
        sym("grad_a", L, grad_a), f.loss_gradient_expr(loss, sym("y", None, y), sym("a", L, a), n,
                                                      hadamard),
        sym("grad_a", L, grad_a).value, "per sample: how the cost changes with each output",
    )

    def neuron_rhs(k: int, s: int) -> Expr:
        return f.loss_gradient_expr(loss, _entry("y", None, y, k, s, m), _entry("a", L, a, k, s, m),
                                    n, mul)

    neuron = _per_entry("grad_a", L, grad_a, m, neuron_rhs)
    return Quantity(f"grad_a{L}", "grad_a", L, "backward", matrix, neuron)


def hidden_grad_a(step: Step, l: int) -> Array:
    """∂C_s/∂a_l = W_{l+1}ᵀ δ_{l+1} (n_l, m), with W_{l+1} from before the update."""
    result: Array = step.update_of(l + 1).W_old.T @ step.backward_of(l + 1).delta
    return result


def _hidden_grad_a(step: Step, l: int, entries: EntrySymbols) -> Quantity:
    m = step.batch_size
    W_next, delta_next = step.update_of(l + 1).W_old, step.backward_of(l + 1).delta
    grad_a = hidden_grad_a(step, l)
    rhs = matmul(transpose(sym("W", l + 1, W_next)), sym("delta", l + 1, delta_next))
    note = f"each unit's share of the error of layer {l + 1}, through W{l + 1} from before the update"
    matrix = Equation(sym("grad_a", l, grad_a), rhs, sym("grad_a", l, grad_a).value, note)

    deltas = _columns(entries, "delta", l + 1, delta_next, m)

    def neuron_rhs(j: int, s: int) -> Expr:
        return add(*[mul(_weight(entries, "W", l + 1, W_next, k, j), delta)
                     for k, delta in enumerate(deltas[s])])

    return Quantity(f"grad_a{l}", "grad_a", l, "backward", matrix,
                    _per_entry("grad_a", l, grad_a, m, neuron_rhs))


def _delta(step: Step, l: int) -> Quantity:
    L = len(step.network.layers)
    if l == L:
        return _output_delta(step)
    name = step.network.layers[l - 1].activation
    record, m = step.forward_of(l), step.batch_size
    delta, grad_a = step.backward_of(l).delta, hidden_grad_a(step, l)
    z, a = record.z, record.a
    rhs = hadamard(sym("grad_a", l, grad_a),
                   f.derivative_expr(name, sym("z", l, z), sym("a", l, a), hadamard))
    note = f"δ = ∂C/∂a ⊙ σ'(z), with {f.DERIVATIVE_TEXT[name]}"
    matrix = Equation(sym("delta", l, delta), rhs, sym("delta", l, delta).value, note)

    def neuron_rhs(j: int, s: int) -> Expr:
        derivative = f.derivative_expr(
            name, _entry("z", l, z, j, s, m), _entry("a", l, a, j, s, m), mul
        )
        return mul(_entry("grad_a", l, grad_a, j, s, m), derivative)

    return Quantity(f"delta{l}", "delta", l, "backward", matrix,
                    _per_entry("delta", l, delta, m, neuron_rhs))


def _output_delta(step: Step) -> Quantity:
    L = len(step.network.layers)
    name, loss = step.network.layers[-1].activation, step.network.loss
    record, backward, y, m = step.forward_of(L), step.backward_of(L), step.target, step.batch_size
    delta, z, a, n = backward.delta, record.z, record.a, y.shape[0]
    if backward.grad_a is None:  # fused: a − y
        rhs: Expr = f.fused_delta_expr(loss, sym("y", None, y), sym("a", L, a), n)
        note = f.FUSED_NOTE[loss]

        def neuron_rhs(j: int, s: int) -> Expr:
            return f.fused_delta_expr(loss, _entry("y", None, y, j, s, m),
                                      _entry("a", L, a, j, s, m), n)
    elif not f.is_elementwise(name):
        grad_a = backward.grad_a
        rhs = call("softmax_backward", sym("a", L, a), sym("grad_a", L, grad_a))
        note = "through the softmax Jacobian, per sample: δ_j = a_j (g_j − Σ_k a_k g_k), g = ∂C/∂a"

        def neuron_rhs(j: int, s: int) -> Expr:
            weighted = add(*[
                mul(_entry("a", L, a, k, s, m), _entry("grad_a", L, grad_a, k, s, m))
                for k in range(n)
            ])
            return mul(_entry("a", L, a, j, s, m), sub(_entry("grad_a", L, grad_a, j, s, m), weighted))
    else:
        grad_a = backward.grad_a
        rhs = hadamard(sym("grad_a", L, grad_a),
                       f.derivative_expr(name, sym("z", L, z), sym("a", L, a), hadamard))
        note = f"δ = ∂C/∂a ⊙ σ'(z), with {f.DERIVATIVE_TEXT[name]}"

        def neuron_rhs(j: int, s: int) -> Expr:
            derivative = f.derivative_expr(
                name, _entry("z", L, z, j, s, m), _entry("a", L, a, j, s, m), mul
            )
            return mul(_entry("grad_a", L, grad_a, j, s, m), derivative)

    matrix = Equation(sym("delta", L, delta), rhs, sym("delta", L, delta).value, note)
    return Quantity(f"delta{L}", "delta", L, "backward", matrix,
                    _per_entry("delta", L, delta, m, neuron_rhs))


def _over_batch(factor: list[Expr], terms: list[Expr]) -> Expr:
    """Σ_s of per-sample terms, times 1/m for the batch mean: (1/m)(t1 + t2), t1 + t2, or t1."""
    summed = terms[0] if len(terms) == 1 else add(*terms)
    return mul(*factor, summed) if factor else summed


def _batch_note(step: Step, what: str) -> str | None:
    if step.batch_size == 1:
        return None
    return f"the {'mean' if step.network.batch_reduction == 'mean' else 'sum'} over the batch of {what}"


def _grad_W(step: Step, l: int, entries: EntrySymbols) -> Quantity:
    backward, m = step.backward_of(l), step.batch_size
    delta, grad_W, a_prev = backward.delta, backward.grad_W, step.activation(l - 1)
    product = matmul(sym("delta", l, delta), transpose(sym("a", l - 1, a_prev)))
    factor = f.batch_factor(m, step.network.batch_reduction)
    rhs = mul(*factor, product) if factor else product
    each = "aᵀ δ" if step.network.weights_layout == "in_out" else "δ aᵀ"
    note = _batch_note(step, f"each sample's {each}")
    matrix = Equation(sym("grad_W", l, grad_W), rhs, sym("grad_W", l, grad_W).value, note)
    deltas = _columns(entries, "delta", l, delta, m)
    inputs = _columns(entries, "a", l - 1, a_prev, m)
    cols = grad_W.shape[1]

    def build(k: int) -> Equation:  # row by row
        j, i = divmod(k, cols)
        terms: list[Expr] = [mul(deltas[s][j], inputs[s][i]) for s in range(m)]
        return Equation(_weight(entries, "grad_W", l, grad_W, j, i), _over_batch(factor, terms),
                        grad_W.item(j, i))

    return Quantity(f"grad_W{l}", "grad_W", l, "backward", matrix, Equations(grad_W.size, build))


def _grad_b(step: Step, l: int, entries: EntrySymbols) -> Quantity:
    backward, m = step.backward_of(l), step.batch_size
    delta, grad_b = backward.delta, backward.grad_b
    rhs: Expr = sym("delta", l, delta)
    factor = f.batch_factor(m, step.network.batch_reduction)
    if m > 1:
        rhs = mul(*factor, call("Σ_s", rhs)) if factor else call("Σ_s", rhs)
    note = _batch_note(step, f"δ (its samples are the {_sample_line(step)}s)")
    matrix = Equation(sym("grad_b", l, grad_b), rhs, sym("grad_b", l, grad_b).value, note)

    def build(j: int) -> Equation:
        terms: list[Expr] = [_entry("delta", l, delta, j, s, m) for s in range(m)]
        return Equation(_bias(entries, "grad_b", l, grad_b, j), _over_batch(factor, terms),
                        float(grad_b[j, 0]))

    return Quantity(f"grad_b{l}", "grad_b", l, "backward", matrix,
                    Equations(grad_b.shape[0], build))


# ---- update ----------------------------------------------------------------------------------

def _frozen_note(step: Step, l: int, parameter: str) -> str:
    if not step.network.layers[l - 1].trainable:
        return f"layer {l} is frozen: {parameter}{l} is not updated"
    return f"train_biases = false: b{l} is not updated"



# ---- the error convention ---------------------------------------------------------------------
# Mitchell's and Han & Kamber's Err = −∂C/∂z (delta_convention = "error"): a naming and sign view
# of the quantities above, not a second engine. Every formula is linear in δ and ∂C/∂a, so
# renaming δ → Err and ∂C/∂a → −∂C/∂a (values negated) keeps it true; where the left side keeps
# its name (∂C/∂W, ∂C/∂b) the right side is negated, and where the right side holds neither
# (the output's a − y) the left side's sign moves into it: −∂C/∂a2 = y − a2.

_ERROR_KINDS = {"delta": "err", "grad_a": "err_a"}
_ERROR_NOTES = {
    "delta": "Err = −∂C/∂z, the error term of the error convention: Err = (−∂C/∂a) ⊙ σ'(z)",
    "grad_a": "the error reaching each output of this layer: Σ_k Err_k w_kj over the layer above",
}


def _negative(value: Value) -> Value:
    return -value if isinstance(value, float) else tuple(tuple(-v for v in row) for row in value)


def _renamed(expr: Expr) -> Expr:
    """δ → Err and ∂C/∂a → −∂C/∂a throughout, each value negated with its name."""
    if isinstance(expr, Sym):
        kind = _ERROR_KINDS.get(expr.kind)
        return expr if kind is None else Sym(kind, expr.layer, _negative(expr.value), expr.index)
    if isinstance(expr, Num):
        return expr
    return Op(expr.op, tuple(_renamed(arg) for arg in expr.args), expr.fn)


def _mentions(expr: Expr | None, kinds: tuple[str, ...]) -> bool:
    if expr is None or isinstance(expr, Num):
        return False
    if isinstance(expr, Sym):
        return expr.kind in kinds
    return any(_mentions(arg, kinds) for arg in expr.args)


def negated(expr: Expr) -> Expr:
    """−expr as a hand-worker writes it: −(a − y) = y − a, −(c·(a − y)) = c·(y − a), −(−x) = x."""
    if isinstance(expr, Op) and expr.op == "sub":
        return sub(expr.args[1], expr.args[0])
    if isinstance(expr, Op) and expr.op == "neg":
        return expr.args[0]
    if isinstance(expr, Op) and expr.op in ("mul", "div"):
        k = len(expr.args) - 1 if expr.op == "mul" else 0  # the (a − y) of c·(a − y), (a − y)/d
        inner = expr.args[k]
        if isinstance(inner, Op) and inner.op == "sub":
            args = list(expr.args)
            args[k] = sub(inner.args[1], inner.args[0])
            return Op(expr.op, tuple(args), expr.fn)
    return neg(expr)


def _error_equation(equation: Equation, renamed_kind: str | None, note: str | None) -> Equation:
    rhs = equation.rhs
    if renamed_kind is None:  # ∂C/∂W = −(1/m) Err aᵀ
        note = None if equation.note is None else equation.note.replace("δ", "−Err")
        return Equation(equation.lhs, None if rhs is None else neg(_renamed(rhs)), equation.value, note)
    lhs = _renamed(equation.lhs)
    assert isinstance(lhs, Sym)
    if rhs is not None:
        rhs = _renamed(rhs) if _mentions(rhs, ("delta", "grad_a")) else negated(rhs)
    return Equation(lhs, rhs, lhs.value, note)


def _error_quantity(quantity: Quantity, output_layer: int) -> Quantity:
    kind = _ERROR_KINDS.get(quantity.kind)
    note = None if kind is None else _ERROR_NOTES[quantity.kind]
    if quantity.kind == "grad_a" and quantity.layer == output_layer:
        note = "how far each output is from its target, −∂C/∂a (T − O for half the squared error)"
    matrix = _error_equation(quantity.matrix, kind, note)
    given = quantity.neuron
    neuron = Equations(len(given), lambda k: _error_equation(given[k], kind, None))
    return Quantity(quantity.key, kind or quantity.kind, quantity.layer, quantity.phase, matrix,
                    neuron)


def _error_update(step: Step, update: Quantity, gradient: Quantity) -> Quantity:
    """Plain SGD as w ← w + η Err O: θ' = θ + η · (the gradient's formula in Err, unsigned)."""
    old = update.matrix.rhs
    assert isinstance(old, Op) and old.op == "sub"
    eta = sym("eta", None, step.learning_rate)

    def rule(equation: Equation, grad: Equation) -> Equation:
        assert isinstance(equation.rhs, Op) and grad.rhs is not None
        return Equation(equation.lhs, add(equation.rhs.args[0], mul(eta, _renamed(grad.rhs))),
                        equation.value, equation.note)

    note = "the error convention's rule: θ' = θ + η Err O (the same numbers as θ − η ∂C/∂θ)"
    matrix = rule(update.matrix, gradient.matrix)
    updates, gradients = update.neuron, gradient.neuron
    assert len(updates) == len(gradients)
    return Quantity(update.key, update.kind, update.layer, update.phase,
                    Equation(matrix.lhs, matrix.rhs, matrix.value, note),
                    Equations(len(updates), lambda k: rule(updates[k], gradients[k])))


def _error_view(step: Step, quantities: list[Quantity]) -> tuple[Quantity, ...]:
    gradients = {q.key: q for q in quantities if q.kind in ("grad_W", "grad_b")}
    plain_sgd = step.optimizer.name == "sgd" and not step.optimizer.get("weight_decay")
    result = []
    for quantity in quantities:
        parameter = quantity.kind.removesuffix("_new")
        trained = quantity.kind in ("W_new", "b_new") and quantity.layer is not None and (
            step.update_of(quantity.layer).W_trained if parameter == "W"
            else step.update_of(quantity.layer).b_trained)
        if plain_sgd and trained:
            result.append(_error_update(step, quantity, gradients[f"grad_{parameter}{quantity.layer}"]))
        elif quantity.phase == "backward":
            result.append(_error_quantity(quantity, len(step.network.layers)))
        else:
            result.append(quantity)
    return tuple(result)
