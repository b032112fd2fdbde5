"""`gradtrace step` explains momentum, Adam and weight decay: each update equation holds, quotes
the recorded numbers, and lands on the engine's new weights."""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from typing import Any

import numpy as np
import pytest

from expr_eval import evaluate
from gradtrace.render.options import RenderOptions
from gradtrace.render.text import render
from gradtrace.spec import parse_spec
from gradtrace.trace.model import Step
from gradtrace.workflow import trace_spec


def seed_with(optimizer: dict[str, Any], batch: bool = False) -> dict[str, Any]:
    text = resources.files("gradtrace.examples").joinpath("seed.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data["optimizer"] = optimizer
    data["train_biases"] = True
    data["learning_rate"] = 0.5
    if batch:
        data["data"] = {"input": [[0.35, 0.7], [0.1, -0.4], [0.9, 0.2]], "target": [[0.5], [0.1], [0.9]]}
    return data


OPTIMIZERS = [
    {"name": "momentum", "momentum": 0.9},
    {"name": "adam", "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-8},
    {"name": "sgd", "weight_decay": 0.1},
    {"name": "momentum", "momentum": 0.5, "weight_decay": 0.01},
]


def _update_equations(step: Step) -> list[Any]:
    return [eq for q in step.quantities() if q.phase == "update" for eq in q.neuron]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: "-".join(map(str, o.values())))
@pytest.mark.parametrize("batch", [False, True])
def test_every_update_equation_holds(optimizer: dict[str, Any], batch: bool) -> None:
    trace = trace_spec(parse_spec(seed_with(optimizer, batch)), steps=3)
    for step in trace.steps:
        equations = _update_equations(step)
        assert equations
        for equation in equations:
            assert equation.rhs is not None
            assert evaluate(equation.rhs) == pytest.approx(equation.value, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: "-".join(map(str, o.values())))
def test_new_weights_quoted_are_the_engines(optimizer: dict[str, Any]) -> None:
    trace = trace_spec(parse_spec(seed_with(optimizer)), steps=3)
    for step in trace.steps:
        values = {q.key: q.matrix.value for q in step.quantities()}
        for record in step.update:
            np.testing.assert_array_equal(values[f"W{record.layer}_new"], record.W_new)
            np.testing.assert_array_equal(values[f"b{record.layer}_new"], record.b_new)


def test_momentum_velocity_carries_over_between_steps() -> None:
    trace = trace_spec(parse_spec(seed_with({"name": "momentum", "momentum": 0.9})), steps=2)
    first, second = (dict((q.key, q) for q in step.quantities()) for step in trace.steps)
    v1 = np.asarray(first["velocity_W2"].matrix.value)
    np.testing.assert_array_equal(v1, trace.steps[0].backward_of(2).grad_W)  # v starts at 0
    old_in_second = second["velocity_W2"].matrix.rhs.args[0].args[1]  # type: ignore[union-attr]
    np.testing.assert_array_equal(np.asarray(old_in_second.value), v1)


def test_adam_bias_correction_uses_the_step_count() -> None:
    trace = trace_spec(parse_spec(seed_with({"name": "adam", "beta1": 0.9})), steps=3)
    quantities = {q.key: q for q in trace.steps[2].quantities()}
    m_hat = quantities["mhat_W1"]
    assert m_hat.matrix.note == "bias correction at step t = 3"
    m = np.asarray(quantities["m_W1"].matrix.value)
    np.testing.assert_allclose(np.asarray(m_hat.matrix.value), m / (1 - 0.9**3), rtol=1e-15)


def test_text_shows_the_optimiser_formulas() -> None:
    trace = trace_spec(parse_spec(seed_with({"name": "adam"})), steps=1)
    text = render(trace, RenderOptions(width=200))
    assert "m_W1 = β1 m_W1 + (1 − β1)·∂C/∂W1" in text
    assert "W1' = W1 − η·m̂_W1 / (√(v̂_W1) + ε)" in text
    assert "optimiser adam" in text


def test_batch_gradients_are_written_as_the_mean_of_per_sample_terms() -> None:
    trace = trace_spec(parse_spec(seed_with({"name": "sgd"}, batch=True)))
    text = render(trace, RenderOptions(view="neuron", width=300))
    line = next(x for x in text.splitlines() if x.startswith("∂C/∂W2[1,1] ="))
    assert "1/3·(δ2[1,1] a1[1,1] + δ2[1,2] a1[1,2] + δ2[1,3] a1[1,3])" in line
    assert math.isclose(float(line.rsplit("= ", 1)[1].replace("−", "-")),
                        float(trace.steps[0].backward_of(2).grad_W[0, 0]), rel_tol=1e-5)
