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
from gradtrace.trace.model import Step, Trace
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


# numpy prints at most 8 decimals and drops trailing zeros (0.450166 is 0.45016600), so a number
# a notebook printed is compared at 8 decimals, whatever its repr
NUMPY_DECIMALS = 8


def _assert_printed_by_numpy(ours: np.ndarray, printed: object, what: str) -> None:
    np.testing.assert_array_equal(np.round(ours, NUMPY_DECIMALS), np.asarray(printed, dtype=float),
                                  err_msg=f"{what}: gradtrace disagrees with the printed numbers")


# Kinsley & Kukieła, Neural Networks from Scratch in Python (2020), Chapter 9 "Backpropagation":
# a dense layer of 3 ReLU neurons, a batch of 3 samples, "We'll minimize ReLU's output", sums over
# the batch (dweights = np.dot(inputs.T, drelu), dbiases = np.sum(drelu, axis=0)), η = 0.001.
# The book prints, after `print(weights)` and `print(biases)`:
#   [[ 0.179515   0.5003665 -0.262746 ]
#    [ 0.742093  -0.9152577 -0.2758402]
#    [-0.510153   0.2529017  0.1629592]
#    [ 0.971328  -0.5021842  0.8636583]]
#   [[1.98489  2.997739 0.497389]]
NNFS_NEW_WEIGHTS = [  # the book's layout: rows are inputs, columns neurons (X·W)
    [0.179515, 0.5003665, -0.262746],
    [0.742093, -0.9152577, -0.2758402],
    [-0.510153, 0.2529017, 0.1629592],
    [0.971328, -0.5021842, 0.8636583],
]
NNFS_NEW_BIASES = [1.98489, 2.997739, 0.497389]


@pytest.fixture(scope="module")
def nnfs() -> Trace:
    return trace_spec(load_spec("nnfs"))


def test_nnfs_new_weights_and_biases(nnfs: Trace) -> None:
    step = nnfs.steps[0]
    assert step.batch_size == 3  # the three samples in one step, not one at a time
    # the trace stores W (n_out, n_in); the book's weights are its transpose
    _assert_printed_by_numpy(step.update_of(1).W_new.T, NNFS_NEW_WEIGHTS, "weights")
    _assert_printed_by_numpy(step.update_of(1).b_new[:, 0], NNFS_NEW_BIASES, "biases")


def test_nnfs_gradient_is_the_books_passed_in_relu_output(nnfs: Trace) -> None:
    """The book's dvalues = relu_outputs: half_sse with zero targets has ∂C/∂a = a exactly, and
    ReLU zeroes the one negative z (sample 2, neuron 2: z = −1.81) in δ."""
    step = nnfs.steps[0]
    a = step.forward_of(1).a
    backward = step.backward_of(1)
    assert backward.grad_a is not None
    np.testing.assert_array_equal(backward.grad_a, a)
    assert step.forward_of(1).z[1, 1] < 0 and backward.delta[1, 1] == 0.0
    np.testing.assert_array_equal(backward.grad_b[:, 0], backward.delta.sum(axis=1))


def test_nnfs_needs_the_sum_over_the_batch() -> None:
    """With the batch mean (the default) the new weights are not the book's: its gradients are sums."""
    spec = load_spec("nnfs")
    mean = trace_spec(spec.model_copy(update={"batch_reduction": "mean"})).steps[0]
    ours = np.round(mean.update_of(1).W_new.T, NUMPY_DECIMALS)
    assert not np.array_equal(ours, np.asarray(NNFS_NEW_WEIGHTS))
    np.testing.assert_allclose(
        trace_spec(spec).steps[0].backward_of(1).grad_W, 3 * mean.backward_of(1).grad_W, rtol=1e-12)


def test_nnfs_prints_the_books_conventions(nnfs: Trace) -> None:
    text = text_renderer.render(nnfs, RenderOptions(view="both", width=200))
    assert "z1 = a0 W1 + b1" in text  # np.dot(inputs, weights) + biases
    assert "the sum over the batch of each sample's aᵀ δ" in text  # np.dot(inputs.T, drelu)
    assert "relu'(z) = 1 if z > 0 else 0" in text  # drelu[layer_outputs <= 0] = 0
    assert "W1'[2,1] = W1[2,1] − η ∂C/∂W1[2,1] = 0.8 − 0.001·57.907 = 0.742093" in text


def test_grade_on_the_books_numbers_finds_no_error() -> None:
    from decimal import Decimal

    from gradtrace.grade import grade

    answers = {"b1_new": [Decimal(str(value)) for value in NNFS_NEW_BIASES]}
    report = grade("nnfs", answers)
    assert [entry.status for entry in report.entries if entry.given is not None] == ["correct"]
    assert report.first_error is None


def test_grade_reads_the_books_weights_in_its_own_layout() -> None:
    from decimal import Decimal

    from gradtrace.grade import grade

    answers = {"W1_new": [[Decimal(str(v)) for v in row] for row in NNFS_NEW_WEIGHTS],
               "W1_new[2,1]": Decimal("0.742093")}  # `step nnfs` prints W1'[2,1] = ... = 0.742093
    report = grade("nnfs", answers)
    assert report.first_error is None


# Jakubak, IntroML, notebook "Mini-Batch Example", "Epoch 1, Mini-batch 0": one sigmoid unit,
# binary cross-entropy, 3 samples averaged, alpha = 0.1. The notebook prints:
#   Z0: [[ 0.1 -0.1 -0.2]]
#   A0: [[0.52497919 0.47502081 0.450166  ]]
#   grad_A_L0: [[ 0.70172364 -0.70172364  0.60624358]]
#   dA0dZ0: [[0.24937604 0.24937604 0.24751657]]
#   grad_Z_L0: [[ 0.17499306 -0.17499306  0.15005533]]
#   grad_W_L: [[ 0.42522827 -0.67546349]]
#   grad_b_L: [[0.15005533]]
#   W: [[0.05747717 0.16754635]]
#   b: [[0.18499447]]
# and, for "Epoch 1, Mini-batch 1" (X1 = [[1, -1], [-2, 2]], Y1 = [[1, 1]]) from those W and b:
#   Z1: [[-0.09262106  0.46260999]]
#   A1: [[0.47686127 0.61363316]]
INTROML = {
    "Z0": [0.1, -0.1, -0.2], "A0": [0.52497919, 0.47502081, 0.450166],
    "grad_A_L0": [0.70172364, -0.70172364, 0.60624358], "dA0dZ0": [0.24937604, 0.24937604, 0.24751657],
    "grad_Z_L0": [0.17499306, -0.17499306, 0.15005533], "grad_W_L": [0.42522827, -0.67546349],
    "grad_b_L": [0.15005533], "W": [0.05747717, 0.16754635], "b": [0.18499447],
}
INTROML_BATCH1 = {"input": [[1, -2], [-1, 2]], "target": [[1], [1]],
                  "Z1": [-0.09262106, 0.46260999], "A1": [0.47686127, 0.61363316]}


@pytest.fixture(scope="module")
def introml() -> Trace:
    return trace_spec(load_spec("introml"))


def test_introml_mini_batch_0(introml: Trace) -> None:
    step = introml.steps[0]
    assert step.batch_size == 3
    _assert_printed_by_numpy(step.forward_of(1).z[0], INTROML["Z0"], "Z0")
    _assert_printed_by_numpy(step.forward_of(1).a[0], INTROML["A0"], "A0")
    _assert_printed_by_numpy(step.backward_of(1).grad_W[0], INTROML["grad_W_L"], "grad_W_L")
    _assert_printed_by_numpy(step.backward_of(1).grad_b[0], INTROML["grad_b_L"], "grad_b_L")
    _assert_printed_by_numpy(step.update_of(1).W_new[0], INTROML["W"], "W")
    _assert_printed_by_numpy(step.update_of(1).b_new[0], INTROML["b"], "b")


def test_introml_folds_the_mean_into_its_first_gradient(introml: Trace) -> None:
    """The notebook divides ∂C_s/∂a by m = 3 at the start (grad_A = −(Y/A − (1 − Y)/(1 − A))/3), so
    its grad_Z is gradtrace's per-sample δ / 3; gradtrace prints the 1/3 in ∂C/∂W and ∂C/∂b."""
    from gradtrace.core.losses import LOSSES

    step = introml.steps[0]
    a, y = step.forward_of(1).a, step.target  # (n, m): one column per sample
    m = step.batch_size
    per_sample = LOSSES["binary_cross_entropy"].gradient(a.T, y.T)  # ∂C_s/∂a, unfused, (m, n)
    _assert_printed_by_numpy(per_sample[:, 0] / m, INTROML["grad_A_L0"], "grad_A_L0")
    _assert_printed_by_numpy((a * (1 - a))[0], INTROML["dA0dZ0"], "dA0dZ0")  # σ'(z) = a(1 − a)
    _assert_printed_by_numpy(step.backward_of(1).delta[0] / m, INTROML["grad_Z_L0"], "grad_Z_L0")


def test_introml_mini_batch_1_from_the_new_weights(introml: Trace) -> None:
    update = introml.steps[0].update_of(1)
    spec = load_spec("introml")
    assert spec.data is not None and spec.layers is not None
    batch1 = spec.model_copy(update={
        "data": spec.data.model_copy(update={"input": INTROML_BATCH1["input"],
                                             "target": INTROML_BATCH1["target"]}),
        "layers": [spec.layers[0].model_copy(update={"weights": update.W_new.tolist(),
                                                     "bias": update.b_new[:, 0].tolist()})]})
    forward = trace_spec(batch1).steps[0].forward_of(1)
    _assert_printed_by_numpy(forward.z[0], INTROML_BATCH1["Z1"], "Z1")
    _assert_printed_by_numpy(forward.a[0], INTROML_BATCH1["A1"], "A1")


def test_grade_on_the_notebooks_numbers_finds_no_error() -> None:
    from decimal import Decimal

    from gradtrace.grade import grade

    printed = {"z1": "Z0", "a1": "A0", "grad_W1": "grad_W_L", "grad_b1": "grad_b_L",
               "W1_new": "W", "b1_new": "b"}
    answers = {key: [[Decimal(str(v)) for v in INTROML[name]]] for key, name in printed.items()}
    report = grade("introml", answers)
    assert {entry.label: entry.status for entry in report.entries if entry.given is not None} == {
        key: "correct" for key in printed}
    assert report.first_error is None and report.exit_code == 0


# g-eoj, "cs231n Two-Layer Backprop Mathematics Example" (two-layer-backprop-math.ipynb): the
# CS231n two-layer net, X = [16, -6], y = 2, ReLU hidden, softmax + cross-entropy, X·W layout.
# Written out by hand with 12 decimals:
#   max(0, [2.28 -0.68]) = [2.28 0];  scores = [0.4332 -0.228 0.228];  loss = 1.051375468504
#   dscores = [0.429052723714 0.221490524653 -0.650543248367]
#   grad['W2'] = [0.978240210068 0.504998396209 -1.483238606277; 0 0 0]
#   dh1 = [-0.005683359796 -0.036817689655];  after dh1[h1 <= 0] = 0: [-0.005683359796 0]
# and printed by the assignment's code (numpy, 8 decimals):
#   Network loss: 1.0513754685043635
#   Network dW2: [[ 0.97824021  0.5049984  -1.48323861] [ 0.  0.  0. ]]
#   Network db2: [ 0.42905272  0.22149052 -0.65054325]
#   Network dW1: [[-0.09093376  0. ] [ 0.03410016  0. ]]
#   Network db1: [-0.00568336  0. ]
CS231N_BY_HAND = {
    "z1": [2.28, -0.68], "a1": [2.28, 0.0], "z2": [0.4332, -0.228, 0.228],
    "delta2": [0.429052723714, 0.221490524653, -0.650543248367],
    "grad_W2": [[0.978240210068, 0.504998396209, -1.483238606277], [0.0, 0.0, 0.0]],  # rows: h1
    "grad_a1": [-0.005683359796, -0.036817689655], "delta1": [-0.005683359796, 0.0],
}
CS231N_LOSS_BY_HAND = 1.051375468504
CS231N_BY_CODE = {
    "grad_W2": [[0.97824021, 0.5049984, -1.48323861], [0.0, 0.0, 0.0]],
    "grad_b2": [0.42905272, 0.22149052, -0.65054325],
    "grad_W1": [[-0.09093376, 0.0], [0.03410016, 0.0]], "grad_b1": [-0.00568336, 0.0],
}
CS231N_LOSS_BY_CODE = 1.0513754685043635


def _cs231n_values(step: Step) -> dict[str, np.ndarray]:
    """The trace's numbers in the notebook's layout: a row per sample, W as rows of inputs."""
    quantities = {q.key: q for q in step.quantities()}
    grad_a1 = np.asarray(quantities["grad_a1"].matrix.value, dtype=float)
    return {"z1": step.forward_of(1).z[:, 0], "a1": step.forward_of(1).a[:, 0],
            "z2": step.forward_of(2).z[:, 0], "delta2": step.backward_of(2).delta[:, 0],
            "grad_W2": step.backward_of(2).grad_W.T, "grad_b2": step.backward_of(2).grad_b[:, 0],
            "grad_a1": grad_a1[:, 0], "delta1": step.backward_of(1).delta[:, 0],
            "grad_W1": step.backward_of(1).grad_W.T, "grad_b1": step.backward_of(1).grad_b[:, 0]}


def test_cs231n_by_hand_is_round_12() -> None:
    """The notebook carries 12 decimals and works on from them (its dW2 is 2.28 times the rounded
    dscores: 0.978240210068, where the exact product is 0.978240210068897): `--round 12` computes
    as it did and gives every hand-written number exactly."""
    spec = load_spec("cs231n").with_options({"round": ("--round", 12)})
    step = trace_spec(spec).steps[0]
    ours = _cs231n_values(step)
    # ∂C/∂a1 = W2ᵀ δ2 is part of δ1's formula and is not rounded on its own (README, "Hand
    # arithmetic"); the notebook wrote it down with 12 decimals
    ours["grad_a1"] = np.round(ours["grad_a1"], 12)
    for key, published in CS231N_BY_HAND.items():
        np.testing.assert_array_equal(ours[key], np.asarray(published), err_msg=key)
    assert step.cost == CS231N_LOSS_BY_HAND
    exact = _cs231n_values(trace_spec(load_spec("cs231n")).steps[0])
    assert round(exact["grad_W2"][0, 0], 12) == 0.978240210069 != CS231N_BY_HAND["grad_W2"][0][0]


def test_cs231n_matches_the_assignments_code() -> None:
    step = trace_spec(load_spec("cs231n")).steps[0]
    ours = _cs231n_values(step)
    for key, printed in CS231N_BY_CODE.items():
        _assert_printed_by_numpy(ours[key], printed, key)
    assert step.cost == CS231N_LOSS_BY_CODE  # printed in full: float64 to the last bit


def test_cs231n_prints_the_dead_unit_and_the_x_w_layout() -> None:
    trace = trace_spec(load_spec("cs231n"))
    text = text_renderer.render(trace, RenderOptions(view="both", width=200))
    assert "z2 = a1 W2 + b2" in text  # scores = h1 W2 + b2
    assert "∂C/∂a1 = δ2 W2ᵀ" in text  # dh1 = dscores W2ᵀ
    assert "δ1[2] = ∂C/∂a1[2]·relu'(z1[2]) = (−0.0368177)·relu'(−0.68) = 0" in text
