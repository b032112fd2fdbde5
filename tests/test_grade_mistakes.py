"""Every mistake id is diagnosed: answers made with the mistake, on several networks.

Two sources of mistaken answers: (1) written out here with numpy, one function per mistake id,
from the trace's exact values (an oracle independent of grade/engine.py); (2) every variant the
engine itself produces with a mistake switched on, for every quantity of every network (the
diagnosis must find what the catalogue makes, after rounding to the learner's 6 decimals).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from gradtrace.grade import engine, grade
from gradtrace.grade.engine import MISTAKES
from gradtrace.grade.judge import network_of
from gradtrace.grade.keys import order_of, true_values
from gradtrace.spec import Spec, load_spec, parse_spec
from gradtrace.workflow import trace_spec

Array = np.ndarray

# A 2-2-2 tanh/sigmoid network whose biases train, on a batch of two samples, η = 0.3: the batch,
# bias and square-matrix mistakes all show here.
BATCH_SPEC = {
    "name": "batch", "loss": "half_sse", "learning_rate": 0.3, "train_biases": True,
    "data": {"input": [[0.5, -0.2], [0.1, 0.8]], "target": [[0.2, 0.7], [0.9, 0.1]]},
    "layers": [
        {"weights": [[0.3, -0.4], [0.2, 0.6]], "bias": [0.1, -0.1], "activation": "tanh"},
        {"weights": [[0.5, 0.1], [-0.3, 0.8]], "bias": [0.05, 0.0], "activation": "sigmoid"},
    ],
}
NETWORKS: dict[str, Callable[[], Spec]] = {
    "seed": lambda: load_spec("seed"),
    "mattmazur": lambda: load_spec("mattmazur"),
    "xor": lambda: load_spec("xor"),
    "softmax": lambda: load_spec("softmax"),
    "batch": lambda: parse_spec(BATCH_SPEC),
}
DECIMALS = 6


def written(value: Array | float) -> Any:
    """As a learner writes it, to DECIMALS places: a number, a list, or rows."""
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return Decimal(f"{float(array.reshape(())):.{DECIMALS}f}")
    if array.ndim == 2 and 1 in array.shape:
        return [Decimal(f"{x:.{DECIMALS}f}") for x in array.ravel()]
    return [[Decimal(f"{x:.{DECIMALS}f}") for x in row] for row in array]


def distinguishable(a: Array, b: Array) -> bool:
    return a.shape != b.shape or bool(np.any(np.abs(a - b) > 10.0 ** -DECIMALS))


def answers_up_to(spec: Spec, key: str, value: Array) -> dict[str, Any]:
    """Every quantity before ``key`` right (6 decimals), and ``key`` as given."""
    step = trace_spec(spec).steps[0]
    truth = true_values(step)
    keys = order_of(step)
    answers = {k: written(truth[k]) for k in keys[:keys.index(key)]}
    answers[key] = written(value)
    return answers


def diagnosed(spec: Spec, key: str, value: Array) -> list[str]:
    report = grade(spec, answers_up_to(spec, key, value))
    entry = next(e for e in report.entries if e.key == key and e.status != "missing")
    assert entry.status == "wrong", (key, entry)
    assert report.first_error is entry
    return [m.id for m in entry.mistakes]


# ---- (1) mistakes written out by hand --------------------------------------------------------

def _derivative(truth: dict[str, Array], l: int) -> Array:
    """σ'(z_l) as the trace used it: δ_l / (W_{l+1}ᵀ δ_{l+1}) (an exact ratio on these networks)."""
    return truth[f"delta{l}"] / (truth[f"W{l + 1}"].T @ truth[f"delta{l + 1}"])


Injection = Callable[[dict[str, Array], Spec], tuple[str, Array] | None]


def updated_weights(t: dict[str, Array], spec: Spec) -> tuple[str, Array]:
    return "delta1", (t["W2_new"].T @ t["delta2"]) * _derivative(t, 1)


def missing_derivative(t: dict[str, Array], spec: Spec) -> tuple[str, Array]:
    return "delta1", t["W2"].T @ t["delta2"]


def derivative_argument(t: dict[str, Array], spec: Spec) -> tuple[str, Array] | None:
    if spec.activation_names()[0] != "sigmoid":
        return None
    z = t["z1"]
    return "delta1", (t["W2"].T @ t["delta2"]) * z * (1 - z)  # a(1 − a) with z plugged in


def sign(t: dict[str, Array], spec: Spec) -> tuple[str, Array]:
    return "W1_new", t["W1"] + spec.learning_rate * t["grad_W1"]


def factor_two(t: dict[str, Array], spec: Spec) -> tuple[str, Array] | None:
    return ("cost", 2 * t["cost"]) if spec.loss == "half_sse" else None


def batch_sum(t: dict[str, Array], spec: Spec) -> tuple[str, Array] | None:
    m = t["a0"].shape[1]
    return ("grad_W1", t["delta1"] @ t["a0"].T) if m > 1 else None


def bias_not_updated(t: dict[str, Array], spec: Spec) -> tuple[str, Array] | None:
    return ("b1_new", t["b1"]) if spec.train_biases else None


def bias_updated(t: dict[str, Array], spec: Spec) -> tuple[str, Array] | None:
    if spec.train_biases:
        return None
    return "b1_new", t["b1"] - spec.learning_rate * t["delta1"].mean(axis=1, keepdims=True)


def transpose(t: dict[str, Array], spec: Spec) -> tuple[str, Array]:
    # grad_W1: a matrix (a vector written as a flat list reads the same either way round)
    return "grad_W1", t["grad_W1"].T


def learning_rate(t: dict[str, Array], spec: Spec) -> tuple[str, Array] | None:
    return None if spec.learning_rate == 1 else ("W2_new", t["W2"] - t["grad_W2"])


def wrong_activation_input(t: dict[str, Array], spec: Spec) -> tuple[str, Array] | None:
    m = t["a0"].shape[1]
    grad = t["delta1"] @ t["a1"].T / m
    return ("grad_W1", grad) if grad.shape == t["grad_W1"].shape else None


INJECTIONS: dict[str, Injection] = {
    "updated_weights": updated_weights, "missing_derivative": missing_derivative,
    "derivative_argument": derivative_argument, "sign": sign, "factor_two": factor_two,
    "batch_sum": batch_sum, "bias_not_updated": bias_not_updated, "bias_updated": bias_updated,
    "transpose": transpose, "learning_rate": learning_rate,
    "wrong_activation_input": wrong_activation_input,
}


def test_every_mistake_id_has_an_injection() -> None:
    assert set(INJECTIONS) == set(MISTAKES)


CASES = [(mistake, network) for mistake in INJECTIONS for network in NETWORKS]


@pytest.mark.parametrize(("mistake", "network"), CASES)
def test_hand_made_mistake_is_diagnosed(mistake: str, network: str) -> None:
    spec = NETWORKS[network]()
    truth = true_values(trace_spec(spec).steps[0])
    injected = INJECTIONS[mistake](truth, spec)
    if injected is None:
        pytest.skip(f"{mistake} cannot happen on {network}")
    key, value = injected
    if not distinguishable(value, truth[key]):
        pytest.skip(f"{mistake} gives the right {key} on {network}")
    assert mistake in diagnosed(spec, key, value)


def test_each_mistake_is_diagnosed_on_some_network() -> None:
    """The skips above must not hide a mistake id altogether."""
    covered = set()
    for mistake, network in CASES:
        spec = NETWORKS[network]()
        truth = true_values(trace_spec(spec).steps[0])
        injected = INJECTIONS[mistake](truth, spec)
        if injected is not None and distinguishable(injected[1], truth[injected[0]]):
            covered.add(mistake)
    assert covered == set(MISTAKES)


# ---- (2) every variant the engine makes ------------------------------------------------------

def engine_cases() -> list[tuple[str, str, str, int]]:
    cases = []
    for network, make in NETWORKS.items():
        spec = make()
        step = trace_spec(spec).steps[0]
        truth, net = true_values(step), network_of(spec)
        for key in order_of(step):
            if not engine.recomputable(key):
                continue
            variants = engine.compute(key, truth, net, mistakes=True)
            for n, variant in enumerate(variants[1:], start=1):
                assert variant.mistake in MISTAKES
                if distinguishable(variant.value, truth[key]):
                    cases.append((network, key, variant.mistake, n))
    return cases


@pytest.mark.parametrize(("network", "key", "mistake", "n"), engine_cases())
def test_engine_variant_is_diagnosed(network: str, key: str, mistake: str, n: int) -> None:
    spec = NETWORKS[network]()
    step = trace_spec(spec).steps[0]
    variant = engine.compute(key, true_values(step), network_of(spec), mistakes=True)[n]
    assert mistake in diagnosed(spec, key, variant.value)


def test_arithmetic_slip_is_unknown() -> None:
    spec = load_spec("seed")
    ids = diagnosed(spec, "delta1", np.array([[0.0031], [0.0077]]))
    assert ids == ["unknown"]
    report = grade(spec, answers_up_to(spec, "delta1", np.array([[0.0031], [0.0077]])))
    entry = next(e for e in report.entries if e.key == "delta1")
    assert entry.note == "delta1:unknown"
    assert "arithmetic slip" in entry.mistakes[0].explanation
    # the correct formula with the learner's own numbers: their δ2 = 0.036770, σ'(z1) from their a1
    assert entry.formula is not None
    assert "(0.3×0.03677) × 0.247264 = 0.00272757" in entry.formula


def test_updated_weights_note_and_explanation() -> None:
    spec = load_spec("seed")
    truth = true_values(trace_spec(spec).steps[0])
    report = grade(spec, answers_up_to(spec, "delta1", updated_weights(truth, spec)[1]))
    entry = next(e for e in report.entries if e.key == "delta1")
    assert entry.note == "delta1:updated_weights"
    assert "computed with W2 already updated" in entry.mistakes[0].explanation
    assert entry.formula is not None and "W2[k,1]" in entry.formula
