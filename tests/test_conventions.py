"""Hand-work conventions: batch_reduction, the sse loss, weights_layout, delta_convention, step's
batches and the warning for fields a command does not read.

Oracles: the mean engine scaled by m (sum), half_sse doubled (sse), the transposed spec (in_out),
and PyTorch autograd in float64 with reduction 'sum'.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import Case, cases
from gradtrace.core.backprop import train_step
from gradtrace.core.losses import get_loss
from gradtrace.core.network import backward, forward
from gradtrace.core.optimizers import SGD
from gradtrace.errors import SpecError
from gradtrace.render import text as text_renderer
from gradtrace.render.options import RenderOptions
from gradtrace.spec import load_spec, parse_spec, unread_fields
from gradtrace.trace import json as trace_json
from gradtrace.workflow import check_spec, trace_spec

SRC = Path(__file__).resolve().parents[1] / "src"
TOLERANCE = {"rtol": 1e-12, "atol": 1e-12}


def _grads(case: Case, reduction: str, loss: str | None = None) -> Any:
    mlp = case.mlp()
    mlp.batch_reduction = reduction  # type: ignore[assignment]
    if loss is not None:
        mlp.loss = get_loss(loss)
    return backward(mlp, forward(mlp, case.X), case.Y)


# ---- batch_reduction ----------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases())
def test_sum_reduction_is_m_times_the_mean(case: Case) -> None:
    mean, total = _grads(case, "mean"), _grads(case, "sum")
    m = case.X.shape[0]
    np.testing.assert_allclose(total.cost, m * mean.cost, **TOLERANCE)
    for l in range(1, len(case.weights) + 1):
        np.testing.assert_allclose(total.grad_W[l], m * mean.grad_W[l], **TOLERANCE)
        np.testing.assert_allclose(total.grad_b[l], m * mean.grad_b[l], **TOLERANCE)
        np.testing.assert_array_equal(total.delta[l], mean.delta[l])  # per sample: unchanged


# ---- the sse loss -------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases())
def test_sse_gradients_are_twice_half_sse(case: Case) -> None:
    half, full = _grads(case, "mean", "half_sse"), _grads(case, "mean", "sse")
    np.testing.assert_allclose(full.cost, 2 * half.cost, **TOLERANCE)
    for l in range(1, len(case.weights) + 1):
        np.testing.assert_allclose(full.grad_W[l], 2 * half.grad_W[l], **TOLERANCE)
        np.testing.assert_allclose(full.grad_b[l], 2 * half.grad_b[l], **TOLERANCE)


def test_sse_in_place_output_matches_the_reference_form() -> None:
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    a, delta, work, row = (np.empty_like(z), np.empty_like(z), np.empty_like(z), np.empty((4, 1)))
    loss = get_loss("sse")
    total = loss.fast_outputs["linear"](z.copy(), a, y, delta, work, row)
    np.testing.assert_allclose(total, loss.cost(z, y).sum(), **TOLERANCE)
    np.testing.assert_allclose(delta, loss.gradient(z, y), **TOLERANCE)


# ---- against PyTorch ----------------------------------------------------------------------------

torch = pytest.importorskip("torch")


def _torch_grads(case: Case, loss: str, reduction: str) -> tuple[float, list[Any], list[Any]]:
    """The definitions in torch: MSELoss(reduction='sum') is Σ over samples and units (sse, sum)."""
    W = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in case.weights]
    b = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in case.biases]
    a = torch.tensor(case.X, dtype=torch.float64)
    for W_l, b_l, name in zip(W, b, case.activations, strict=True):
        z = a @ W_l.T + b_l
        a = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "linear": lambda t: t}[name](z)
    y = torch.tensor(case.Y, dtype=torch.float64)
    if loss == "sse":
        cost = torch.nn.MSELoss(reduction="sum")(a, y)
        cost = cost if reduction == "sum" else cost / case.X.shape[0]
    else:
        per_sample = 0.5 * ((a - y) ** 2).sum(dim=1)
        cost = per_sample.sum() if reduction == "sum" else per_sample.mean()
    cost.backward()
    return cost.item(), [w.grad.numpy() for w in W], [v.grad.numpy() for v in b]


@pytest.mark.torch
@pytest.mark.parametrize("loss", ["sse", "half_sse"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reductions_and_sse_match_torch(loss: str, reduction: str) -> None:
    rng = np.random.default_rng(7)
    case = Case([rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (2, 4))],
                [rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 2)], ["tanh", "sigmoid"], [0.01, 0.01],
                loss, rng.uniform(-2, 2, (5, 3)), rng.uniform(0, 1, (5, 2)))
    ours = _grads(case, reduction)
    cost, grad_W, grad_b = _torch_grads(case, loss, reduction)
    np.testing.assert_allclose(ours.cost, cost, **TOLERANCE)
    for l in (1, 2):
        np.testing.assert_allclose(ours.grad_W[l], grad_W[l - 1], **TOLERANCE)
        np.testing.assert_allclose(ours.grad_b[l], grad_b[l - 1], **TOLERANCE)


# ---- specs --------------------------------------------------------------------------------------

def _spec(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "loss": "half_sse", "learning_rate": 0.5,
        "layers": [{"weights": [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]], "bias": [0.1, 0.2, 0.3]},
                   {"weights": [[0.7, -0.8, 0.9]], "bias": [0.4]}],
        "data": {"input": [[1.0, 0.5], [0.2, -1.0], [0.3, 0.3], [-0.5, 0.8]],
                 "target": [[1.0], [0.0], [1.0], [0.0]]},
    }
    data.update(fields)
    return data


def _transposed(spec: dict[str, Any]) -> dict[str, Any]:
    layers = [{**layer, "weights": np.array(layer["weights"]).T.tolist()} for layer in spec["layers"]]
    return {**spec, "layers": layers, "weights_layout": "in_out"}


def test_in_out_trace_equals_the_transposed_out_in_trace() -> None:
    out_in = trace_spec(parse_spec(_spec(steps=2)))
    in_out = trace_spec(parse_spec(_transposed(_spec(steps=2))))
    assert in_out.network.weights_layout == "in_out" and out_in.network.weights_layout == "out_in"
    for ours, theirs in zip(in_out.steps, out_in.steps, strict=True):
        for a, b in zip(ours.update, theirs.update, strict=True):
            np.testing.assert_array_equal(a.W_new, b.W_new)  # canonical (n_out, n_in) in both
        np.testing.assert_array_equal(ours.backward[0].delta, theirs.backward[0].delta)
    data = trace_json.to_dict(in_out)
    assert data["network"]["weights_layout"] == "in_out"
    assert np.shape(data["steps"][0]["update"][0]["W_old"]) == (3, 2)  # the JSON stays canonical


@pytest.mark.parametrize(("layout", "other"), [("out_in", "in_out"), ("in_out", "out_in")])
def test_weights_that_chain_only_in_the_other_layout_get_a_hint(layout: str, other: str) -> None:
    spec = _spec() if layout == "in_out" else _transposed(_spec())
    spec["weights_layout"] = layout
    with pytest.raises(SpecError, match=f'did you mean weights_layout = "{other}"'):
        parse_spec(spec)


def test_weights_that_chain_in_neither_layout_get_no_hint() -> None:
    spec = _spec()
    spec["layers"][1]["weights"] = [[0.7, -0.8]]
    with pytest.raises(SpecError) as error:
        parse_spec(spec)
    assert "did you mean" not in str(error.value)


@pytest.mark.parametrize("field", ["batch_reduction", "weights_layout", "delta_convention"])
def test_an_unknown_convention_is_one_clear_error(field: str) -> None:
    with pytest.raises(SpecError, match=field):
        parse_spec(_spec(**{field: "sideways"}))


def test_sum_reduction_is_recorded_and_printed() -> None:
    trace = trace_spec(parse_spec(_spec(batch_reduction="sum")))
    assert trace_json.to_dict(trace)["network"]["batch_reduction"] == "sum"
    assert trace_json.from_dict(trace_json.to_dict(trace)).network.batch_reduction == "sum"
    text = text_renderer.render(trace, RenderOptions(width=200))
    assert "batch_reduction sum" in text.splitlines()[0]
    mean = trace_spec(parse_spec(_spec()))
    np.testing.assert_allclose(trace.steps[0].cost, 4 * mean.steps[0].cost, rtol=1e-12)


def test_the_batch_mean_prints_as_its_own_factor_beside_half_sse() -> None:
    """C = 1/4·½·Σ(y − a2)², never C = 1/8·Σ(...): the 1/m and the ½ are two different things."""
    text = text_renderer.render(trace_spec(parse_spec(_spec())), RenderOptions(width=200))
    assert "C = 1/4·½·Σ((y − a2)²)" in text
    assert "1/8" not in text
    summed = text_renderer.render(trace_spec(parse_spec(_spec(batch_reduction="sum"))),
                                  RenderOptions(width=200))
    assert "C = ½·Σ((y − a2)²)" in summed
    assert "∂C/∂W2 = δ2 a1ᵀ" in summed and "∂C/∂W2 = 1/4·δ2 a1ᵀ" in text


def test_check_agrees_with_central_differences_under_the_sum() -> None:
    comparisons = check_spec(parse_spec(_spec(batch_reduction="sum", loss="sse")), 1e-6)
    assert all(c.passes() for c in comparisons)


# ---- step's batches -----------------------------------------------------------------------------

def test_step_takes_the_next_batch_in_order_wrapping_around() -> None:
    spec = parse_spec(_spec(steps=3, training={"batch_size": 3, "shuffle": False}))
    trace = trace_spec(spec)
    X, Y = spec.arrays()
    expected_rows = [[0, 1, 2], [3, 0, 1], [2, 3, 0]]
    mlp, optimizer = spec.build_mlp(), SGD(0.5)
    for step, rows in zip(trace.steps, expected_rows, strict=True):
        np.testing.assert_array_equal(step.input, X[rows].T)
        result = train_step(mlp, X[rows], Y[rows], optimizer)
        np.testing.assert_allclose(step.cost, result.cost, rtol=1e-15)
        np.testing.assert_array_equal(step.update[0].W_new, result.new[0][0])


def test_online_learning_is_batch_size_one() -> None:
    trace = trace_spec(parse_spec(_spec(steps=4, training={"batch_size": 1, "shuffle": False})))
    assert [s.batch_size for s in trace.steps] == [1, 1, 1, 1]
    assert [s.input[0, 0] for s in trace.steps] == [1.0, 0.2, 0.3, -0.5]


def test_without_batch_size_every_step_takes_all_the_data() -> None:
    trace = trace_spec(parse_spec(_spec(steps=2)))
    assert [s.batch_size for s in trace.steps] == [4, 4]


# ---- fields a command does not read -------------------------------------------------------------

def test_fields_a_command_does_not_read_are_named_in_one_line() -> None:
    spec = parse_spec(_spec(training={"epochs": 5, "batch_size": 2, "shuffle": True}))
    line = unread_fields(spec, "step")
    assert line is not None and "\n" not in line
    assert "training.epochs" in line and "training.shuffle" in line
    assert "training.batch_size" not in line  # step reads it
    assert unread_fields(parse_spec(_spec(training={"shuffle": False})), "step") is None
    assert unread_fields(parse_spec(_spec()), "step") is None


def test_step_cli_warns_on_stderr_and_still_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    import json
    path.write_text(json.dumps(_spec(training={"epochs": 3})), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-m", "gradtrace", "step", str(path)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0
    assert done.stderr.count("\n") == 1 and "training.epochs" in done.stderr
    assert "does not use" in done.stderr and "Traceback" not in done.stderr


def test_built_in_examples_load_with_every_convention_default() -> None:
    spec = load_spec("seed")
    assert (spec.batch_reduction, spec.weights_layout, spec.delta_convention) == (
        "mean", "out_in", "gradient")


# ---- printing: the row view, the error convention, net-out, the hidden ∂C/∂a ----------------------

def _text(spec: dict[str, Any], **options: Any) -> str:
    return text_renderer.render(trace_spec(parse_spec(spec)), RenderOptions(width=300, **options))


def test_in_out_prints_row_vectors_with_w_as_written() -> None:
    text = _text(_transposed(_spec()), view="both")
    assert "z1 = a0 W1 + b1" in text and "z2 = a1 W2 + b2" in text
    assert "[0.1 0.3 0.5; 0.2 −0.4 0.6]" in text  # W1 shown (n_in, n_out), as the spec wrote it
    assert "∂C/∂W1 = 1/4·a0ᵀ δ1" in text and "∂C/∂a1 = δ2 W2ᵀ" in text
    assert "W1[2,1] a0[1,2]" in text  # entry (input 2, output 1) of sample 1's second input
    column = _text(_spec(), view="both")
    assert "z1 = W1 a0 + b1" in column and "W1[1,2] a0[2,1]" in column


def test_in_out_latex_shows_the_transposed_matrices() -> None:
    from gradtrace.render import markdown

    trace = trace_spec(parse_spec(_transposed(_spec())))
    text = markdown.render(trace, RenderOptions())
    assert "a^{(0)} W^{(1)} + b^{(1)}" in text
    assert "\\begin{bmatrix} 0.1 & 0.3 & 0.5 \\\\ 0.2 & -0.4 & 0.6 \\end{bmatrix}" in text


def test_hidden_grad_a_has_its_own_line_before_delta_in_both_views() -> None:
    text = _text(_spec(), view="both")
    assert text.index("∂C/∂a1 = W2ᵀ δ2") < text.index("δ1 = ∂C/∂a1 ⊙ a1 ⊙ (1 − a1)")
    assert "∂C/∂a1[2,1] = W2[1,2] δ2[1,1]" in text
    keys = [q.key for q in trace_spec(parse_spec(_spec())).steps[0].quantities()]
    assert keys.index("grad_a1") == keys.index("delta1") - 1


def test_net_out_names_the_derivatives_too() -> None:
    text = _text(_spec(), notation="net-out")
    assert "∂C/∂out1 = W2ᵀ δ2" in text and "δ1 = ∂C/∂out1 ⊙ out1 ⊙ (1 − out1)" in text
    assert "∂C/∂a1" not in text and "∂C/∂a2" not in text


def test_error_convention_names_err_and_adds_eta_err_o() -> None:
    spec = _spec(delta_convention="error")
    text = _text(spec, view="both")
    assert "−∂C/∂a2 = y − a2" in text and "Err2 = −∂C/∂a2 ⊙ a2 ⊙ (1 − a2)" in text
    assert "−∂C/∂a1 = W2ᵀ Err2" in text and "Err1 = −∂C/∂a1 ⊙ a1 ⊙ (1 − a1)" in text
    assert "W1' = W1 + η·1/4·Err1 a0ᵀ" in text and "b2' = b2 + η·1/4·Σₛ(Err2)" in text
    assert "δ" not in text.split("── Backpropagation")[1]
    ours, theirs = trace_spec(parse_spec(spec)), trace_spec(parse_spec(_spec()))
    for a, b in zip(ours.steps[0].quantities(), theirs.steps[0].quantities(), strict=True):
        sign = -1.0 if a.kind in ("err", "err_a") else 1.0
        np.testing.assert_array_equal(np.asarray(a.matrix.value) * sign, np.asarray(b.matrix.value))
        for e, g in zip(a.neuron, b.neuron, strict=True):  # each entry the same number, signed
            assert e.value == pytest.approx(sign * g.value, abs=0.0)


def test_error_convention_equations_hold() -> None:
    """Every printed equation of the error view evaluates to its result (the names are honest)."""
    from expr_eval import evaluate

    for quantity in trace_spec(parse_spec(_spec(delta_convention="error"))).steps[0].quantities():
        for equation in quantity.neuron:  # scalars: the evaluator reads the leaves' values
            if equation.rhs is not None:
                assert isinstance(equation.value, float)
                assert evaluate(equation.rhs) == pytest.approx(equation.value, rel=1e-12, abs=1e-15)


def test_a_failing_step_prints_only_its_error(tmp_path: Path) -> None:
    import json
    spec = _spec(training={"epochs": 3})
    spec["data"]["input"][0][0] = 1e300  # (y − a)² overflows: a NumericalError after loading
    for layer in spec["layers"]:
        layer["activation"] = "linear"
    path = tmp_path / "net.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-m", "gradtrace", "step", str(path)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("gradtrace: error: ")


def test_train_is_told_it_does_not_apply_the_sum() -> None:
    """train's fast trainer takes the batch mean: a spec asking for the sum hears so."""
    line = unread_fields(parse_spec(_spec(batch_reduction="sum")), "train")
    assert line is not None and "batch_reduction" in line
    assert unread_fields(parse_spec(_spec()), "train") is None


def test_every_document_format_tells_the_row_view_and_the_error_convention() -> None:
    from gradtrace.render import html, latex, markdown

    trace = trace_spec(load_spec("hankamber"))
    for module in (markdown, latex, html):
        document = module.render(trace, RenderOptions())
        assert "z = a W + b" in document, module.__name__
        assert "θ + η Err O" in document or "\\theta" in document, module.__name__
