"""Published hand-worked examples, written in their own conventions, against their printed numbers.

Each number is compared at the precision the publication printed it (round(ours, k) == theirs):
where a book rounded as it went, exact arithmetic still lands on the printed digit, and a test
that fails here means gradtrace disagrees with the book.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradtrace.render import text as text_renderer
from gradtrace.render.options import RenderOptions
from gradtrace.spec import load_spec
from gradtrace.trace.model import Trace
from gradtrace.workflow import trace_spec


def _decimals(published: float) -> int:
    text = repr(published)
    return len(text.split(".")[1]) if "." in text else 0


def _assert_published(ours: float, published: float, what: str) -> None:
    """Equal at the printed precision; where the book rounded as it went, its own chain of
    rounded numbers gives the printed digit and ours is within one unit of it."""
    k = _decimals(published)
    if what in ROUNDED_AS_IT_WENT:
        assert round(ROUNDED_AS_IT_WENT[what], k) == published
        assert abs(ours - published) < 10.0**-k, f"{what}: {ours} vs the book's {published}"
        return
    assert round(ours, k) == published, f"{what}: {ours} vs the book's {published}"


@pytest.fixture(scope="module")
def hankamber() -> Trace:
    return trace_spec(load_spec("hankamber"))


# Han, Kamber & Pei, Data Mining: Concepts and Techniques, 3rd ed., Example 9.1.
# Its tables: the net input I_j and output O_j of each unit, the error Err_j, the new values.
HAN_KAMBER_FORWARD = {  # unit: (I_j, O_j)
    4: (-0.7, 0.332), 5: (0.1, 0.525), 6: (-0.105, 0.474),
}
HAN_KAMBER_ERRORS = {6: 0.1311, 5: -0.0065, 4: -0.0087}
# The book rounded as it went: Err_6 = O_6(1 − O_6)(T_6 − O_6) from the rounded O_6 = 0.474 is
# 0.474 · 0.526 · 0.526 = 0.13114 -> 0.1311; from the exact O_6 = 0.4738889 it is 0.13117 -> 0.1312.
ROUNDED_AS_IT_WENT = {"Err_6": 0.474 * (1 - 0.474) * (1 - 0.474)}
HAN_KAMBER_NEW_WEIGHTS = {  # (from unit i, to unit j): new w_ij
    (4, 6): -0.261, (5, 6): -0.138, (1, 4): 0.192, (1, 5): -0.306, (2, 4): 0.4, (2, 5): 0.1,
    (3, 4): -0.508, (3, 5): 0.194,
}
HAN_KAMBER_NEW_BIASES = {6: 0.218, 5: 0.194, 4: -0.408}
# units 1-3 are the inputs, 4-5 layer 1's units, 6 layer 2's: unit -> (layer, index from 0)
UNITS = {1: (0, 0), 2: (0, 1), 3: (0, 2), 4: (1, 0), 5: (1, 1), 6: (2, 0)}


def test_han_kamber_forward_pass(hankamber: Trace) -> None:
    step = hankamber.steps[0]
    for unit, (net_input, output) in HAN_KAMBER_FORWARD.items():
        layer, j = UNITS[unit]
        _assert_published(step.forward_of(layer).z[j, 0], net_input, f"I_{unit}")
        _assert_published(step.forward_of(layer).a[j, 0], output, f"O_{unit}")


def test_han_kamber_errors_are_minus_the_deltas(hankamber: Trace) -> None:
    quantities = {q.key: q for q in hankamber.steps[0].quantities()}
    for unit, published in HAN_KAMBER_ERRORS.items():
        layer, j = UNITS[unit]
        err = quantities[f"delta{layer}"]
        assert err.kind == "err"  # printed as Err, the book's name
        value = err.neuron[j].value
        assert isinstance(value, float)
        _assert_published(value, published, f"Err_{unit}")
        assert value == -hankamber.steps[0].backward_of(layer).delta[j, 0]


def test_han_kamber_updated_weights_and_biases(hankamber: Trace) -> None:
    step = hankamber.steps[0]
    for (i, j), published in HAN_KAMBER_NEW_WEIGHTS.items():
        (_, row), (layer, column) = UNITS[i], UNITS[j]
        # the trace stores W (n_out, n_in): w_ij is W[j, i] whatever layout the spec used
        _assert_published(step.update_of(layer).W_new[column, row], published, f"w_{i}{j}")
    for unit, published in HAN_KAMBER_NEW_BIASES.items():
        layer, j = UNITS[unit]
        _assert_published(step.update_of(layer).b_new[j, 0], published, f"θ_{unit}")


def test_han_kamber_prints_in_the_books_conventions(hankamber: Trace) -> None:
    text = text_renderer.render(hankamber, RenderOptions(view="both", width=200))
    assert "z1 = a0 W1 + b1" in text  # rows are inputs, as w_ij
    assert "Err2[1] = −∂C/∂a2[1]·a2[1]·(1 − a2[1])" in text  # O_6(1 − O_6)(T_6 − O_6)
    assert "−∂C/∂a2[1] = y[1] − a2[1]" in text
    assert "W2'[2,1] = W2[2,1] + η·Err2[1] a1[2]" in text  # w56 ← w56 + (l) Err_6 O_5
    assert "[0.2 −0.3; 0.4 0.1; −0.5 0.2]" in text  # W1 as the book's table of w_ij


def test_han_kamber_matches_the_gradient_convention_numbers() -> None:
    """The same network in the default conventions reaches the very same new weights."""
    spec = load_spec("hankamber")
    plain = spec.model_copy(update={"weights_layout": "out_in", "delta_convention": "gradient",
                                    "layers": [layer.model_copy(update={
                                        "weights": np.array(layer.weights).T.tolist()})
                                        for layer in spec.layers or []]})
    ours, theirs = trace_spec(spec), trace_spec(plain)
    for a, b in zip(ours.steps[0].update, theirs.steps[0].update, strict=True):
        np.testing.assert_array_equal(a.W_new, b.W_new)
        np.testing.assert_array_equal(a.b_new, b.b_new)


# Negnevitsky, Artificial Intelligence: A Guide to Intelligent Systems, 2nd ed., Section 6.4:
# the first iteration of XOR, input (1, 1), desired output 0, α = 0.1, four decimals throughout.
NEGNEVITSKY_OUTPUTS = {3: 0.5250, 4: 0.8808, 5: 0.5097}
NEGNEVITSKY_GRADIENTS = {5: -0.1274, 3: 0.0381, 4: -0.0147}  # the book's δ: our Err
NEGNEVITSKY_NEW_WEIGHTS = {(1, 3): 0.5038, (1, 4): 0.8985, (2, 3): 0.4038, (2, 4): 0.9985,
                           (3, 5): -1.2067, (4, 5): 1.0888}
NEGNEVITSKY_NEW_THRESHOLDS = {3: 0.7962, 4: -0.0985, 5: 0.3127}  # θ' = −b'
NEGNEVITSKY_UNITS = {1: (0, 0), 2: (0, 1), 3: (1, 0), 4: (1, 1), 5: (2, 0)}


def test_negnevitsky_first_iteration() -> None:
    trace = trace_spec(load_spec("negnevitsky"))
    step = trace.steps[0]
    assert step.batch_size == 1 and list(step.input[:, 0]) == [1.0, 1.0]  # the first pattern only
    quantities = {q.key: q for q in step.quantities()}
    for unit, published in NEGNEVITSKY_OUTPUTS.items():
        layer, j = NEGNEVITSKY_UNITS[unit]
        _assert_published(step.forward_of(layer).a[j, 0], published, f"y_{unit}")
    for unit, published in NEGNEVITSKY_GRADIENTS.items():
        layer, j = NEGNEVITSKY_UNITS[unit]
        value = quantities[f"delta{layer}"].neuron[j].value
        assert isinstance(value, float)
        _assert_published(value, published, f"δ_{unit}")
    for (i, j), published in NEGNEVITSKY_NEW_WEIGHTS.items():
        (_, row), (layer, column) = NEGNEVITSKY_UNITS[i], NEGNEVITSKY_UNITS[j]
        _assert_published(step.update_of(layer).W_new[column, row], published, f"w_{i}{j}")
    for unit, published in NEGNEVITSKY_NEW_THRESHOLDS.items():
        layer, j = NEGNEVITSKY_UNITS[unit]
        _assert_published(-step.update_of(layer).b_new[j, 0], published, f"θ_{unit}")


def test_negnevitsky_presents_the_patterns_one_at_a_time() -> None:
    spec = load_spec("negnevitsky").with_options({"steps": ("--steps", 4)})
    inputs = [tuple(step.input[:, 0]) for step in trace_spec(spec).steps]
    assert inputs == [(1.0, 1.0), (0.0, 1.0), (1.0, 0.0), (0.0, 0.0)]


# B. S. Kushwaha, "Understanding Neural Networks: Softmax, Cross-Entropy, and Backpropagation",
# PostNetwork Academy, Steps 1-5: a 3-2-2 sigmoid/softmax network, x = (1, 2, −1), y = [1, 0],
# the output layer written X·W. Three decimals, rounded as it goes (z3 is worked from a1 = 0.426).
POSTNETWORK_HIDDEN = {1: (-0.3, 0.426), 2: (0.0, 0.5)}  # unit: (z, a)
POSTNETWORK_Z3 = 0.428
# The page's slip: z4 = −0.1(0.426) + 0.2(0.5) + 0.1 = 0.1574, printed as 0.185; its softmax
# (0.561, 0.439) and loss 0.579 are worked from 0.185, so they disagree with the network.
POSTNETWORK_PRINTED_Z4 = 0.185
POSTNETWORK_PRINTED_SOFTMAX = (0.561, 0.439)
POSTNETWORK_PRINTED_LOSS = 0.579


@pytest.fixture(scope="module")
def postnetwork() -> Trace:
    return trace_spec(load_spec("postnetwork"))


def test_postnetwork_hidden_layer_and_z3_as_printed(postnetwork: Trace) -> None:
    step = postnetwork.steps[0]
    for unit, (net_input, output) in POSTNETWORK_HIDDEN.items():
        _assert_published(step.forward_of(1).z[unit - 1, 0], net_input, f"z({unit})")
        _assert_published(step.forward_of(1).a[unit - 1, 0], output, f"a({unit})")
    _assert_published(step.forward_of(2).z[0, 0], POSTNETWORK_Z3, "z(3)")


def test_postnetwork_z4_is_a_slip_of_the_page(postnetwork: Trace) -> None:
    """z4 = −0.1·0.426 + 0.2·0.5 + 0.1 = 0.1574: the printed 0.185 is wrong, exactly or rounded."""
    z4 = postnetwork.steps[0].forward_of(2).z[1, 0]
    assert round(z4, 3) == 0.157 != POSTNETWORK_PRINTED_Z4
    assert round(-0.1 * 0.426 + 0.2 * 0.5 + 0.1, 3) == 0.157  # from the page's own rounded a1
    rounded = trace_spec(load_spec("postnetwork").model_copy(update={"round": 3}))
    assert rounded.steps[0].forward_of(2).z[1, 0] == 0.157
    # what the page's softmax and loss would be without the slip
    a2 = postnetwork.steps[0].forward_of(2).a[:, 0]
    assert (round(a2[0], 3), round(a2[1], 3)) == (0.567, 0.433) != POSTNETWORK_PRINTED_SOFTMAX
    assert round(postnetwork.steps[0].cost, 3) == 0.567 != POSTNETWORK_PRINTED_LOSS


def test_grade_finds_the_pages_first_error() -> None:
    from decimal import Decimal

    from gradtrace.grade import grade

    printed = {"z1[1]": "-0.3", "z1[2]": "0", "a1[1]": "0.426", "a1[2]": "0.5", "z2[1]": "0.428",
               "z2[2]": str(POSTNETWORK_PRINTED_Z4), "a2[1]": "0.561", "a2[2]": "0.439",
               "cost": str(POSTNETWORK_PRINTED_LOSS)}
    report = grade("postnetwork", {key: Decimal(value) for key, value in printed.items()})
    statuses = {entry.label: entry.status for entry in report.entries}
    assert all(statuses[key] == "correct" for key in ("z1[1]", "z1[2]", "a1[1]", "a1[2]", "z2[1]"))
    assert report.first_error is not None and report.first_error.label == "z2[2]"
    assert report.exit_code == 1


def test_postnetwork_prints_the_x_w_layout(postnetwork: Trace) -> None:
    text = text_renderer.render(postnetwork, RenderOptions(view="both", width=200))
    assert "z2 = a1 W2 + b2" in text  # the page's z3 = w7 a1 + w9 a2 + b(2)
    assert "[0.3 −0.1; 0.4 0.2]" in text  # W2 as the page's (w7 w8; w9 w10)
