"""Grade a learner's answers against a spec's trace, at the learner's own precision.

An answer written with d decimals is **correct** within ½·10⁻ᵈ (one unit with
``forgive_last_digit``; ``tolerance`` overrides) of the exact value, or of the value recomputed
from the learner's own earlier answers when those were right. It is **carried** when it is right
only from the learner's earlier *wrong* answers (none of them trivial: 0, 1 or a copied given
number), and **wrong** otherwise, with every known mistake (grade/engine.py) that reproduces it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from gradtrace.errors import SpecError, unknown_name
from gradtrace.grade import engine
from gradtrace.grade.answers import Answer, AnswerSheet, as_decimal, parse_answers
from gradtrace.grade.engine import Array, Network, Values
from gradtrace.grade.formula import first_difference, formula
from gradtrace.grade.report import Entry, GradeReport, Mistake, Nested, Status
from gradtrace.spec import Spec, load_spec
from gradtrace.trace.model import Step
from gradtrace.workflow import trace_spec

# Headroom on a tolerance: 0.5780 is within ½·10⁻⁴ of 0.57805 although binary floats disagree.
SLACK = 1e-9
# An answer must carry at least this many significant figures of the exact value: else "0" would
# be right (to ±0.5) for every small quantity, and a learner could answer everything with 0.
MIN_SIGNIFICANT = 2


@dataclass(frozen=True)
class Settings:
    """How strictly to judge: the written precision, widened or replaced."""

    forgive_last_digit: bool = False
    tolerance: float | None = None

    def of(self, written: Decimal, exact: float) -> float:
        """½ unit of the last written decimal (1 unit when forgiving), or the fixed tolerance.

        At most ½ unit of the exact value's MIN_SIGNIFICANT-th significant figure.
        """
        if self.tolerance is not None:
            return self.tolerance
        exponent = written.as_tuple().exponent
        assert isinstance(exponent, int)  # finite numbers only reach here
        unit = (1.0 if self.forgive_last_digit else 0.5) * 10.0 ** max(exponent, -300)
        if exact == 0 or not np.isfinite(exact):
            return unit
        leading = int(np.floor(np.log10(abs(exact))))
        return min(unit, 0.5 * 10.0 ** (leading - MIN_SIGNIFICANT + 1))


@dataclass(frozen=True)
class Given:
    """An answer read as numbers: values, per-entry tolerance and the text as written."""

    answer: Answer
    values: Array  # the expected shape (or its transpose, then ``transposed``); () for the cost
    tolerance: Array
    written: Any
    transposed: bool = False


def grade(spec: Spec | str, answers: AnswerSheet | Mapping[str, Any] | Sequence[Answer], *,
          forgive_last_digit: bool = False, tolerance: float | None = None) -> GradeReport:
    """Grade ``answers`` (a sheet, an [answers]-style mapping, or Answers) on ``spec``'s steps."""
    if tolerance is not None and not (tolerance >= 0 and np.isfinite(tolerance)):
        raise SpecError(f"tolerance {tolerance} must be a finite number ≥ 0", field="--tolerance")
    sheet = _sheet(answers)
    spec = load_spec(spec) if isinstance(spec, str) else spec
    if sheet.conventions:
        spec = spec.with_options({name: (name, value) for name, value in sheet.conventions.items()})
    settings = Settings(forgive_last_digit, tolerance)
    trace = trace_spec(spec, steps=sheet.steps)
    net = network_of(spec)
    grouped = _check_keys(sheet, trace.steps)
    entries: list[Entry] = []
    yours: dict[str, Array] = {}
    yours_taint: dict[str, frozenset[str]] = {}
    for step in trace.steps:
        entries += _grade_step(step, net, grouped.get(step.index + 1, {}), (yours, yours_taint),
                               settings, _given_numbers(trace.steps[0]))
    report_settings = {"forgive_last_digit": forgive_last_digit, "tolerance": tolerance,
                       "steps": sheet.steps}
    return GradeReport(spec.name, tuple(entries), report_settings)


def _sheet(answers: AnswerSheet | Mapping[str, Any] | Sequence[Answer]) -> AnswerSheet:
    if isinstance(answers, AnswerSheet):
        return answers
    if isinstance(answers, Mapping):
        return parse_answers({"spec": "given", "answers": answers})
    return AnswerSheet("given", {}, tuple(answers))


def network_of(spec: Spec) -> Network:
    """What the switchable maths needs, read from the validated spec (conventions defaulted)."""
    mlp = spec.build_mlp()
    optimizer = spec.optimizer
    return Network(
        activations=tuple(layer.activation for layer in mlp.layers),
        loss=mlp.loss,
        learning_rate=spec.learning_rate,
        trains_W=tuple(layer.trainable for layer in mlp.layers),
        trains_b=tuple(layer.trainable and mlp.train_biases for layer in mlp.layers),
        # fields other branches add; absent means the textbook default
        batch_reduction=str(getattr(spec, "batch_reduction", "mean")),
        delta_sign=-1.0 if getattr(spec, "delta_convention", "gradient") == "error" else 1.0,
        sgd=optimizer.name == "sgd" and optimizer.weight_decay == 0.0,
    )


# ---- keys and shapes -------------------------------------------------------------------------

def order_of(step: Step) -> list[str]:
    """The gradable quantity keys of a step, in the order the trace explains them."""
    return list(exact_values(step))


@functools.lru_cache(maxsize=8)
def exact_values(step: Step) -> dict[str, Array]:
    """Every quantity key of the step -> its exact value (column view; the cost 0-d), in order.

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
        values[f"delta{l}"], values[f"grad_W{l}"], values[f"grad_b{l}"] = (
            back.delta, back.grad_W, back.grad_b)
    if any(update.state for update in step.update):
        for quantity in step.quantities():
            if quantity.phase == "update":
                values[quantity.key] = np.asarray(quantity.matrix.value, dtype=np.float64)
        return values
    for update in step.update:
        values[f"W{update.layer}_new"], values[f"b{update.layer}_new"] = update.W_new, update.b_new
    return values


def _check_keys(sheet: AnswerSheet, steps: Sequence[Step]) -> dict[int, dict[str, list[Answer]]]:
    grouped: dict[int, dict[str, list[Answer]]] = {}
    for answer in sheet.answers:
        step = steps[answer.step - 1]
        keys = order_of(step)
        where = f"answers.{answer.label}"
        if answer.key not in keys:
            raise SpecError(f"{where}: " + unknown_name("quantity key", answer.key, keys),
                            source=sheet.source)
        if answer.index is not None:
            _check_index(answer, exact_value(step, answer.key).shape, where, sheet.source)
        grouped.setdefault(answer.step, {}).setdefault(answer.key, []).append(answer)
    return grouped


def _check_index(answer: Answer, shape: tuple[int, ...], where: str, source: str) -> None:
    assert answer.index is not None
    if not shape:
        raise SpecError(f"{where}: {answer.key} is a single number; write {answer.key} = value",
                        source=source)
    fits = len(answer.index) == len(shape) or (len(answer.index) == 1 and 1 in shape)
    if not fits or any(not 1 <= i <= n for i, n in zip(_position(answer.index, shape), shape,
                                                        strict=True)):
        ranges = ", ".join(f"1..{n}" for n in shape)
        raise SpecError(f"{where}: {answer.key} has shape {shape}; its entries are "
                        f"{answer.key}[{ranges}] (1-based, as printed)", source=source)


def _position(index: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """A 1-based index as written -> 1-based (row, col): one index of a vector names its entry."""
    if len(index) == 2:
        return index
    return (index[0], 1) if shape[1] == 1 else (1, index[0])


def exact_value(step: Step, key: str) -> Array:
    """The exact value of a quantity key, in the trace's column view (the cost 0-d)."""
    return exact_values(step)[key]


def _true_values(step: Step) -> dict[str, Array]:
    values: dict[str, Array] = {"a0": np.asarray(step.input), "y": np.asarray(step.target)}
    for update in step.update:
        values[f"W{update.layer}"] = np.asarray(update.W_old)
        values[f"b{update.layer}"] = np.asarray(update.b_old)
    values.update(exact_values(step))
    return values


def _given_numbers(step: Step) -> set[float]:
    """Numbers the question gives (inputs, targets, weights, biases, η): copying one is no work."""
    arrays = [step.input, step.target, *(u.W_old for u in step.update),
              *(u.b_old for u in step.update)]
    return {float(x) for array in arrays for x in np.ravel(array)} | {step.learning_rate}


def read_given(answer: Answer, exact: Array, settings: Settings) -> Given | str:
    """The answer as numbers of ``exact``'s shape (or its transpose), or why it cannot be read."""
    exact = _slice(exact, answer)
    shape: tuple[int, ...] = exact.shape
    value = answer.given
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        widths = {len(row) for row in value}
        if len(widths) != 1:
            return f"its rows have different lengths {sorted(widths)}; expected shape {shape}"
        rows: list[list[Any]] = value
    elif isinstance(value, list):
        if not value or any(isinstance(item, list) for item in value):
            return f"is not a list of numbers; expected shape {_shape_words(shape)}"
        rows = [[item] for item in value] if len(shape) == 2 and shape[1] == 1 else [value]
    else:
        rows = [[value]]
    numbers = [[as_decimal(item) for item in row] for row in rows]
    for r, row in enumerate(numbers):
        for c, number in enumerate(row):
            if number is None or not np.isfinite(float(number)):
                return (f"{_cell(r, c, rows)}{_echo(rows[r][c])} cannot be read as a number; "
                        "write a plain decimal like 0.5523")
    values = np.array([[float(n) for n in row if n is not None] for row in numbers])
    written = _written(value)
    target = shape if shape else (1, 1)
    transposed = len(shape) == 2 and values.shape != target and values.shape == shape[::-1]
    if values.shape == target or transposed:
        scale = (exact.T if transposed else exact).reshape(values.shape)
        tolerance = np.array([[settings.of(n, float(scale[r, c])) for c, n in enumerate(row)
                               if n is not None] for r, row in enumerate(numbers)])
        if transposed:
            return Given(answer, values, tolerance, written, transposed=True)
        return Given(answer, values.reshape(shape), tolerance.reshape(shape), written)
    found = (f"has {values.size} numbers" if isinstance(value, list) and rows is not value
             else f"has shape {values.shape}" if values.size > 1 else "is a single number")
    return f"{found}; expected {_shape_words(shape)}"


def _shape_words(shape: tuple[int, ...]) -> str:
    if not shape or shape == (1, 1):
        return "a single number"
    if shape[1] == 1 or shape[0] == 1:
        return f"a list of {max(shape)} numbers"
    return f"shape {shape}: {shape[0]} rows of {shape[1]} numbers"


def _cell(r: int, c: int, rows: list[list[Any]]) -> str:
    if len(rows) == 1 and len(rows[0]) == 1:
        return ""
    return f"entry [{r + 1},{c + 1}] " if len(rows) > 1 and len(rows[0]) > 1 else (
        f"entry [{max(r, c) + 1}] ")


def _echo(value: Any) -> str:
    from gradtrace.errors import shorten

    return shorten(str(value) if isinstance(value, Decimal) else value, 40)


def _written(value: Any) -> Any:
    """The answer with each number as the text the learner wrote."""
    if isinstance(value, list):
        return [_written(item) for item in value]
    if isinstance(value, bool | float | str) or value is None:
        return value
    if isinstance(value, Decimal | int):
        return str(value)
    return _echo(value)  # a table where a number belongs: its text, shortened


def _slice(value: Array, answer: Answer) -> Array:
    if answer.index is None:
        return value
    row, col = _position(answer.index, value.shape)
    return np.asarray(value[row - 1, col - 1])


def _matches(given: Given, target: Array | None) -> bool:
    if target is None:
        return False
    target = _slice(target, given.answer)
    values = given.values.T if given.transposed else given.values
    if target.shape != values.shape:
        return False
    return bool(np.all(np.abs(values - target) <= given.tolerance.reshape(values.shape)
                       * (1 + SLACK) + 1e-300))


# ---- one step --------------------------------------------------------------------------------

def _grade_step(step: Step, net: Network, answers: Mapping[str, list[Answer]],
                yours: tuple[dict[str, Array], dict[str, frozenset[str]]], settings: Settings,
                copied: set[float]) -> list[Entry]:
    """Grade one step's answers in order, building the learner's own values as it goes.

    ``yours`` holds the learner's W_new/b_new of the previous step (this step's W and b) and
    their taint on entry, and this step's on return. Taint: the labels of the wrong answers a
    value rests on.
    """
    truth = _true_values(step)
    view: dict[str, Array] = {key: truth[key] for key in ("a0", "y")}
    taint: dict[str, frozenset[str]] = {}
    for update in step.update:
        for parameter in ("W", "b"):
            name = f"{parameter}{update.layer}"
            view[name] = yours[0].get(f"{name}_new", truth[name])
            taint[name] = yours[1].get(f"{name}_new", frozenset())
    entries: list[Entry] = []
    for key in order_of(step):
        exact = truth[key]
        from_yours, used = _recompute(key, view, taint, net)
        given = answers.get(key, [])
        # the mistakes tried from the true earlier values and from the learner's own
        sources = (("true", _Frozen(truth)), ("yours", _Frozen({**truth, **view})))
        if not given:
            entries.append(Entry(key, step.index + 1, None, "missing", expected=_nested(exact),
                                 expected_from_yours=_nested(from_yours)))
        value = (from_yours if from_yours is not None else exact).copy()
        wrong: set[str] = set()
        for answer in sorted(given, key=lambda a: a.index or ()):
            read = read_given(answer, exact, settings)
            if isinstance(read, str):
                entries.append(Entry(key, step.index + 1, answer.index, "invalid",
                                     given=_written(answer.given), expected=_nested(_slice(exact, answer)),
                                     problem=f"answers.{answer.label} {read}"))
                continue
            entry = _judge(read, exact, from_yours, used, net, view, sources, answers, copied)
            entries.append(entry)
            if entry.status in ("wrong", "carried"):
                wrong.add(answer.label)
            _overlay(value, read)
        view[key] = value
        taint[key] = frozenset(wrong) | (used if not _whole_given(given, exact, settings) else
                                         frozenset())
    for update in step.update:
        for parameter in ("W", "b"):
            key = f"{parameter}{update.layer}_new"
            yours[0][key], yours[1][key] = view[key], taint[key]
    return entries


def _whole_given(given: Iterable[Answer], exact: Array, settings: Settings) -> bool:
    return any(a.index is None and isinstance(read_given(a, exact, settings), Given)
               for a in given)


def _overlay(value: Array, read: Given) -> None:
    """Put the learner's numbers into their own view of the quantity."""
    if read.transposed:
        return  # a transposed matrix is a mistake, not the learner's value of this quantity
    if read.answer.index is None:
        value[...] = read.values
        return
    row, col = _position(read.answer.index, value.shape)
    value[row - 1, col - 1] = float(read.values)


def _recompute(key: str, view: Values, taint: Mapping[str, frozenset[str]], net: Network
               ) -> tuple[Array | None, frozenset[str]]:
    """The quantity from the learner's own values, and the wrong answers those rest on."""
    if not engine.recomputable(key) or (key.endswith("_new") and not net.sgd):
        return None, frozenset()
    used = frozenset().union(*(taint.get(name, frozenset()) for name in engine.inputs(key, net)))
    return engine.compute(key, view, net)[0].value, used


def _judge(given: Given, exact: Array, from_yours: Array | None, used: frozenset[str],
           net: Network, view: Values, sources: tuple[tuple[str, _Frozen], ...],
           answers: Mapping[str, list[Answer]], copied: set[float]) -> Entry:
    answer = given.answer
    common: dict[str, Any] = {
        "given": given.written, "expected": _nested(_slice(exact, answer)),
        "expected_from_yours": None if from_yours is None else _nested(_slice(from_yours, answer)),
        "tolerance": float(given.tolerance.max()),
    }
    status: Status = "wrong"
    problem = None
    if not given.transposed and _matches(given, exact):
        status = "correct"
    elif not given.transposed and _matches(given, from_yours):
        if not used:
            status = "correct"  # right from the learner's own rounded (correct) answers
        else:
            trivial = sorted(label for label in used if _trivial(label, answers, copied))
            if trivial:
                problem = (f"right only from {', '.join(trivial)}, which is 0, 1 or a copied "
                           "given number: no error is carried forward from that")
            else:
                status = "carried"
    if status != "wrong":
        return Entry(answer.key, answer.step, answer.index, status, carried_from=tuple(
            sorted(used)) if status == "carried" else (), **common)
    mistakes = _diagnose(given, net, sources)
    where = first_difference(given.values if not given.transposed else given.values.T,
                             _slice(exact, answer), given.tolerance.reshape(
                                 given.values.shape).T if given.transposed else given.tolerance)
    position = _position(answer.index, exact.shape) if answer.index else tuple(
        i + 1 for i in where)
    return Entry(answer.key, answer.step, answer.index, "wrong", mistakes=mistakes,
                 problem=problem, formula=formula(answer.key, tuple(i - 1 for i in position),
                                                  view, net) if exact.ndim else
                 formula(answer.key, (), view, net), **common)


def _trivial(label: str, answers: Mapping[str, list[Answer]], copied: set[float]) -> bool:
    """Whether the learner's answer ``label`` is 0, 1 or a copy of a given number everywhere."""
    for answer in (a for group in answers.values() for a in group):
        if answer.label == label:
            numbers = [as_decimal(x) for x in np.ravel(np.asarray(answer.given, dtype=object))]
            values = {float(n) for n in numbers if n is not None}
            return bool(values) and (values <= {0.0, 1.0} or values <= copied)
    return False


@dataclass(eq=False)
class _Frozen:
    """Inputs to try the mistakes from, with each quantity's variants worked out once."""

    values: Values
    memo: dict[str, list[engine.Variant]] = field(default_factory=dict)

    def variants(self, key: str, net: Network) -> list[engine.Variant]:
        if key not in self.memo:
            self.memo[key] = engine.compute(key, self.values, net, mistakes=True)[1:]
        return self.memo[key]


def _diagnose(given: Given, net: Network, sources: tuple[tuple[str, _Frozen], ...]
              ) -> tuple[Mistake, ...]:
    """Every known mistake that reproduces the answer, from the true and the learner's inputs."""
    key = given.answer.key
    if not engine.recomputable(key) or (key.endswith("_new") and not net.sgd):
        return (Mistake(engine.UNKNOWN, _SLIP.format(key=key), "none"),)
    found: dict[tuple[str, str], Mistake] = {}
    for source, values in sources:
        for variant in values.variants(key, net):
            if variant.mistake is None or (variant.mistake, variant.words) in found:
                continue
            if _matches(given, variant.value) or (given.transposed and _matches_transposed(
                    given, variant.value)):
                whose = "the true earlier values" if source == "true" else "your own earlier answers"
                text = engine.explain(variant.mistake, variant.words, key, net)
                found[(variant.mistake, variant.words)] = Mistake(
                    variant.mistake, f"{text} (this reproduces your answer from {whose})",
                    "true" if source == "true" else "yours")
    if not found:
        return (Mistake(engine.UNKNOWN, _SLIP.format(key=key), "none"),)
    return tuple(found.values())


def _matches_transposed(given: Given, value: Array) -> bool:
    target = _slice(value, given.answer)
    return target.shape == given.values.shape and bool(
        np.all(np.abs(given.values - target) <= given.tolerance * (1 + SLACK)))


_SLIP = ("no known mistake reproduces this {key}: most likely an arithmetic slip; redo it with "
         "the formula below, one product at a time")


def _nested(value: Array | None) -> Nested | None:
    """As a learner writes it: one number, a list for a vector, rows for a matrix or batch."""
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return float(array.reshape(()))
    if array.ndim == 2 and 1 in array.shape:
        flat: list[float] = array.ravel().tolist()
        return flat
    rows: list[list[float]] = array.tolist()
    return rows
