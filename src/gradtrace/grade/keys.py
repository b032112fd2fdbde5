"""A step's quantity keys in order, their exact values, and the answers checked against them."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from gradtrace.errors import SpecError, unknown_name
from gradtrace.grade.answers import Answer, AnswerSheet
from gradtrace.grade.engine import Array
from gradtrace.grade.given import position
from gradtrace.grade.layout import label_as_written, shape_as_written
from gradtrace.trace.explain import hidden_grad_a
from gradtrace.trace.model import Step


def order_of(step: Step) -> list[str]:
    """The gradable quantity keys of a step, in the order the trace explains them."""
    return list(exact_values(step))

@functools.lru_cache(maxsize=8)
def exact_values(step: Step) -> dict[str, Array]:
    """Every quantity key of the step -> its exact value (column view; the cost 0-d), in order.

    In the error convention delta{l} is Err = −∂C/∂z and grad_a{l} is −∂C/∂a, as printed.

    Read from the step's records: the explanation (neuron view included) costs seconds at the
    trace cap. Optimiser state (velocity, Adam's m, v, m̂, v̂) only the explanation holds.
    """
    L = len(step.forward)
    values: dict[str, Array] = {}
    for record in step.forward:
        values[f"z{record.layer}"], values[f"a{record.layer}"] = record.z, record.a
    values["cost"] = np.asarray(step.cost, dtype=np.float64)
    grad_a = step.backward_of(L).grad_a
    if grad_a is not None:
        values[f"grad_a{L}"] = grad_a
    for l in range(L, 0, -1):
        back = step.backward_of(l)
        if l < L:  # ∂C/∂a_l = W_{l+1}ᵀ δ_{l+1}, the trace's own quantity before δ_l
            values[f"grad_a{l}"] = hidden_grad_a(step, l)
        values[f"delta{l}"], values[f"grad_W{l}"], values[f"grad_b{l}"] = (
            back.delta, back.grad_W, back.grad_b)
    if step.network.delta_convention == "error":  # printed as Err = −δ and −∂C/∂a: graded so
        for l in range(1, L + 1):
            values[f"delta{l}"] = -values[f"delta{l}"]
            if f"grad_a{l}" in values:
                values[f"grad_a{l}"] = -values[f"grad_a{l}"]
    if any(update.state for update in step.update):
        for quantity in step.quantities():
            if quantity.phase == "update":
                values[quantity.key] = np.asarray(quantity.matrix.value, dtype=np.float64)
        return values
    for update in step.update:
        values[f"W{update.layer}_new"], values[f"b{update.layer}_new"] = update.W_new, update.b_new
    return values

def check_keys(sheet: AnswerSheet, steps: Sequence[Step], rows: bool = False
               ) -> dict[int, dict[str, list[Answer]]]:
    """The answers by step and key, each key known and each index in range.

    ``rows``: the answers were written in the row view (grade/layout.py) and read into the column
    view; a message names the shape and entry as the learner wrote them.
    """
    grouped: dict[int, dict[str, list[Answer]]] = {}
    for answer in sheet.answers:
        step = steps[answer.step - 1]
        keys = order_of(step)
        where = f"answers.{label_as_written(answer, rows)}"
        if answer.key not in keys:
            raise SpecError(f"{where}: " + unknown_name("quantity key", answer.key, keys),
                            source=sheet.source)
        if answer.index is not None:
            _check_index(answer, exact_value(step, answer.key).shape, where, sheet.source, rows)
        grouped.setdefault(answer.step, {}).setdefault(answer.key, []).append(answer)
    return grouped

def _check_index(answer: Answer, shape: tuple[int, ...], where: str, source: str,
                 rows: bool) -> None:
    assert answer.index is not None
    if not shape:
        raise SpecError(f"{where}: {answer.key} is a single number; write {answer.key} = value",
                        source=source)
    fits = len(answer.index) == len(shape) or (len(answer.index) == 1 and 1 in shape)
    if not fits or any(not 1 <= i <= n for i, n in zip(position(answer.index, shape), shape,
                                                        strict=True)):
        shape = shape_as_written(shape, rows)
        ranges = ", ".join(f"1..{n}" for n in shape)
        raise SpecError(f"{where}: {answer.key} has shape {shape}; its entries are "
                        f"{answer.key}[{ranges}] (1-based, as printed)", source=source)

def exact_value(step: Step, key: str) -> Array:
    """The exact value of a quantity key, in the trace's column view (the cost 0-d)."""
    return exact_values(step)[key]

def true_values(step: Step) -> dict[str, Array]:
    values: dict[str, Array] = {"a0": np.asarray(step.input), "y": np.asarray(step.target)}
    for update in step.update:
        values[f"W{update.layer}"] = np.asarray(update.W_old)
        values[f"b{update.layer}"] = np.asarray(update.b_old)
    values.update(exact_values(step))
    return values

def given_numbers(step: Step) -> set[float]:
    """Numbers the question gives (inputs, targets, weights, biases, η): copying one is no work."""
    arrays = [step.input, step.target, *(u.W_old for u in step.update),
              *(u.b_old for u in step.update)]
    return {float(x) for array in arrays for x in np.ravel(array)} | {step.learning_rate}
