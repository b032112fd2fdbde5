"""The activation and loss registries: every entry complete and consistent with itself.

For each activation: numeric derivative = its own symbolic derivative evaluated on numbers (by the
independent evaluator in expr_eval) = central differences of its forward, at points away from its
kinks; its in-place forms = its plain ones. For each loss: gradient = central differences of the
cost, fused delta = the chain rule, cost from logits = cost of the activation, fast output step =
plain maths, symbolic formulas = numbers. Then target validation, in core, spec, CLI and web.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from expr_eval import evaluate
from gradtrace.core.activations import ACTIVATIONS, Activation, get_activation
from gradtrace.core.expr import Expr, Op, Sym, hadamard, mul, sym
from gradtrace.core.losses import LOSSES, Loss
from gradtrace.errors import SpecError
from gradtrace.render.math import LATEX_FUNCTIONS
from gradtrace.spec import parse_spec

H = 1e-6
POINTS = np.linspace(-4.0, 4.0, 57) + 0.0123  # off the grid of round numbers, so off the kinks
ELEMENTWISE = [name for name, entry in ACTIVATIONS.items() if entry.elementwise]
VARIANTS = [(name, {}) for name in ELEMENTWISE] + [
    ("leaky_relu", {"slope": 0.3}), ("leaky_relu", {"slope": -0.2}), ("elu", {"alpha": 0.5}),
    ("elu", {"alpha": -0.7}),
]


def _functions(expr: Expr) -> set[str]:
    if not isinstance(expr, Op):
        return set()
    own = {expr.fn} if expr.op == "call" and expr.fn is not None else set()
    return own.union(*(_functions(arg) for arg in expr.args))


def _away_from_kinks(entry: Activation, z: np.ndarray) -> np.ndarray:
    return z[np.all([np.abs(z - k) > 1e-3 for k in entry.kinks], axis=0)] if entry.kinks else z


# ---- activations --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_entry_is_complete(name: str) -> None:
    entry = ACTIVATIONS[name]
    assert entry.name == name and entry.symbol and entry.words
    assert entry.derivative_text.startswith(f"{entry.symbol}'(z) =") or not entry.elementwise
    z_sym = sym("z", 1, np.array([[0.5]]))
    formulas = [entry.formula(z_sym)]
    if entry.elementwise:
        assert entry.derivative_formula is not None
        formulas.append(entry.derivative_formula(z_sym, sym("a", 1, np.array([[0.3]])), hadamard))
    else:
        assert entry.jacobian_product is not None and entry.derivative_formula is None
    for function in set().union(*(_functions(f) for f in formulas)):
        assert function in LATEX_FUNCTIONS, f"{name}: no LaTeX for {function}"
    # the output range holds, and the fact "probabilities" says (0, 1)
    a = entry.forward(np.linspace(-30, 30, 601)[None, :])
    low, high = entry.output_range
    assert np.all(a >= low) and np.all(a <= high), name
    assert entry.probabilities == (entry.output_range == (0.0, 1.0))
    assert entry.fast == (entry.forward_in_place is not None and entry.derivative_times is not None)


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=str)
def test_derivative_numeric_symbolic_and_central_differences_agree(
    name: str, params: dict[str, float]
) -> None:
    entry = get_activation(name, **params)
    assert entry.derivative is not None and entry.derivative_formula is not None
    z = _away_from_kinks(entry, POINTS)[None, :]
    a = entry.forward(z)
    numeric = entry.derivative(z, a)
    central = (entry.forward(z + H) - entry.forward(z - H)) / (2 * H)
    np.testing.assert_allclose(numeric, central, rtol=1e-7, atol=1e-8)
    slope = params.get("slope", 0.01)
    for k in range(z.shape[1]):
        if name == "elu" and params:  # the evaluator knows α = 1 only; the numeric check covers α
            break
        z_k, a_k = sym("z", 1, float(z[0, k])), sym("a", 1, float(a[0, k]))
        symbolic = evaluate(entry.derivative_formula(z_k, a_k, mul), {1: slope})
        assert symbolic == pytest.approx(float(numeric[0, k]), rel=1e-12, abs=1e-14), (name, z[0, k])
        forward = evaluate(entry.formula(z_k), {1: slope})
        assert forward == pytest.approx(float(a[0, k]), rel=1e-12, abs=1e-14), (name, z[0, k])


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_in_place_forms_equal_the_plain_ones(name: str, params: dict[str, float], dtype: type) -> None:
    entry = get_activation(name, **params)
    if not entry.fast:
        pytest.skip(f"{name} has no in-place forms: it trains on the reference path")
    assert entry.forward_in_place is not None and entry.derivative_times is not None
    assert entry.derivative is not None
    z = np.concatenate([POINTS, [-1.0, 0.0, 1.0, 50.0, -50.0]]).astype(dtype).reshape(2, -1)
    work, mask = np.empty_like(z), np.empty(z.shape, np.bool_)
    a = z.copy()
    entry.forward_in_place(a, work, mask)
    # float32: σ by tanh vs by exp differ in the last bit, which 1 − a magnifies near a = 1
    tolerance = {"rtol": 1e-12, "atol": 1e-15} if dtype == np.float64 else {"rtol": 2e-5, "atol": 1e-6}
    np.testing.assert_allclose(a, entry.forward(z), **tolerance)
    assert a.dtype == dtype
    grad = np.linspace(-2, 2, z.size).astype(dtype).reshape(z.shape)
    expected = grad * entry.derivative(z, entry.forward(z))
    entry.derivative_times(z if entry.derivative_reads_z else a, grad, work, mask)
    np.testing.assert_allclose(grad, expected, **tolerance)


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(KeyError, match="alpha"):
        get_activation("relu", alpha=2.0)
    assert get_activation("elu", alpha=0.5).params == {"alpha": 0.5}
    assert get_activation("elu").forward(np.array([-50.0]))[0] == pytest.approx(-1.0)


# ---- losses -------------------------------------------------------------------------------------

def _targets(loss: Loss, rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    if loss.name == "cross_entropy":
        return rng.dirichlet(np.ones(n), size=m)
    if loss.name == "binary_cross_entropy":
        return rng.uniform(0, 1, (m, n))
    return rng.uniform(-1, 1, (m, n))


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_entry_is_complete_and_its_gradient_is_right(name: str) -> None:
    loss = LOSSES[name]
    assert loss.name == name and loss.words and loss.denominator(3, 2) > 0
    assert loss.classifier == loss.needs_probabilities
    rng = np.random.default_rng(1)
    m, n = 3, 4
    Y = _targets(loss, rng, m, n)
    a = rng.uniform(0.05, 0.95, (m, n))
    assert loss.target_problem(Y, "targets") is None
    gradient = loss.gradient(a, Y)
    central = np.zeros_like(a)
    for index in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[index] = H
        central[index] = (loss.cost(a + step, Y) - loss.cost(a - step, Y))[index[0]] / (2 * H)
    np.testing.assert_allclose(gradient, central, rtol=1e-6, atol=1e-8)
    # the trace's formulas, evaluated on numbers, give the same cost and gradient
    for s, k in itertools.product(range(m), range(n)):
        y_sym, a_sym = sym("y", None, float(Y[s, k])), sym("a", 2, float(a[s, k]))
        assert evaluate(loss.gradient_formula(y_sym, a_sym, n, mul)) == pytest.approx(
            float(gradient[s, k]), rel=1e-12)
    terms = [evaluate(loss.summand(sym("y", None, float(Y[s, k])), sym("a", 2, float(a[s, k])), mul))
             for s, k in itertools.product(range(m), range(n))]
    cost = math.fsum(terms) / loss.denominator(m, n) * (-1 if loss.negated else 1)
    assert cost == pytest.approx(float(loss.cost(a, Y).mean()), rel=1e-12)
    for function in set().union(*(_functions(loss.summand(y_sym, a_sym, mul)),
                                  _functions(loss.gradient_formula(y_sym, a_sym, n, mul)))):
        assert function in LATEX_FUNCTIONS, f"{name}: no LaTeX for {function}"


@pytest.mark.parametrize("name", list(LOSSES))
def test_fused_and_fast_forms_equal_the_chain_rule(name: str) -> None:
    loss = LOSSES[name]
    rng = np.random.default_rng(2)
    z = rng.uniform(-3, 3, (5, 3))
    Y = _targets(loss, rng, 5, 3)
    for activation_name, step in loss.fast_outputs.items():
        activation = ACTIVATIONS[activation_name]
        a = activation.forward(z)
        chain = activation.backward(z, a, loss.gradient(a, Y))
        out, delta, work, row = (np.empty_like(z), np.empty_like(z), np.empty_like(z),
                                 np.empty((5, 1)))
        total = step(z.copy(), out, Y, delta, work, row)
        np.testing.assert_allclose(out, a, rtol=1e-13)
        np.testing.assert_allclose(delta, chain, rtol=1e-9, atol=1e-12)
        assert float(total) == pytest.approx(float(loss.cost(a, Y).sum()), rel=1e-12)
    if loss.fused_activation is not None:
        assert loss.fused_delta is not None and loss.cost_from_logits is not None
        assert loss.fused_formula is not None and loss.fused_note
        activation = ACTIVATIONS[loss.fused_activation]
        a = activation.forward(z)
        np.testing.assert_allclose(loss.fused_delta(a, Y),
                                   activation.backward(z, a, loss.gradient(a, Y)), rtol=1e-9)
        np.testing.assert_allclose(loss.cost_from_logits(z, Y), loss.cost(a, Y), rtol=1e-12)
        assert evaluate(loss.fused_formula(sym("y", None, float(Y[0, 0])), sym("a", 2, float(a[0, 0])),
                                           3)) == pytest.approx(float(loss.fused_delta(a, Y)[0, 0]))


def test_mae_derivative_at_a_equal_y_is_zero_as_torch_sign() -> None:
    assert LOSSES["mae"].gradient(np.array([[0.5, 1.0]]), np.array([[0.5, 0.0]])).tolist() == [[0.0, 0.5]]


# ---- target validation --------------------------------------------------------------------------

def test_cross_entropy_targets_must_be_distributions() -> None:
    problem = LOSSES["cross_entropy"].target_problem
    assert problem(np.array([[1.0, 0.0], [0.3, 0.7]]), "targets") is None
    assert problem(np.array([[1.0, 0.0], [1.0, 0.0], [0.5, 0.4]]), "targets") == (
        "targets[2] sums to 0.9; cross_entropy needs each target row to sum to 1 (a probability "
        "distribution such as one-hot); normalise it, or use binary_cross_entropy for independent "
        "0/1 outputs")
    assert "targets[0][0] is 1.5" in str(problem(np.array([[1.5, -0.5]]), "targets"))
    assert problem(np.array([[1.0, 1e-7]]), "targets") is None  # within 1e-6


def test_binary_cross_entropy_targets_must_lie_in_the_unit_interval() -> None:
    problem = LOSSES["binary_cross_entropy"].target_problem
    assert problem(np.array([[0.0, 1.0], [0.25, 0.5]]), "y") is None
    assert problem(np.array([[0.0, 1.0], [0.25, 1.5]]), "y") == (
        "y[1][1] is 1.5; binary_cross_entropy needs every target in [0, 1] (a probability)")
    assert problem(np.array([2.0]), "y") == (
        "y[0] is 2; binary_cross_entropy needs every target in [0, 1] (a probability)")


def test_why_cross_entropy_targets_are_checked() -> None:
    """With rows not summing to 1, softmax's fused a − y is not the gradient of the cost."""
    z, Y = np.array([[0.2, -0.4]]), np.array([[0.5, 0.4]])
    a = ACTIVATIONS["softmax"].forward(z)
    fused = LOSSES["cross_entropy"].fused_delta(a, Y)  # type: ignore[misc]
    chain = ACTIVATIONS["softmax"].backward(z, a, LOSSES["cross_entropy"].gradient(a, Y))
    assert not np.allclose(fused, chain)


def _spec(loss: str, output: str, target: list[list[float]]) -> dict[str, object]:
    return {"loss": loss, "sizes": [2, 2], "activations": [output],
            "data": {"input": [[0.1, 0.2]] * len(target), "target": target}}


@pytest.mark.parametrize(("loss", "output", "target", "message"), [
    ("cross_entropy", "softmax", [[1, 0], [0.5, 0.4]], "data.target[1] sums to 0.9"),
    ("binary_cross_entropy", "sigmoid", [[0, 1], [1, 2]], "data.target[1][1] is 2"),
])
def test_the_spec_rejects_bad_targets_naming_the_row(
    loss: str, output: str, target: list[list[float]], message: str
) -> None:
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_spec(_spec(loss, output, target))
    parse_spec(_spec(loss, output, [[1.0, 0.0]] * len(target)))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src, "NO_COLOR": "1", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "gradtrace", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_cli_rejects_cross_entropy_targets_that_do_not_sum_to_one(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('loss = "cross_entropy"\nsizes = [2, 2]\nactivations = ["softmax"]\n'
                    "[data]\ninput = [[0.1, 0.2], [0.3, 0.4]]\ntarget = [[1, 0], [0.5, 0.4]]\n",
                    encoding="utf-8")
    result = _cli("check", str(path))
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert "data.target[1] sums to 0.9" in result.stderr and "bad.toml" in result.stderr


# ---- every new activation in every trace format --------------------------------------------------

NEW = ("elu", "gelu", "gelu_tanh", "silu", "softplus", "hardtanh")


@pytest.mark.parametrize("name", NEW)
def test_every_new_activation_renders_with_numbers_plugged_in(name: str, tmp_path: Path) -> None:
    spec = tmp_path / f"{name}.toml"
    spec.write_text(f'loss = "mae"\nsizes = [2, 2, 1]\nactivations = ["{name}", "{name}"]\nseed = 3\n'
                    "[data]\ninput = [0.3, -0.8]\ntarget = [0.2]\n", encoding="utf-8")
    entry = ACTIVATIONS[name]
    outputs = {}
    for fmt in ("text", "markdown", "latex", "html"):
        out = tmp_path / f"{name}.{fmt}"
        result = _cli("step", str(spec), "--format", fmt, "--view", "both", "-o", str(out))
        assert result.returncode == 0, result.stderr
        outputs[fmt] = out.read_text(encoding="utf-8")
    text = outputs["text"]
    assert f"a1 = {name}(z1)" in text
    assert any(line.strip().startswith(f"= {name}([") for line in text.splitlines())  # numbers in
    assert " ".join(entry.derivative_text.split()) in " ".join(text.split())  # wrapped at 120
    assert f"{entry.latex}\\left(z^{{(1)}}\\right)" in outputs["latex"]
    assert f"{entry.latex}\\left(\\begin{{bmatrix}}" in outputs["latex"]
    assert entry.latex in outputs["markdown"] and "mean absolute error" in outputs["markdown"]
    assert name in outputs["html"] and "<math" in outputs["html"]


def test_the_page_offers_every_entry() -> None:
    testclient = pytest.importorskip("fastapi.testclient")
    from gradtrace.web import create_app

    options = testclient.TestClient(create_app(), base_url="http://127.0.0.1").get("/api/options").json()
    assert set(options["activations"]) == set(ACTIVATIONS) >= set(NEW)
    assert set(options["losses"]) == set(LOSSES) >= {"mae"}


def test_trace_schema_names_every_entry() -> None:
    import json

    from gradtrace.trace import json as trace_json

    schema = json.loads(Path(trace_json.__file__).with_name("trace-1.schema.json").read_text("utf-8"))
    enums = [set(node["enum"]) for node in _walk(schema) if isinstance(node, dict) and "enum" in node]
    assert set(LOSSES) in enums and set(ACTIVATIONS) in enums


def _walk(node: object) -> list[object]:
    children: list[object] = []
    if isinstance(node, dict):
        children = list(node.values())
    elif isinstance(node, list):
        children = list(node)
    return [node, *[n for child in children for n in _walk(child)]]


def test_an_expression_from_core_is_the_trace_expression() -> None:
    from gradtrace.trace import expr as trace_expr

    assert trace_expr.Sym is Sym and trace_expr.hadamard is hadamard


def test_a_whole_coefficient_prints_as_a_whole_number() -> None:
    """mse with one output: dC/da = (2/1)(a − y) is printed 2(a − y), not "2/1"."""
    from gradtrace.render.math import MathStyle, render

    y, a = sym("y", None, 0.25), sym("a", 2, 0.75)
    gradient = LOSSES["mse"].gradient_formula(y, a, 1, mul)
    printed = render(gradient, MathStyle("text", False, 6, "textbook"))
    assert "2/1" not in printed and printed.startswith("2"), printed
    assert "2/3" in render(LOSSES["mse"].gradient_formula(y, a, 3, mul),
                           MathStyle("text", False, 6, "textbook"))


# ---- activation parameters: declared by the entry, set in a spec, recorded in the trace ----------

def _one_layer(activation: str, **fields: object) -> dict[str, object]:
    layer = {"weights": [[0.4, -0.9]], "bias": [-0.2], "activation": activation, **fields}
    return {"layers": [layer], "loss": "half_sse", "learning_rate": 0.5,
            "data": {"input": [[1.0, 0.5]], "target": [[0.25]]}}


def test_a_spec_sets_elus_alpha_and_the_trace_records_it(tmp_path: Path) -> None:
    from gradtrace.trace import json as trace_json
    from gradtrace.workflow import trace_spec

    spec = parse_spec(_one_layer("elu", alpha=0.5))
    z = 0.4 * 1.0 - 0.9 * 0.5 - 0.2  # −0.25: the negative side, where α matters
    from gradtrace.core.network import forward

    a = forward(spec.build_mlp(), np.array([[1.0, 0.5]])).a[-1]
    assert a[0, 0] == pytest.approx(0.5 * math.expm1(z), rel=1e-15)  # not α = 1's value
    trace = trace_spec(spec)
    assert dict(trace.network.layers[0].params) == {"alpha": 0.5}
    for schema in (1, 2):
        written = trace_json.to_dict(trace, version=schema)
        assert written["network"]["layers"][0]["params"] == {"alpha": 0.5}
        assert dict(trace_json.from_dict(written).network.layers[0].params) == {"alpha": 0.5}


def test_slope_works_as_before_and_is_recorded_both_ways() -> None:
    from gradtrace.trace import json as trace_json
    from gradtrace.workflow import trace_spec

    trace = trace_spec(parse_spec(_one_layer("leaky_relu", slope=0.3)))
    layer = trace_json.to_dict(trace)["network"]["layers"][0]
    assert layer["slope"] == 0.3 and layer["params"] == {"slope": 0.3}
    old = {**layer}
    del old["params"]  # a trace written before "params": its slope still comes back
    data = trace_json.to_dict(trace)
    data["network"]["layers"][0] = old
    assert dict(trace_json.from_dict(data).network.layers[0].params) == {"slope": 0.3}


@pytest.mark.parametrize(("fields", "message"), [
    ({"alpha": -1.0}, "layers[0]: alpha = -1 is outside elu's range [0, inf]"),
    ({"alhpa": 1.0}, "layers[0].alhpa: unknown field 'alhpa'"),
    ({"alpha": "big"}, "layers[0].params.alpha: Input should be a valid"),
    ({"alpha": True}, "layers[0].params.alpha: Input should be a valid"),
    ({"params": {"beta": 1.0}}, "layers[0]: beta is not a parameter here: activation elu takes alpha"),
    ({"slope": 0.2}, "layers[0]: slope is not a parameter here: activation elu takes alpha"),
])
def test_bad_activation_parameters_are_one_clear_error(fields: dict[str, object],
                                                       message: str) -> None:
    with pytest.raises(SpecError, match=re_escape(message)):
        parse_spec(_one_layer("elu", **fields))


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_a_parameter_on_an_activation_without_any_is_refused() -> None:
    with pytest.raises(SpecError, match="activation tanh takes no parameters"):
        parse_spec(_one_layer("tanh", params={"alpha": 1.0}))
    with pytest.raises(SpecError, match=re_escape("layers[0].alpha: unknown field 'alpha'")):
        parse_spec(_one_layer("tanh", alpha=1.0))


def test_a_saved_model_keeps_elus_alpha(tmp_path: Path) -> None:
    from gradtrace.network import Network

    net = Network.from_sizes([2, 3, 1], ["elu", "sigmoid"], "binary_cross_entropy", seed=0)
    net.mlp.layers[0].activation = get_activation("elu", alpha=0.25)
    loaded = Network.load(net.save(tmp_path / "m.npz"))
    assert loaded.mlp.layers[0].activation.params == {"alpha": 0.25}
    X = np.array([[-2.0, -1.0], [0.5, -3.0]])
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_the_notebook_cell_rebuilds_the_activation_with_its_parameters() -> None:
    from gradtrace.render.ipynb import render
    from gradtrace.render.options import RenderOptions
    from gradtrace.workflow import trace_spec

    notebook = render(trace_spec(parse_spec(_one_layer("elu", alpha=0.5))), RenderOptions())
    assert "get_activation('elu', alpha=0.5)" in notebook


def test_a_hidden_activation_that_is_not_elementwise_is_refused_by_its_fact(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the check reads the entry's `elementwise`, not the name softmax: a renamed copy is refused too
    import gradtrace.spec as spec_module

    copy = ACTIVATIONS["softmax"]
    monkeypatch.setitem(spec_module.ACTIVATIONS, "softmax2", copy)
    with pytest.raises(SpecError, match="softmax2 is only supported on the output layer"):
        parse_spec({"sizes": [2, 3, 2], "activations": ["softmax2", "softmax"], "seed": 1,
                    "loss": "cross_entropy", "data": {"input": [[1, 2]], "target": [[1, 0]]}})


@pytest.mark.parametrize("activation", [[], {"a": 1}, 3, None])
def test_a_malformed_activation_with_a_parameter_is_the_fields_error(activation: object) -> None:
    with pytest.raises(SpecError, match=re_escape("layers[0].activation")):
        parse_spec(_one_layer("elu", alpha=0.5) | {"layers": [
            {"weights": [[0.4, -0.9]], "activation": activation, "alpha": 0.5}]})
