"""Grade a learner's answers against a spec's trace, at the learner's own precision.

An answer written with d decimals is **correct** within ½·10⁻ᵈ (one unit with
``forgive_last_digit``; ``tolerance`` overrides) of the exact value, or of the value recomputed
from the learner's own earlier answers when those were right. It is **carried** when it is right
only from the learner's earlier *wrong* answers (none of them trivial: 0, 1 or a copied given
number), and **wrong** otherwise, with every known mistake (grade/engine.py) that reproduces it.
Answers are written as the trace prints them: in the row view (weights_layout = "in_out") every
matrix transposed and every [row, column] entry swapped against the column view graded here
(grade/layout.py), and the report turned back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gradtrace.errors import SpecError
from gradtrace.grade import engine
from gradtrace.grade.answers import (
    Answer,
    AnswerSheet,
    as_decimal,
    parse_answers,
    with_conventions,
)
from gradtrace.grade.engine import Array, Network, Values
from gradtrace.grade.formula import first_difference, formula
from gradtrace.grade.given import (
    Given,
    Settings,
    matches,
    matches_transposed,
    nested,
    position,
    read_given,
    slice_of,
    written,
)
from gradtrace.grade.keys import check_keys, given_numbers, order_of, true_values
from gradtrace.grade.layout import column_view, row_view
from gradtrace.grade.report import Entry, GradeReport, Mistake, Status
from gradtrace.spec import Spec, load_spec
from gradtrace.trace.model import Step
from gradtrace.workflow import trace_spec


def grade(spec: Spec | str, answers: AnswerSheet | Mapping[str, Any] | Sequence[Answer], *,
          forgive_last_digit: bool = False, tolerance: float | None = None) -> GradeReport:
    """Grade ``answers`` (a sheet, an [answers]-style mapping, or Answers) on ``spec``'s steps."""
    if tolerance is not None and not (tolerance >= 0 and np.isfinite(tolerance)):
        raise SpecError(f"tolerance {tolerance} must be a finite number ≥ 0", field="--tolerance")
    sheet = _sheet(answers)
    spec = load_spec(spec) if isinstance(spec, str) else spec
    spec, layout = with_conventions(spec, sheet.conventions)
    rows = layout == "in_out"  # the learner writes the row view z = a W + b
    if rows:
        sheet = replace(sheet, answers=tuple(column_view(answer) for answer in sheet.answers))
    settings = Settings(forgive_last_digit, tolerance, rows=rows)
    trace = trace_spec(spec, steps=sheet.steps)
    net = network_of(spec)
    grouped = check_keys(sheet, trace.steps, rows=rows)
    entries: list[Entry] = []
    yours: dict[str, Array] = {}
    yours_taint: dict[str, frozenset[str]] = {}
    for step in trace.steps:
        entries += _grade_step(step, net, grouped.get(step.index + 1, {}), (yours, yours_taint),
                               settings, given_numbers(trace.steps[0]))
    report_settings = {"forgive_last_digit": forgive_last_digit, "tolerance": tolerance,
                       "steps": sheet.steps, "weights_layout": layout}
    if rows:
        entries = [row_view(entry) for entry in entries]
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

# ---- one step --------------------------------------------------------------------------------

def _grade_step(step: Step, net: Network, answers: Mapping[str, list[Answer]],
                yours: tuple[dict[str, Array], dict[str, frozenset[str]]], settings: Settings,
                copied: set[float]) -> list[Entry]:
    """Grade one step's answers in order, building the learner's own values as it goes.

    ``yours`` holds the learner's W_new/b_new of the previous step (this step's W and b) and
    their taint on entry, and this step's on return. Taint: the labels of the wrong answers a
    value rests on.
    """
    truth = true_values(step)
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
            entries.append(Entry(key, step.index + 1, None, "missing", expected=nested(exact),
                                 expected_from_yours=nested(from_yours)))
        value = (from_yours if from_yours is not None else exact).copy()
        wrong: set[str] = set()
        for answer in sorted(given, key=lambda a: a.index or ()):
            read = read_given(answer, exact, settings)
            if isinstance(read, str):
                entries.append(Entry(key, step.index + 1, answer.index, "invalid",
                                     given=written(answer.given), expected=nested(slice_of(exact, answer)),
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
    row, col = position(read.answer.index, value.shape)
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
        "given": given.written, "expected": nested(slice_of(exact, answer)),
        "expected_from_yours": None if from_yours is None else nested(slice_of(from_yours, answer)),
        "tolerance": float(given.tolerance.max()),
    }
    status: Status = "wrong"
    problem = None
    if not given.transposed and matches(given, exact):
        status = "correct"
    elif not given.transposed and matches(given, from_yours):
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
                             slice_of(exact, answer), given.tolerance.reshape(
                                 given.values.shape).T if given.transposed else given.tolerance)
    at = position(answer.index, exact.shape) if answer.index else tuple(i + 1 for i in where)
    return Entry(answer.key, answer.step, answer.index, "wrong", mistakes=mistakes,
                 problem=problem, formula=formula(answer.key, tuple(i - 1 for i in at),
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
    truth = sources[0][1].values.get(key)
    if given.transposed and truth is not None and matches_transposed(given, truth.T):
        # the right matrix written the other way round: rows for columns, whatever the quantity
        words = f"the right {key} written the other way round, its rows as columns"
        found[("transpose", words)] = Mistake(
            "transpose", engine.explain("transpose", words, key, net), "true")
    for source, values in sources:
        for variant in values.variants(key, net):
            if variant.mistake is None or (variant.mistake, variant.words) in found:
                continue
            if matches(given, variant.value) or (given.transposed and matches_transposed(
                    given, variant.value)):
                whose = "the true earlier values" if source == "true" else "your own earlier answers"
                text = engine.explain(variant.mistake, variant.words, key, net)
                found[(variant.mistake, variant.words)] = Mistake(
                    variant.mistake, f"{text} (this reproduces your answer from {whose})",
                    "true" if source == "true" else "yours")
    if not found:
        return (Mistake(engine.UNKNOWN, _SLIP.format(key=key), "none"),)
    return tuple(found.values())

_SLIP = ("no known mistake reproduces this {key}: most likely an arithmetic slip; redo it with "
         "the formula below, one product at a time")
