"""Variants handed out only when tested: each gradient-checks, and every catalogued mistake gives
a value that no other computation of the same quantity gives at the sheet's precision.

"Differs at d decimals" is max |u − v| > 10⁻ᵈ over the entries (or a different shape): an answer
written to d decimals lies within ½·10⁻ᵈ of the value it was worked from, so it then lies more
than ½·10⁻ᵈ from every other variant and the grader's diagnosis names one mistake only.

A mistake whose value equals the right value *exactly* on a variant is no mistake there (relu′ = 1
for z > 0, so leaving it out of δ changes nothing): it is left out of that variant's catalogue
(``Variant.excluded``, printed in the key), and only the remaining mistakes must differ. The
grader agrees: an answer within tolerance of the right value is "correct" before any diagnosis.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from gradtrace.core.gradcheck import DEFAULT_STEP
from gradtrace.errors import GradtraceError, SpecError
from gradtrace.exercise.generate import generate, with_conventions
from gradtrace.grade import engine
from gradtrace.grade.given import MIN_SIGNIFICANT
from gradtrace.grade.judge import network_of
from gradtrace.grade.keys import order_of, true_values
from gradtrace.spec import Spec, parse_spec
from gradtrace.workflow import check_spec, trace_spec

MAX_TRIES = 500  # candidate seeds per variant
SEED_RANGE = 1_000_000  # frozen seeds are short enough to read out
GRADIENTS = ("grad_a", "delta", "grad_W", "grad_b")


@dataclass(frozen=True)
class Variant:
    """One handed-out exercise: its number (from 1), frozen seed and validated spec mapping, and
    per quantity key the mistakes left out because they give the right value exactly."""

    number: int
    seed: int
    data: dict[str, Any]
    excluded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def spec(self) -> Spec:
        return parse_spec(self.data, source=f"variant {self.number} (seed {self.seed})")


def ambiguity(spec: Spec, decimals: int) -> str | None:
    """Why ``spec`` is no fair exercise at ``decimals`` decimals, or None when it is.

    It must gradient-check; no gradient (∂C/∂a, δ, ∂C/∂W, ∂C/∂b) may be all zeros (a relu output
    at z < 0 zeroes them all: nothing left to work out); every nonzero entry of every quantity
    must show MIN_SIGNIFICANT significant figures at ``decimals`` decimals (as the grader asks of
    an answer); and on each quantity of the step the right value and every mistake's value
    (grade/engine.py) must differ pairwise at ``decimals`` decimals, leaving out the mistakes
    that give the right value exactly (``excluded``).
    """
    for comparison in check_spec(spec, DEFAULT_STEP):
        if not comparison.passes():
            return f"the gradient of {comparison.parameter} fails its check"
    smallest = 10.0 ** (MIN_SIGNIFICANT - 1 - decimals)
    for key, right, variants in _catalogue(spec):
        if engine.parse_key(key)[0] in GRADIENTS and not np.any(right):  # a dead unit
            return f"{key} is all zeros, so no mistake on it could be seen"
        tiny = [x for x in np.ravel(right) if 0 < abs(x) < smallest]
        if tiny:  # the grader wants MIN_SIGNIFICANT figures: d decimals would not hold them
            return (f"{key}: {tiny[0]:.2g} needs more than {decimals} decimals for "
                    f"{MIN_SIGNIFICANT} significant figures")
        kept = [variants[0], *(v for v in variants[1:] if not _right(v, right, variants[0]))]
        for first, second in combinations(kept, 2):
            if not _differ(first.value, second.value, decimals):
                return (f"{key}: {_name(first)} and {_name(second)} agree to {decimals} decimals")
    return None


def excluded(spec: Spec) -> dict[str, tuple[str, ...]]:
    """Quantity key -> the mistakes (ids, once each) whose value is exactly the right value."""
    found: dict[str, tuple[str, ...]] = {}
    for key, right, variants in _catalogue(spec):
        same = [v.mistake for v in variants[1:] if v.mistake and _right(v, right, variants[0])]
        if same:
            found[key] = tuple(dict.fromkeys(same))
    return found


def _catalogue(spec: Spec) -> Iterator[tuple[str, np.ndarray[Any, Any], list[engine.Variant]]]:
    """(key, right value, the right value's and every mistake's variant) per recomputable key."""
    step = trace_spec(spec, steps=1).steps[0]
    net = network_of(spec)
    truth = true_values(step)
    for key in order_of(step):
        if engine.recomputable(key):
            yield key, truth[key], engine.compute(key, truth, net, mistakes=True)


def _right(variant: engine.Variant, right: np.ndarray[Any, Any], recomputed: engine.Variant
           ) -> bool:
    """Whether a mistake gives the right value exactly: the step's, or (with hand rounding, where
    the step's value is rounded) the engine's own right value from the same inputs."""
    return _same(variant.value, right) or _same(variant.value, recomputed.value)


def _same(u: np.ndarray[Any, Any], v: np.ndarray[Any, Any]) -> bool:
    return u.shape == v.shape and bool(np.array_equal(u, v))


def _differ(u: np.ndarray[Any, Any], v: np.ndarray[Any, Any], decimals: int) -> bool:
    if u.shape != v.shape:
        return True
    return bool(np.max(np.abs(u - v), initial=0.0) > 10.0 ** -decimals)


def _name(variant: engine.Variant) -> str:
    if variant.mistake is None:
        return "the right value"
    return f"mistake {variant.mistake}" + (f" ({variant.words})" if variant.words else "")


def make_variants(seed: int, count: int = 1, decimals: int = 4, sizes: Sequence[int] = (2, 2, 1),
                  activations: str | Sequence[str] = "sigmoid", loss: str = "half_sse", *,
                  conventions: Mapping[str, str | int | None] | None = None,
                  budget: float | None = None) -> list[Variant]:
    """``count`` distinct tested variants, deterministic in ``seed``.

    Variant k tries candidate seeds from ``default_rng([seed, k])`` in turn and freezes the first
    whose network passes ``ambiguity`` in ``conventions``; ``generate(frozen seed, ...,
    conventions=...)`` rebuilds it exactly. ``budget``: seconds to search before giving up (a
    server's reply time); what is found does not depend on it, only how soon a search fails.
    """
    found: list[Variant] = []
    deadline = None if budget is None else time.monotonic() + budget
    for number in range(1, count + 1):
        rng = np.random.default_rng([seed, number])
        reason = "every candidate repeated an earlier variant"
        for tries in range(MAX_TRIES):
            if deadline is not None and time.monotonic() > deadline:
                raise GradtraceError(
                    f"no variant {number} where every mistake gives its own value at {decimals} "
                    f"decimals within {budget:g} s ({tries} tries; the last: {reason}); ask for "
                    "more --decimals, other activations or another --seed")
            candidate = int(rng.integers(SEED_RANGE))
            data = generate(candidate, sizes, activations, loss, conventions=conventions)
            if any(v.data["layers"] == data["layers"] and v.data["data"] == data["data"]
                   for v in found):
                continue  # variants differ
            variant = Variant(number, candidate, data)
            reason = ambiguity(variant.spec, decimals) or ""
            if not reason:
                found.append(Variant(number, candidate, data, excluded(variant.spec)))
                break
        else:
            raise GradtraceError(f"no variant {number} where every mistake gives its own value at "
                                 f"{decimals} decimals after {MAX_TRIES} tries (the last: {reason}); "
                                 "ask for more --decimals, other activations or another --seed")
    return found


def given_variant(spec: Spec, decimals: int,
                  conventions: Mapping[str, str | int | None] | None = None) -> Variant:
    """A given spec as the one variant (in ``conventions``), when it is a fair exercise; a
    SpecError saying why not otherwise."""
    data = with_conventions(spec, conventions or {})
    variant = Variant(1, spec.seed or 0, data)
    reason = ambiguity(variant.spec, decimals)
    if reason is not None:
        raise SpecError(f"not an unambiguous exercise at {decimals} decimals: {reason}; try more "
                        "--decimals or other numbers", source=spec.source)
    return Variant(1, variant.seed, data, excluded(variant.spec))
