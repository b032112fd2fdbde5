"""gradtrace.grade: precision from written decimals, carried errors, invalid answers, the JSON.

Numbers are the seed example's (2-2-1 sigmoid, η = 1, biases fixed): z1 = [0.21, 0.315],
a1 = [0.552308, 0.578105], z2 = 0.685987, a2 = 0.665074, C = 0.0136247, δ2 = 0.0367703.
"""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

import gradtrace
from gradtrace.errors import SpecError
from gradtrace.grade import GradeReport, grade, parse_answers, read_answers
from gradtrace.grade.report import Entry


def entry(report: GradeReport, label: str) -> Entry:
    return next(e for e in report.entries if e.label == label)


def D(text: str) -> Decimal:
    return Decimal(text)


# ---- precision from the written decimals -----------------------------------------------------

def test_trailing_zero_counts_as_a_decimal() -> None:
    # a1[2] = 0.578105: "0.578" (±0.0005) is right, "0.5780" (±0.00005) is 0.000105 off
    assert entry(grade("seed", {"a1[2]": D("0.578")}), "a1[2]").status == "correct"
    assert entry(grade("seed", {"a1[2]": D("0.5780")}), "a1[2]").status == "wrong"
    assert entry(grade("seed", {"a1[2]": D("0.5781")}), "a1[2]").status == "correct"


def test_tolerance_is_half_a_unit_of_the_last_decimal() -> None:
    report = grade("seed", {"a1[2]": D("0.5781")})
    assert entry(report, "a1[2]").tolerance == pytest.approx(0.00005)
    assert entry(grade("seed", {"a1[2]": D("0.5782")}), "a1[2]").status == "wrong"


def test_forgive_last_digit_widens_to_one_unit() -> None:
    answers = {"a1[2]": D("0.5782")}  # 0.000095 off
    assert entry(grade("seed", answers, forgive_last_digit=True), "a1[2]").status == "correct"
    assert entry(grade("seed", {"a1[2]": D("0.5783")}, forgive_last_digit=True),
                 "a1[2]").status == "wrong"


def test_at_least_two_significant_figures() -> None:
    # "0" is within ±0.5 of z1[1] = 0.21, but carries no figure of it; "0.2" carries one
    assert entry(grade("seed", {"z1[1]": D("0")}), "z1[1]").status == "wrong"
    assert entry(grade("seed", {"z1[1]": D("0.2")}), "z1[1]").status == "wrong"
    assert entry(grade("seed", {"z1[1]": D("0.21")}), "z1[1]").status == "correct"
    assert entry(grade("seed", {"b1_new[1]": D("0")}), "b1_new[1]").status == "correct"


def test_tolerance_overrides_the_written_precision() -> None:
    assert entry(grade("seed", {"a1[2]": D("0.58")}, tolerance=1e-3), "a1[2]").status == "wrong"
    assert entry(grade("seed", {"a1[2]": D("0.5")}, tolerance=0.1), "a1[2]").status == "correct"
    with pytest.raises(SpecError, match="tolerance"):
        grade("seed", {"z1": [D("0.21"), D("0.315")]}, tolerance=float("nan"))


def test_right_from_own_rounded_answers_is_correct() -> None:
    # a1 to 2 places (right at that precision) gives z2 = 0.3·0.55 + 0.9·0.58 = 0.687, which is
    # 0.001 from the exact 0.685987: right from the learner's own correct, rounded a1
    report = grade("seed", {"a1": [D("0.55"), D("0.58")], "z2": D("0.687")})
    assert entry(report, "a1").status == "correct"
    assert entry(report, "z2").status == "correct"
    assert entry(report, "z2").expected_from_yours == pytest.approx(0.687)
    assert report.exit_code == 0


# ---- carried errors --------------------------------------------------------------------------

def test_error_carried_forward() -> None:
    # z1[1] = 0.25 is wrong (0.21); a1 = σ(0.25), σ(0.315) is right from it
    report = grade("seed", {"z1": [D("0.25"), D("0.315")], "a1": [D("0.5622"), D("0.5781")]})
    assert entry(report, "z1").status == "wrong"
    carried = entry(report, "a1")
    assert carried.status == "carried"
    assert carried.carried_from == ("z1",)
    assert carried.note == "a1:carried"
    assert report.first_error is entry(report, "z1")
    assert report.exit_code == 1


def test_carried_through_a_later_step() -> None:
    # mattmazur: W1_new[1,1] is wrong; step 2's z1 from that W1_new is carried from it
    from gradtrace.spec import load_spec
    from gradtrace.workflow import trace_spec

    trace = trace_spec(load_spec("mattmazur"), steps=2)
    W1_new = np.array(trace.steps[0].update_of(1).W_new)
    W1_new[0, 0] += 0.01
    b1 = np.array(trace.steps[1].update_of(1).b_old)
    z1 = W1_new @ np.array(trace.steps[1].input) + b1
    answers = {
        "W1_new": [[D(f"{x:.6f}") for x in row] for row in W1_new],
        "step2": {"z1": [D(f"{x:.6f}") for x in z1.ravel()]},
    }
    report = grade("mattmazur", answers)
    assert entry(report, "W1_new").status == "wrong"
    assert entry(report, "step2.z1").status == "carried"
    assert entry(report, "step2.z1").carried_from == ("W1_new",)


@pytest.mark.parametrize("z1", [["0", "0"], ["1", "1"], ["0.35", "0.7"]],
                         ids=["zeros", "ones", "copied input"])
def test_trivial_earlier_value_is_not_carried(z1: list[str]) -> None:
    sigmoid = [1 / (1 + np.exp(-float(z))) for z in z1]
    report = grade("seed", {"z1": [D(z) for z in z1], "a1": [D(f"{a:.4f}") for a in sigmoid]})
    a1 = entry(report, "a1")
    assert a1.status == "wrong"
    assert a1.problem is not None and "no error is carried forward" in a1.problem


# ---- missing and invalid ---------------------------------------------------------------------

def test_missing_entries_do_not_fail() -> None:
    report = grade("seed", {"z1": [D("0.21"), D("0.315")]})
    assert report.summary["missing"] == 16
    assert report.exit_code == 0
    assert entry(report, "delta1").note == "delta1:missing"


@pytest.mark.parametrize(("given", "problem"), [
    (["abc", D("0.3")], "entry [1] 'abc' cannot be read as a number"),
    ([D("0.1"), D("0.2"), D("0.3")], "has 3 numbers; expected a list of 2 numbers"),
    (D("0.1"), "is a single number; expected a list of 2 numbers"),
    (True, "cannot be read as a number"),
    ([[D("0.1")], [D("0.2"), D("0.3")]], "rows have different lengths"),
])
def test_invalid_answer_is_said_so(given: Any, problem: str) -> None:
    report = grade("seed", {"z1": given})
    z1 = entry(report, "z1")
    assert z1.status == "invalid" and z1.note == "z1:invalid"
    assert z1.problem is not None and problem in z1.problem
    assert report.summary["wrong"] == 0
    assert report.exit_code == 2


def test_unknown_key_names_the_closest() -> None:
    with pytest.raises(SpecError, match="unknown quantity key 'delta3'; did you mean 'delta2'"):
        grade("seed", {"delta3": D("0.1")})


def test_index_out_of_range_names_the_shape() -> None:
    with pytest.raises(SpecError, match=r"W1_new has shape \(2, 2\); its entries are "
                                        r"W1_new\[1..2, 1..2\]"):
        grade("seed", {"W1_new[3,1]": D("0.1")})


def test_string_numbers_keep_their_digits() -> None:
    assert entry(grade("seed", {"a1[2]": "0.5780"}), "a1[2]").status == "wrong"
    assert entry(grade("seed", {"a1[2]": "0.578"}), "a1[2]").status == "correct"


# ---- files and the public API ----------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml"])
def test_every_format_keeps_the_written_digits(tmp_path: Path, suffix: str) -> None:
    text = {
        ".toml": 'spec = "seed"\n[answers]\n"a1[2]" = 0.5780\n',
        ".json": '{"spec": "seed", "answers": {"a1[2]": 0.5780}}',
        ".yaml": 'spec: seed\nanswers:\n  "a1[2]": 0.5780\n',
    }[suffix]
    path = tmp_path / f"answers{suffix}"
    path.write_text(text, encoding="utf-8")
    sheet = read_answers(path)
    assert sheet.answers[0].given == Decimal("0.5780")
    assert entry(grade(sheet.load_spec(), sheet), "a1[2]").status == "wrong"


def test_spec_path_is_relative_to_the_answers_file(tmp_path: Path) -> None:
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "tiny.toml").write_text(
        '[data]\ninput = [1.0]\ntarget = [0.0]\n[[layers]]\nweights = [[0.5]]\nbias = [0.0]\n'
        'activation = "linear"\n', encoding="utf-8")
    (tmp_path / "nets" / "answers.toml").write_text(
        'spec = "tiny.toml"\n[answers]\nz1 = 0.5\n', encoding="utf-8")
    sheet = read_answers(tmp_path / "nets" / "answers.toml")
    assert grade(sheet.load_spec(), sheet).exit_code == 0


def test_inline_spec_table() -> None:
    sheet = parse_answers({"spec": {"data": {"input": [1.0], "target": [0.0]},
                                    "layers": [{"weights": [[0.5]], "activation": "linear"}]},
                           "answers": {"z1": D("0.5"), "cost": D("0.2")}})
    report = grade(sheet.load_spec(), sheet)
    # C = ½·0.5² = 0.125
    assert (entry(report, "z1").status, entry(report, "cost").status) == ("correct", "wrong")


def test_package_is_callable_as_the_function() -> None:
    report = gradtrace.grade("seed", {"z1": [D("0.21"), D("0.315")]})
    assert isinstance(report, GradeReport) and report.exit_code == 0


def schema() -> dict[str, Any]:
    text = resources.files("gradtrace.grade").joinpath("grade-1.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.mark.parametrize("answers", [
    {"z1": [D("0.21"), D("0.315")]},
    {"z1": [D("0.25"), D("0.315")], "a1": [D("0.5622"), D("0.5781")], "cost": D("0.5")},
    {"z1": ["x", D("0.315")], "W1_new[1,2]": D("0.1981")},
    {"grad_W1": [[D("0.00095"), D("0.0028")], [D("0.0019"), D("0.0056")]]},
], ids=["correct", "carried and wrong", "invalid and indexed", "transposed"])
def test_json_matches_the_shipped_schema(answers: dict[str, Any]) -> None:
    data = grade("seed", answers).to_dict()
    jsonschema.validate(data, schema())
    json.dumps(data, allow_nan=False)  # plain JSON: no NaN, no Decimal
    assert data["schema"] == "gradtrace.grade/1"
    assert data["spec"] == {"name": "seed"}


def test_json_first_error_and_notes() -> None:
    data = grade("seed", {"z1": [D("0.25"), D("0.315")],
                          "a1": [D("0.5622"), D("0.5781")]}).to_dict()
    assert data["first_error"] == "z1"
    assert data["summary"] == {"correct": 0, "carried": 1, "wrong": 1, "missing": 15,
                               "invalid": 0}
    notes = {e["key"]: e["note"] for e in data["entries"] if e["status"] != "missing"}
    assert notes == {"z1": "z1:unknown", "a1": "a1:carried"}


def test_transposed_matrix_is_the_transpose_mistake() -> None:
    # grad_W1 = [[0.000955, 0.00191], [0.002825, 0.00565]] written column by column
    report = grade("seed", {"grad_W1": [[D("0.00095"), D("0.0028")], [D("0.0019"), D("0.0056")]]})
    grad = entry(report, "grad_W1")
    assert grad.status == "wrong"
    assert "transpose" in [m.id for m in grad.mistakes]


# ---- the keys, read from the step records --------------------------------------------------

@pytest.mark.parametrize("optimizer", [{"name": "sgd"}, {"name": "momentum"}, {"name": "adam"}])
@pytest.mark.parametrize("example", ["seed", "xor", "softmax"])
def test_keys_and_values_are_the_traces(example: str, optimizer: dict[str, str]) -> None:
    from gradtrace.grade.keys import exact_values
    from gradtrace.spec import load_spec
    from gradtrace.workflow import trace_spec

    spec = load_spec(example).with_options({"optimizer.name": ("--optimizer", optimizer["name"])})
    for step in trace_spec(spec, steps=2).steps:
        quantities = step.quantities()[1:]  # a0 is given, not an answer
        values = exact_values(step)
        assert list(values) == [q.key for q in quantities]
        for quantity in quantities:
            np.testing.assert_array_equal(values[quantity.key],
                                          np.asarray(quantity.matrix.value, dtype=np.float64))


def test_momentum_update_is_graded_against_the_exact_value() -> None:
    from gradtrace.spec import load_spec

    spec = load_spec("seed").with_options({"optimizer.name": ("--optimizer", "momentum")})
    report = grade(spec, {"velocity_W2": [D("0.0203"), D("0.0213")],
                          "W2_new": [D("0.2797"), D("0.8787")], "W1_new[1,1]": D("0.5")})
    # in the trace's order: layer 1's update first; velocity has no recomputation, only its value
    graded = [(e.label, e.status) for e in report.entries if e.status != "missing"]
    assert graded == [("W1_new[1,1]", "wrong"), ("velocity_W2", "correct"), ("W2_new", "correct")]


# ---- conventions other branches add to the spec (the engine reads them) ---------------------

def _batch_network(**conventions: Any) -> tuple[Any, dict[str, Any]]:
    from dataclasses import replace

    from gradtrace.grade.judge import network_of
    from gradtrace.grade.keys import true_values
    from gradtrace.spec import parse_spec
    from gradtrace.workflow import trace_spec

    spec = parse_spec({"learning_rate": 0.5, "data": {"input": [[1.0, 2.0], [0.5, -1.0]],
                                                     "target": [[0.0], [1.0]]},
                       "layers": [{"weights": [[0.1, 0.2], [0.3, -0.1]], "activation": "tanh"},
                                  {"weights": [[0.4, 0.6]], "activation": "sigmoid"}]})
    return replace(network_of(spec), **conventions), true_values(trace_spec(spec).steps[0])


def test_sum_reduction_sums_the_batch() -> None:
    from gradtrace.grade import engine

    net, truth = _batch_network(batch_reduction="sum")
    variants = engine.compute("grad_W1", truth, net, mistakes=True)
    np.testing.assert_allclose(variants[0].value, 2 * truth["grad_W1"])
    mean = [v for v in variants if v.mistake == "batch_sum"]
    assert mean[0].words == "the mean taken instead of the sum"
    np.testing.assert_allclose(mean[0].value, truth["grad_W1"])
    np.testing.assert_allclose(engine.compute("cost", truth, net)[0].value, 2 * truth["cost"])


def test_error_convention_negates_delta_not_the_gradient() -> None:
    from gradtrace.grade import engine

    net, truth = _batch_network(delta_sign=-1.0)
    # as the error view prints them: Err = −δ, and −∂C/∂a where ∂C/∂a is a key
    error = dict(truth, delta2=-truth["delta2"], delta1=-truth["delta1"],
                 **{key: -truth[key] for key in ("grad_a2", "grad_a1") if key in truth})
    if "grad_a2" in truth:
        np.testing.assert_allclose(engine.compute("grad_a2", error, net)[0].value, -truth["grad_a2"])
    np.testing.assert_allclose(engine.compute("grad_a1", error, net)[0].value,
                               -(truth["W2"].T @ truth["delta2"]))
    np.testing.assert_allclose(engine.compute("delta2", error, net)[0].value, -truth["delta2"])
    np.testing.assert_allclose(engine.compute("delta1", error, net)[0].value, -truth["delta1"])
    np.testing.assert_allclose(engine.compute("grad_W1", error, net)[0].value, truth["grad_W1"])
    sign = [v for v in engine.compute("delta2", error, net, mistakes=True) if v.mistake == "sign"]
    np.testing.assert_allclose(sign[0].value, truth["delta2"])


def test_hidden_grad_a_backpropagates_through_the_old_weights() -> None:
    # grad_a1 (∂C/∂a of a hidden layer) is a trace key where the trace records it
    from gradtrace.grade import engine

    net, truth = _batch_network()
    grad = engine.compute("grad_a1", truth, net, mistakes=True)
    np.testing.assert_allclose(grad[0].value, truth["W2"].T @ truth["delta2"])
    updated = [v for v in grad if v.mistake == "updated_weights"]
    np.testing.assert_allclose(updated[0].value, truth["W2_new"].T @ truth["delta2"])
    assert engine.inputs("grad_a1", net) == ("W2", "delta2")
