"""Grading answers written in the row view (weights_layout = "in_out", z = a W + b, X·W).

A learner in an X·W course writes W_l with rows for inputs, a batch with rows for samples, and
W1_new[2,1] for input 2 -> unit 1. The same network in the two layouts, with answers written each
in its own view, must get the same verdicts and diagnoses; the report speaks the learner's view.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from gradtrace.errors import SpecError
from gradtrace.grade import grade
from gradtrace.grade.keys import order_of, true_values
from gradtrace.grade.report import GradeReport
from gradtrace.spec import Spec, parse_spec
from gradtrace.workflow import trace_spec
from test_grade_mistakes import BATCH_SPEC, INJECTIONS, distinguishable, written

Array = np.ndarray


def in_out(spec: dict[str, Any]) -> dict[str, Any]:
    """The same network written in the row view: every weight matrix transposed."""
    turned = copy.deepcopy(spec)
    turned["weights_layout"] = "in_out"
    for layer in turned["layers"]:
        layer["weights"] = np.asarray(layer["weights"]).T.tolist()
    return turned


COLUMNS = parse_spec(BATCH_SPEC)
ROWS = parse_spec(in_out(BATCH_SPEC))


def row_written(value: Array) -> Any:
    """As an X·W learner writes it: every matrix (weights, or a batch) transposed."""
    return written(np.asarray(value).T)


def answers(spec: Spec, key: str, value: Array, view: Any) -> dict[str, Any]:
    """Every quantity before ``key`` right, ``key`` as given, each written by ``view``."""
    truth = true_values(trace_spec(spec).steps[0])
    keys = order_of(trace_spec(spec).steps[0])
    out = {k: view(truth[k]) for k in keys[:keys.index(key)]}
    out[key] = view(value)
    return out


def verdicts(report: GradeReport) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(e.key, e.status, tuple(m.id for m in e.mistakes)) for e in report.entries]


def test_the_two_layouts_trace_the_same_network() -> None:
    columns, rows = (true_values(trace_spec(s).steps[0]) for s in (COLUMNS, ROWS))
    for key in columns:
        np.testing.assert_allclose(rows[key], columns[key], rtol=0, atol=1e-15)


@pytest.mark.parametrize("mistake", sorted(INJECTIONS))
def test_row_view_answers_get_the_verdicts_of_their_column_twins(mistake: str) -> None:
    truth = true_values(trace_spec(COLUMNS).steps[0])
    injected = INJECTIONS[mistake](truth, COLUMNS)
    if injected is None or not distinguishable(injected[1], truth[injected[0]]):
        pytest.skip(f"{mistake} cannot be told apart on this network")
    key, value = injected
    column_report = grade(COLUMNS, answers(COLUMNS, key, value, written))
    row_report = grade(ROWS, answers(ROWS, key, value, row_written))
    assert verdicts(row_report) == verdicts(column_report)
    assert mistake in verdicts(row_report)[[e.key for e in row_report.entries].index(key)][2]
    for column_entry, row_entry in zip(column_report.entries, row_report.entries, strict=True):
        # the report shows both the learner's numbers and ours as the learner writes them
        assert row_entry.expected == turned(column_entry.expected)
        assert row_entry.given == turned(column_entry.given)


def turned(value: Any) -> Any:
    """Rows of a nested list transposed; numbers and flat lists as they are."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [list(column) for column in zip(*value, strict=True)]
    return value


def test_a_whole_batch_written_with_rows_for_samples_is_correct() -> None:
    truth = true_values(trace_spec(ROWS).steps[0])
    report = grade(ROWS, {key: row_written(truth[key]) for key in ("z1", "a1", "W1_new")})
    assert report.first_error is None
    assert report.summary["correct"] == 3
    given = next(e for e in report.entries if e.key == "z1").given
    assert np.asarray(given, dtype=float).shape == (2, 2)  # samples as rows, as written


def test_an_entry_index_names_input_then_unit() -> None:
    truth = true_values(trace_spec(ROWS).steps[0])
    # W1_new[2,1] in the row view is input 2 -> unit 1: the column view's [1,2]
    right = Decimal(f"{truth['W1_new'][0, 1]:.6f}")
    other = Decimal(f"{truth['W1_new'][1, 0]:.6f}")
    assert right != other  # else the test could not tell the layouts apart
    report = grade(ROWS, {"W1_new[2,1]": right})
    entry = next(e for e in report.entries if e.status != "missing")
    assert (entry.status, entry.index, entry.label) == ("correct", (2, 1), "W1_new[2,1]")
    wrong = grade(ROWS, {"W1_new[2,1]": other})
    entry = next(e for e in wrong.entries if e.status != "missing")
    assert entry.status == "wrong" and entry.expected == pytest.approx(float(right), abs=1e-6)
    assert entry.formula is not None and "W1[2,1]" in entry.formula  # the learner's own index


def test_a_weight_matrix_copied_in_the_other_layout_is_a_transpose_mistake() -> None:
    truth = true_values(trace_spec(ROWS).steps[0])
    report = grade(ROWS, {"grad_W1": written(truth["grad_W1"])})  # column view, not the row view
    entry = next(e for e in report.entries if e.key == "grad_W1")
    assert entry.status == "wrong"
    assert [m.id for m in entry.mistakes] == ["transpose"]


def test_errors_name_the_shape_as_the_learner_writes_it() -> None:
    nnfs_like = in_out({**BATCH_SPEC, "layers": [
        {"weights": [[0.3, -0.4, 0.1], [0.2, 0.6, -0.5]], "bias": [0.1, -0.1],
         "activation": "tanh"},
        {"weights": [[0.5, 0.1]], "bias": [0.05], "activation": "sigmoid"}],
        "data": {"input": [[0.5, -0.2, 0.3], [0.1, 0.8, -0.4]], "target": [[0.2], [0.9]]}})
    spec = parse_spec(nnfs_like)  # W1 written as 3 inputs x 2 units
    with pytest.raises(SpecError, match=r"W1_new\[4,1\]: W1_new has shape \(3, 2\)"):
        grade(spec, {"W1_new[4,1]": Decimal("0.1")})
    report = grade(spec, {"W1_new": [[Decimal("0.1")] * 2] * 2})
    entry = next(e for e in report.entries if e.key == "W1_new")
    assert entry.status == "invalid"
    assert entry.problem is not None and "expected shape (3, 2): 3 rows of 2 numbers" in entry.problem
    # the other layout's shape is a transposed matrix: a mistake with a name, not a bad entry
    turned = grade(spec, {"W1_new": [[Decimal("0.1")] * 3] * 2})
    assert [e.status for e in turned.entries if e.key == "W1_new"] == ["wrong"]


def test_the_template_of_an_x_w_example_speaks_its_layout() -> None:
    from gradtrace.cli.grade import template_text
    from gradtrace.spec import load_spec

    text = template_text(load_spec("nnfs"), "nnfs")  # 4 inputs, 3 ReLU units, a batch of 3
    assert "# z1: 3 rows of 3; z1 = a0 W1 + b1" in text
    assert "# grad_W1: 4 rows of 3; ∂C/∂W1 = a0ᵀ δ1" in text
    assert "# W1_new: 4 rows of 3" in text


def test_the_learners_layout_never_turns_the_specs_own_weights_round() -> None:
    """The seed's W1 is square: read the other way round it would be another network. An answers
    file saying weights_layout = "in_out" is how the learner writes, not how the spec is read."""
    from gradtrace.grade.answers import parse_answers
    from gradtrace.spec import load_spec

    truth = true_values(trace_spec(load_spec("seed")).steps[0])  # the seed as written
    assert not np.allclose(truth["W1"], truth["W1"].T)  # else the test could not fail
    sheet = parse_answers({"spec": "seed", "weights_layout": "in_out", "answers": {
        "z1": written(truth["z1"]), "W1_new": row_written(truth["W1_new"]),
        "grad_W1[1,2]": written(truth["grad_W1"][1, 0])}})
    report = grade(sheet.load_spec(), sheet)
    assert report.summary["correct"] == 3 and report.first_error is None
    assert report.settings["weights_layout"] == "in_out"
    with pytest.raises(SpecError, match="did you mean 'in_out'"):
        grade("seed", parse_answers({"spec": "seed", "weights_layout": "in_outt",
                                     "answers": {"z1": [Decimal("0.21"), Decimal("0.315")]}}))


def test_an_x_w_spec_graded_in_the_column_view_as_the_page_prints_it(client: Any) -> None:
    spec = client.get("/api/examples/hankamber").json()  # X·W, a 3-2-1 network
    truth = true_values(trace_spec(parse_spec(spec)).steps[0])
    answers = {"W1_new": [[f"{x:.6f}" for x in row] for row in truth["W1_new"]]}  # 2 rows of 3
    reply = client.post("/api/grade", json={"spec": spec, "answers": answers,
                                            "weights_layout": "out_in"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["summary"]["correct"] == 1
    as_printed = client.post("/api/grade", json={"spec": spec, "answers": answers})
    entry = next(e for e in as_printed.json()["entries"] if e["key"] == "W1_new")
    assert entry["status"] == "wrong"  # in the X·W view these rows are turned round
    assert entry["note"] == "W1_new:transpose"


@pytest.mark.parametrize("name", ["hankamber", "nnfs", "postnetwork", "cs231n"])
def test_the_page_holds_an_x_w_example_as_the_same_network(client: Any, name: str) -> None:
    """/api/spec gives the page explicit (n_out, n_in) weights: read back, the same network."""
    from gradtrace.spec import load_spec

    reply = client.post("/api/spec", json=client.get(f"/api/examples/{name}").json())
    assert reply.status_code == 200, reply.text
    held = parse_spec(reply.json()["spec"])
    for ours, theirs in zip(held.build_mlp().layers, load_spec(name).build_mlp().layers,
                            strict=True):
        np.testing.assert_array_equal(ours.W, theirs.W)
        np.testing.assert_array_equal(ours.b, theirs.b)
