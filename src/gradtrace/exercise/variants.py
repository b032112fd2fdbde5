"""Variants handed out only when tested: each gradient-checks, and every catalogued mistake gives
a value that no other computation of the same quantity gives at the sheet's precision.

"Differs at d decimals" is max |u − v| > 10⁻ᵈ over the entries (or a different shape): an answer
written to d decimals lies within ½·10⁻ᵈ of the value it was worked from, so it then lies more
than ½·10⁻ᵈ from every other variant and the grader's diagnosis names one mistake only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from gradtrace.core.gradcheck import DEFAULT_STEP
from gradtrace.errors import GradtraceError
from gradtrace.exercise.generate import generate
from gradtrace.grade import engine
from gradtrace.grade.given import MIN_SIGNIFICANT
from gradtrace.grade.judge import network_of
from gradtrace.grade.keys import order_of, true_values
from gradtrace.spec import Spec, parse_spec
from gradtrace.workflow import check_spec, trace_spec

MAX_TRIES = 500  # candidate seeds per variant
SEED_RANGE = 1_000_000  # frozen seeds are short enough to read out


@dataclass(frozen=True)
class Variant:
    """One handed-out exercise: its number (from 1), frozen seed and validated spec mapping."""

    number: int
    seed: int
    data: dict[str, Any]

    @property
    def spec(self) -> Spec:
        return parse_spec(self.data, source=f"variant {self.number} (seed {self.seed})")


def ambiguity(spec: Spec, decimals: int) -> str | None:
    """Why ``spec`` is no fair exercise at ``decimals`` decimals, or None when it is.

    It must gradient-check; every nonzero entry of every quantity must show MIN_SIGNIFICANT
    significant figures at ``decimals`` decimals (as the grader asks of an answer); and on each
    quantity of the step the right value and every mistake's value (grade/engine.py) must
    differ pairwise at ``decimals`` decimals.
    """
    for comparison in check_spec(spec, DEFAULT_STEP):
        if not comparison.passes():
            return f"the gradient of {comparison.parameter} fails its check"
    step = trace_spec(spec, steps=1).steps[0]
    net = network_of(spec)
    truth = true_values(step)
    smallest = 10.0 ** (MIN_SIGNIFICANT - 1 - decimals)
    for key in order_of(step):
        if not engine.recomputable(key):
            continue
        tiny = [x for x in np.ravel(truth[key]) if 0 < abs(x) < smallest]
        if tiny:  # the grader wants MIN_SIGNIFICANT figures: d decimals would not hold them
            return (f"{key}: {tiny[0]:.2g} needs more than {decimals} decimals for "
                    f"{MIN_SIGNIFICANT} significant figures")
        variants = engine.compute(key, truth, net, mistakes=True)
        for first, second in combinations(variants, 2):
            if not _differ(first.value, second.value, decimals):
                return (f"{key}: {_name(first)} and {_name(second)} agree to {decimals} decimals")
    return None


def _differ(u: np.ndarray[Any, Any], v: np.ndarray[Any, Any], decimals: int) -> bool:
    if u.shape != v.shape:
        return True
    return bool(np.max(np.abs(u - v), initial=0.0) > 10.0 ** -decimals)


def _name(variant: engine.Variant) -> str:
    if variant.mistake is None:
        return "the right value"
    return f"mistake {variant.mistake}" + (f" ({variant.words})" if variant.words else "")


def make_variants(seed: int, count: int = 1, decimals: int = 4, sizes: Sequence[int] = (2, 2, 1),
                  activations: str | Sequence[str] = "sigmoid", loss: str = "half_sse"
                  ) -> list[Variant]:
    """``count`` distinct tested variants, deterministic in ``seed``.

    Variant k tries candidate seeds from ``default_rng([seed, k])`` in turn and freezes the first
    whose network passes ``ambiguity``; ``generate(frozen seed, ...)`` rebuilds it exactly.
    """
    found: list[Variant] = []
    for number in range(1, count + 1):
        rng = np.random.default_rng([seed, number])
        reason = "every candidate repeated an earlier variant"
        for _ in range(MAX_TRIES):
            candidate = int(rng.integers(SEED_RANGE))
            data = generate(candidate, sizes, activations, loss)
            if any(v.data["layers"] == data["layers"] and v.data["data"] == data["data"]
                   for v in found):
                continue  # variants differ
            variant = Variant(number, candidate, data)
            reason = ambiguity(variant.spec, decimals) or ""
            if not reason:
                found.append(variant)
                break
        else:
            raise GradtraceError(f"no variant {number} where every mistake gives its own value at "
                                 f"{decimals} decimals after {MAX_TRIES} tries (the last: {reason}); "
                                 "ask for more --decimals, other activations or another --seed")
    return found
