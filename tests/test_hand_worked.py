"""A hand-worked example, and the trace checked against the engine and its JSON schema.

Part 1 works Matt Mazur's well-known "step by step" example (built in as ``mattmazur``) out in the
comments, with his published numbers, and asserts the engine reproduces each of them.
Part 2 evaluates every neuron-view equation of the trace with a small evaluator written here, and
looks every number it mentions up in the engine's own arrays (old weights included: deltas must
use the weights from before the update). Part 3 validates the JSON against the shipped schema.
"""

from __future__ import annotations

import json
import math
import re

import jsonschema
import numpy as np
import pytest

from expr_eval import evaluate
from gradtrace.core.backprop import StepResult, train_step
from gradtrace.core.network import MLP
from gradtrace.core.optimizers import SGD
from gradtrace.errors import GradtraceError
from gradtrace.spec import example_names, load_spec, parse_spec
from gradtrace.trace.expr import Expr, Num, Op, Sym
from gradtrace.trace.json import SCHEMA, dumps, from_dict, schema, to_dict
from gradtrace.trace.model import Equation, Trace
from gradtrace.trace.record import trace_steps

MAZUR = 5e-9  # Mazur prints 8 or 9 decimals, so his numbers are within half a unit of the truth


# ---- part 1: Mazur's example by hand -----------------------------------------------------------
#
# Inputs i1 = 0.05, i2 = 0.10; targets 0.01, 0.99. Biases b1 = 0.35, b2 = 0.60 are fixed.
# W1 = [[w1, w2], [w3, w4]] = [[0.15, 0.20], [0.25, 0.30]]; W2 = [[w5, w6], [w7, w8]] =
# [[0.40, 0.45], [0.50, 0.55]]; η = 0.5; cost E = ½ Σ (target - out)².
#
# Forward pass
#   net_h1 = w1 i1 + w2 i2 + b1 = 0.15·0.05 + 0.20·0.10 + 0.35 = 0.3775
#   out_h1 = σ(0.3775) = 1 / (1 + e^-0.3775) = 0.593269992
#   net_h2 = w3 i1 + w4 i2 + b1 = 0.25·0.05 + 0.30·0.10 + 0.35 = 0.3925
#   out_h2 = σ(0.3925) = 0.596884378
#   net_o1 = w5 out_h1 + w6 out_h2 + b2 = 0.40·0.593269992 + 0.45·0.596884378 + 0.60 = 1.105905967
#   out_o1 = σ(1.105905967) = 0.75136507
#   net_o2 = w7 out_h1 + w8 out_h2 + b2 = 0.50·0.593269992 + 0.55·0.596884378 + 0.60 = 1.224921404
#   out_o2 = σ(1.224921404) = 0.772928465
# Cost
#   E_o1 = ½(0.01 - 0.75136507)² = 0.274811083
#   E_o2 = ½(0.99 - 0.772928465)² = 0.023560026
#   E_total = 0.298371109
# Output layer: δ_o = ∂E/∂out · ∂out/∂net = (out - target) · out (1 - out)
#   δ_o1 = (0.75136507 - 0.01) · 0.75136507 · (1 - 0.75136507) = 0.74136507 · 0.186815602
#        = 0.138498562
#   δ_o2 = (0.772928465 - 0.99) · 0.772928465 · 0.227071535 = -0.217071535 · 0.175510053
#        = -0.038098236
#   ∂E/∂w5 = δ_o1 out_h1 = 0.138498562 · 0.593269992 = 0.082167041
#   w5+ = 0.40 - 0.5 · 0.082167041 = 0.35891648
#   w6+ = 0.45 - 0.5 · δ_o1 out_h2 = 0.45 - 0.5 · 0.082667628 = 0.408666186
#   w7+ = 0.50 - 0.5 · δ_o2 out_h1 = 0.50 + 0.5 · 0.022602540 = 0.511301270
#   w8+ = 0.55 - 0.5 · δ_o2 out_h2 = 0.55 + 0.5 · 0.022740242 = 0.561370121
# Hidden layer, with the *old* w5..w8:
#   ∂E/∂out_h1 = δ_o1 w5 + δ_o2 w7 = 0.138498562·0.40 - 0.038098236·0.50 = 0.036350306
#   δ_h1 = 0.036350306 · out_h1 (1 - out_h1) = 0.036350306 · 0.241300709 = 0.008771354
#   ∂E/∂out_h2 = δ_o1 w6 + δ_o2 w8 = 0.138498562·0.45 - 0.038098236·0.55 = 0.041370323
#   δ_h2 = 0.041370323 · 0.240613417 = 0.009954254
#   w1+ = 0.15 - 0.5 · δ_h1 i1 = 0.15 - 0.5 · 0.000438568 = 0.149780716
#   w2+ = 0.20 - 0.5 · δ_h1 i2 = 0.20 - 0.5 · 0.000877135 = 0.19956143
#   w3+ = 0.25 - 0.5 · δ_h2 i1 = 0.25 - 0.5 · 0.000497713 = 0.24975114
#   w4+ = 0.30 - 0.5 · δ_h2 i2 = 0.30 - 0.5 · 0.000995425 = 0.29950229


@pytest.fixture(scope="module")
def mazur() -> StepResult:
    spec = load_spec("mattmazur")
    X, Y = spec.arrays()
    return train_step(spec.build_mlp(), X, Y, SGD(spec.learning_rate))


def test_mazur_forward_pass(mazur: StepResult) -> None:
    z1, a1, z2, a2 = mazur.forward.z[1], mazur.forward.a[1], mazur.forward.z[2], mazur.forward.a[2]
    assert z1 is not None and z2 is not None
    assert z1[0] == pytest.approx([0.3775, 0.3925], abs=1e-15)
    assert a1[0] == pytest.approx([0.593269992, 0.596884378], abs=MAZUR)
    assert z2[0] == pytest.approx([1.105905967, 1.224921404], abs=MAZUR)
    assert a2[0] == pytest.approx([0.75136507, 0.772928465], abs=MAZUR)
    # and at full precision, σ written out with math.exp
    assert a2[0, 0] == pytest.approx(1 / (1 + math.exp(-float(z2[0, 0]))), rel=1e-15)


def test_mazur_cost(mazur: StepResult) -> None:
    assert mazur.gradients.per_sample_cost[0] == pytest.approx(0.298371109, abs=MAZUR)
    assert mazur.cost == pytest.approx(0.274811083 + 0.023560026, abs=2 * MAZUR)


def test_mazur_deltas(mazur: StepResult) -> None:
    delta1, delta2 = mazur.gradients.delta[1], mazur.gradients.delta[2]
    assert delta1 is not None and delta2 is not None
    assert delta2[0] == pytest.approx([0.138498562, -0.038098236], abs=MAZUR)
    assert delta1[0] == pytest.approx([0.008771354, 0.009954254], abs=MAZUR)


def test_mazur_new_weights(mazur: StepResult) -> None:
    (W1, b1), (W2, b2) = mazur.new
    assert W2.ravel() == pytest.approx([0.35891648, 0.408666186, 0.511301270, 0.561370121],
                                       abs=MAZUR)
    assert W1.ravel() == pytest.approx([0.149780716, 0.19956143, 0.24975114, 0.29950229],
                                       abs=MAZUR)
    # the biases are fixed in Mazur's walk-through (train_biases = false)
    np.testing.assert_array_equal(b1, [0.35, 0.35])
    np.testing.assert_array_equal(b2, [0.60, 0.60])


# ---- part 2: the trace's equations against the engine ------------------------------------------

SPECS_BEYOND_EXAMPLES: dict[str, dict[str, object]] = {
    # softmax with half_sse: the output delta goes through the softmax Jacobian, neuron by neuron
    "softmax-sse": {
        "loss": "half_sse", "learning_rate": 0.3,
        "data": {"input": [[0.5, -1.0], [1.5, 0.2]], "target": [[1, 0, 0], [0, 0.5, 0.5]]},
        "layers": [{"weights": [[0.3, -0.2], [0.1, 0.4]], "bias": [0.1, -0.1],
                    "activation": "tanh"},
                   {"weights": [[0.5, -0.3], [0.2, 0.2], [-0.4, 0.6]], "activation": "softmax"}],
    },
    # leaky_relu with a slope, a linear output and mse over a batch of 3
    "leaky-mse": {
        "loss": "mse", "learning_rate": 0.1,
        "data": {"input": [[1, -2], [0.5, 0.5], [-1, 3]], "target": [[0.5, 1], [0, 0], [1, -1]]},
        "layers": [{"weights": [[0.4, 0.3], [-0.6, 0.2], [0.7, -0.1]], "bias": [0.05, 0.1, -0.2],
                    "activation": "leaky_relu", "slope": 0.2},
                   {"weights": [[0.3, -0.5, 0.2], [0.1, 0.4, -0.3]], "activation": "linear"}],
    },
    # relu hidden layer, sigmoid output with half_sse: grad_a then σ', biases training
    "relu-sigmoid": {
        "loss": "half_sse", "learning_rate": 1.0,
        "data": {"input": [[0.2, 0.9], [0.7, 0.1]], "target": [[1], [0]]},
        "layers": [{"weights": [[0.5, -0.4], [0.3, 0.8]], "bias": [0.1, -0.3],
                    "activation": "relu"},
                   {"weights": [[0.6, -0.7]], "bias": [0.2], "activation": "sigmoid"}],
    },
    # sigmoid outputs with cross_entropy (not fused) and binary cross-entropy on 2 outputs (fused)
    "ce-sigmoid": {
        "loss": "cross_entropy", "learning_rate": 0.5,
        "data": {"input": [1.0, -1.0], "target": [0.3, 0.7]},
        "layers": [{"weights": [[0.2, 0.4], [-0.5, 0.1]], "activation": "sigmoid"}],
    },
    "bce-two": {
        "loss": "binary_cross_entropy", "learning_rate": 0.5,
        "data": {"input": [[1.0, -1.0], [0.5, 0.5]], "target": [[0, 1], [1, 1]]},
        "layers": [{"weights": [[0.2, 0.4], [-0.5, 0.1]], "activation": "sigmoid"}],
    },
}

ALL_CASES = [*example_names(), *SPECS_BEYOND_EXAMPLES]


def _load(name: str) -> tuple[MLP, np.ndarray, np.ndarray, float]:
    spec = parse_spec(SPECS_BEYOND_EXAMPLES[name]) if name in SPECS_BEYOND_EXAMPLES else (
        load_spec(name)
    )
    X, Y = spec.arrays()
    return spec.build_mlp(), X, Y, spec.learning_rate


def _traced(name: str, steps: int) -> tuple[Trace, list[StepResult], MLP, np.ndarray]:
    """The trace of ``steps`` steps, and the same steps taken directly on the engine."""
    mlp, X, Y, learning_rate = _load(name)
    trace, _ = trace_steps(mlp, X, Y, SGD(learning_rate), steps)
    work, optimizer, results = mlp.copy(), SGD(learning_rate), []
    for _ in range(steps):
        results.append(train_step(work, X, Y, optimizer))
    return trace, results, mlp, Y


class Engine:
    """Looks up a trace symbol (kind, layer, 1-based index) in the engine's arrays of one step."""

    def __init__(self, result: StepResult, mlp: MLP, Y: np.ndarray, learning_rate: float) -> None:
        self.result, self.mlp, self.Y, self.eta = result, mlp, Y, learning_rate
        self.m = Y.shape[0]

    def _unit_sample(self, rows: np.ndarray, index: tuple[int, ...]) -> float:
        # rows is (m, n); the trace shows (unit,) for one sample, (unit, sample) for a batch
        unit, sample = (index[0], 1) if self.m == 1 else index
        assert len(index) == (1 if self.m == 1 else 2)
        return float(rows[sample - 1, unit - 1])

    def value(self, kind: str, layer: int | None, index: tuple[int, ...]) -> float:
        fwd, grads = self.result.forward, self.result.gradients
        if kind == "a":
            return self._unit_sample(fwd.a[layer], index)  # type: ignore[index]
        if kind == "z":
            return self._unit_sample(fwd.z[layer], index)  # type: ignore[arg-type,index]
        if kind == "y":
            return self._unit_sample(self.Y, index)
        if kind == "delta":
            return self._unit_sample(grads.delta[layer], index)  # type: ignore[arg-type,index]
        if kind == "grad_a" and layer is not None and layer < len(self.mlp.layers):
            # hidden: ∂C_s/∂a_l = δ_{l+1} W_{l+1} in rows, with W_{l+1} from before the update
            W_next = self.result.old[layer][0]
            return self._unit_sample(grads.delta[layer + 1] @ W_next, index)  # type: ignore[operator]
        if kind == "grad_a":
            return self._unit_sample(self.mlp.loss.gradient(fwd.a[-1], self.Y), index)
        assert layer is not None
        matrices = {
            "W": self.result.old[layer - 1][0], "W_new": self.result.new[layer - 1][0],
            "b": self.result.old[layer - 1][1], "b_new": self.result.new[layer - 1][1],
            "grad_W": grads.grad_W[layer], "grad_b": grads.grad_b[layer],
        }
        array = matrices[kind]
        assert array is not None
        return float(array[tuple(i - 1 for i in index)])


def _symbols(expr: Expr | None) -> list[Sym]:
    if expr is None or isinstance(expr, Num):
        return []
    if isinstance(expr, Sym):
        return [expr]
    return [s for arg in expr.args for s in _symbols(arg)]


def _check_equation(equation: Equation, engine: Engine, slopes: dict[int, float]) -> None:
    for symbol in [equation.lhs, *_symbols(equation.rhs)]:
        if symbol.kind == "eta":
            assert symbol.value == engine.eta
        elif symbol.kind == "C":
            assert symbol.value == pytest.approx(engine.result.cost, rel=1e-15)
        else:
            assert symbol.index is not None, symbol
            assert symbol.value == engine.value(symbol.kind, symbol.layer, symbol.index), symbol
    assert equation.value == equation.lhs.value
    if equation.rhs is not None:
        assert evaluate(equation.rhs, slopes) == pytest.approx(
            equation.value, rel=1e-12, abs=1e-15
        ), equation


@pytest.mark.parametrize("name", ALL_CASES)
def test_neuron_view_equations_hold_and_quote_the_engine(name: str) -> None:
    trace, results, mlp, Y = _traced(name, steps=3)
    slopes = {l: layer.activation.params.get("slope", 0.01)
              for l, layer in enumerate(mlp.layers, start=1)}
    for step, result in zip(trace.steps, results, strict=True):
        engine = Engine(result, mlp, Y, step.learning_rate)
        keys = [q.key for q in step.quantities()]
        L = len(mlp.layers)
        for expected in ("a0", "cost", *(f"{k}{l}" for l in range(1, L + 1)
                                          for k in ("z", "a", "delta", "grad_W", "grad_b"))):
            assert expected in keys
        for quantity in step.quantities():
            assert quantity.neuron, quantity.key
            for equation in quantity.neuron:
                _check_equation(equation, engine, slopes)


@pytest.mark.parametrize("name", ALL_CASES)
def test_matrix_view_values_are_the_engine_arrays(name: str) -> None:
    trace, results, _, _ = _traced(name, steps=2)
    for step, result in zip(trace.steps, results, strict=True):
        values = {q.key: q.matrix.value for q in step.quantities()}
        for l in range(1, len(result.new) + 1):
            np.testing.assert_array_equal(values[f"z{l}"], result.forward.z[l].T)  # type: ignore[union-attr]
            np.testing.assert_array_equal(values[f"a{l}"], result.forward.a[l].T)
            np.testing.assert_array_equal(values[f"delta{l}"], result.gradients.delta[l].T)  # type: ignore[union-attr]
            np.testing.assert_array_equal(values[f"grad_W{l}"], result.gradients.grad_W[l])  # type: ignore[arg-type]
            np.testing.assert_array_equal(values[f"W{l}_new"], result.new[l - 1][0])
            np.testing.assert_array_equal(
                np.asarray(values[f"b{l}_new"]).ravel(), result.new[l - 1][1]
            )
        assert values["cost"] == result.cost


def test_the_neuron_view_of_the_seed_reads_like_the_textbook() -> None:
    # z1[1] = 0.2·0.35 + 0.2·0.7 + 0 = 0.21, the issue's own example
    trace, _ = trace_steps(*_load("seed")[:3], SGD(1.0))
    z1 = next(q for q in trace.steps[0].quantities() if q.key == "z1")
    first = z1.neuron[0]
    assert first.lhs.index == (1,)
    rhs = first.rhs
    assert isinstance(rhs, Op) and rhs.op == "add"
    leaves = [s.value for s in _symbols(rhs)]
    assert leaves == [0.2, 0.35, 0.2, 0.7, 0.0]
    assert first.value == pytest.approx(0.21, abs=1e-15)


# ---- part 3: JSON --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    document = schema()
    cls = jsonschema.validators.validator_for(document)
    cls.check_schema(document)
    return cls(document)


@pytest.mark.parametrize("name", ALL_CASES)
@pytest.mark.parametrize("steps", [1, 3])
def test_trace_json_validates_and_round_trips(
    name: str, steps: int, validator: jsonschema.protocols.Validator
) -> None:
    trace, results, mlp, _ = _traced(name, steps)
    data = json.loads(dumps(trace))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert data["schema"] == SCHEMA == "gradtrace.trace/1"
    assert data["network"]["loss"] == mlp.loss.name
    assert [ly["inputs"] for ly in data["network"]["layers"]] == mlp.sizes[:-1]
    assert len(data["steps"]) == steps
    for index, (step, result) in enumerate(zip(data["steps"], results, strict=True)):
        assert step["index"] == index
        assert step["cost"] == result.cost  # full precision survives JSON
        assert [r["layer"] for r in step["backward"]] == list(range(len(mlp.layers), 0, -1))
        assert step["update"][-1]["W_new"] == result.new[-1][0].tolist()
    # without explanations too
    validator.validate(json.loads(dumps(trace, explanation=False)))
    # from_dict(to_dict(t)) is the same trace
    again = from_dict(to_dict(trace))
    assert to_dict(again) == to_dict(trace)
    assert again.steps[0].network == trace.steps[0].network


def test_from_dict_rejects_another_schema() -> None:
    trace, _, _, _ = _traced("seed", 1)
    data = to_dict(trace)
    data["schema"] = "gradtrace.trace/0"
    with pytest.raises(GradtraceError, match=re.escape("gradtrace.trace/1")):
        from_dict(data)
