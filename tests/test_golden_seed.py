"""The seed notebook's training step (../shared/seed/backpropagation-notebook.txt) as a golden test.

Sign conventions: the seed computes its delta with (y - y_hat) and prints the *negative* gradient
(it updates W + eta * grad). gradtrace's delta is dC/dz and grad_W is dC/dW, so each of the seed's
deltas and gradients is the negative of ours. Its printout has numpy's 8 decimals, except y_hat
and the cost, printed at full precision; the full-precision oracle for everything else is
``seed_by_hand`` below, scalar arithmetic with math.exp, sharing no code with the engine.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradtrace.core.backprop import StepResult, train_step
from gradtrace.core.optimizers import SGD
from gradtrace.spec import Spec, load_spec, parse_spec
from gradtrace.trace.json import to_dict
from gradtrace.trace.record import trace_steps

FULL = 1e-12
PRINTED = 0.5e-8 + 1e-15  # numpy printed 8 decimals: the true value is within half a unit of them

# The seed's printout, in its own sign convention.
SEED_Z1 = [0.21, 0.315]
SEED_A1 = [0.55230791, 0.57810523]
SEED_Z2 = 0.68598708
SEED_A2 = 0.66507364
SEED_Y_HAT = 0.6650736395247564
SEED_COST = 0.013624653232974609
SEED_DELTA2 = -0.03677027  # (y - y_hat) σ'(z2)
SEED_DELTA1 = [-0.00272759, -0.00807143]
SEED_GRAD_W2 = [[-0.02030851, -0.02125708]]  # -dC/dW2
SEED_GRAD_W1 = [[-0.00095466, -0.00190931], [-0.002825, -0.00565]]
SEED_W1_NEW = [[0.19904534, 0.19809069], [0.297175, 0.29435]]
SEED_W2_NEW = [[0.27969149, 0.87874292]]


def seed_by_hand() -> dict[str, float]:
    """The seed's step in scalars, in gradtrace's convention (delta = dC/dz, grad = dC/dW)."""
    x1, x2, y, eta = 0.35, 0.7, 0.5, 1.0

    def sigma(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    z11 = 0.2 * x1 + 0.2 * x2  # 0.21
    z12 = 0.3 * x1 + 0.3 * x2  # 0.315
    a11, a12 = sigma(z11), sigma(z12)
    z2 = 0.3 * a11 + 0.9 * a12
    a2 = sigma(z2)
    cost = 0.5 * (y - a2) ** 2
    d2 = (a2 - y) * a2 * (1.0 - a2)  # dC/da2 · σ'(z2)
    d11 = 0.3 * d2 * a11 * (1.0 - a11)  # W2[1,1] δ2 σ'(z11), with W2 from *before* the update
    d12 = 0.9 * d2 * a12 * (1.0 - a12)
    values = {
        "z11": z11, "z12": z12, "a11": a11, "a12": a12, "z2": z2, "a2": a2, "cost": cost,
        "d2": d2, "d11": d11, "d12": d12,
        "gW2_1": d2 * a11, "gW2_2": d2 * a12,
        "gW1_11": d11 * x1, "gW1_12": d11 * x2, "gW1_21": d12 * x1, "gW1_22": d12 * x2,
    }
    values.update({
        "W2_1": 0.3 - eta * values["gW2_1"], "W2_2": 0.9 - eta * values["gW2_2"],
        "W1_11": 0.2 - eta * values["gW1_11"], "W1_12": 0.2 - eta * values["gW1_12"],
        "W1_21": 0.3 - eta * values["gW1_21"], "W1_22": 0.3 - eta * values["gW1_22"],
    })
    return values


def _step(spec: Spec) -> StepResult:
    X, Y = spec.arrays()
    return train_step(spec.build_mlp(), X, Y, SGD(spec.learning_rate))


@pytest.fixture(scope="module")
def seed() -> StepResult:
    return _step(load_spec("seed"))


HAND = seed_by_hand()


def test_the_hand_computation_reproduces_the_seed_printout() -> None:
    # the oracle first: it must itself agree with every number the seed printed
    assert HAND["a2"] == pytest.approx(SEED_Y_HAT, abs=FULL)
    assert HAND["cost"] == pytest.approx(SEED_COST, abs=FULL)
    assert -HAND["d2"] == pytest.approx(SEED_DELTA2, abs=PRINTED)
    assert [-HAND["d11"], -HAND["d12"]] == pytest.approx(SEED_DELTA1, abs=PRINTED)
    assert [HAND["W1_11"], HAND["W1_12"]] == pytest.approx(SEED_W1_NEW[0], abs=PRINTED)
    assert [HAND["W2_1"], HAND["W2_2"]] == pytest.approx(SEED_W2_NEW[0], abs=PRINTED)


def test_seed_spec_is_the_notebooks_network() -> None:
    spec = load_spec("seed")
    X, Y = spec.arrays()
    np.testing.assert_array_equal(X, [[0.35, 0.7]])
    np.testing.assert_array_equal(Y, [[0.5]])
    mlp = spec.build_mlp()
    np.testing.assert_array_equal(mlp.layers[0].W, [[0.2, 0.2], [0.3, 0.3]])
    np.testing.assert_array_equal(mlp.layers[1].W, [[0.3, 0.9]])
    assert spec.learning_rate == 1.0 and spec.loss == "half_sse" and spec.train_biases is False


def test_forward_pass_and_cost(seed: StepResult) -> None:
    z1, a1 = seed.forward.z[1], seed.forward.a[1]
    z2, a2 = seed.forward.z[2], seed.forward.a[2]
    assert z1 is not None and z2 is not None
    # full precision, from the printout where it is full and from the hand computation
    assert a2[0, 0] == pytest.approx(SEED_Y_HAT, abs=FULL)
    assert seed.cost == pytest.approx(SEED_COST, abs=FULL)
    np.testing.assert_allclose(z1[0], [HAND["z11"], HAND["z12"]], rtol=0, atol=FULL)
    np.testing.assert_allclose(a1[0], [HAND["a11"], HAND["a12"]], rtol=0, atol=FULL)
    assert z2[0, 0] == pytest.approx(HAND["z2"], abs=FULL)
    # the printed 8 decimals
    np.testing.assert_allclose(z1[0], SEED_Z1, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(a1[0], SEED_A1, rtol=0, atol=PRINTED)
    assert z2[0, 0] == pytest.approx(SEED_Z2, abs=PRINTED)
    assert a2[0, 0] == pytest.approx(SEED_A2, abs=PRINTED)


def test_deltas_and_gradients_are_the_negatives_of_the_seeds(seed: StepResult) -> None:
    g = seed.gradients
    delta1, delta2 = g.delta[1], g.delta[2]
    assert delta1 is not None and delta2 is not None
    assert delta2[0, 0] == pytest.approx(HAND["d2"], abs=FULL)
    assert delta2[0, 0] == pytest.approx(-SEED_DELTA2, abs=PRINTED)
    np.testing.assert_allclose(delta1[0], [HAND["d11"], HAND["d12"]], rtol=0, atol=FULL)
    np.testing.assert_allclose(delta1[0], -np.array(SEED_DELTA1), rtol=0, atol=PRINTED)

    np.testing.assert_allclose(g.grad_W[2], [[HAND["gW2_1"], HAND["gW2_2"]]], rtol=0, atol=FULL)
    np.testing.assert_allclose(g.grad_W[2], -np.array(SEED_GRAD_W2), rtol=0, atol=PRINTED)
    np.testing.assert_allclose(
        g.grad_W[1], [[HAND["gW1_11"], HAND["gW1_12"]], [HAND["gW1_21"], HAND["gW1_22"]]],
        rtol=0, atol=FULL,
    )
    np.testing.assert_allclose(g.grad_W[1], -np.array(SEED_GRAD_W1), rtol=0, atol=PRINTED)
    # the seed's dC/db is its delta (one sample)
    np.testing.assert_allclose(g.grad_b[2], [HAND["d2"]], rtol=0, atol=FULL)
    np.testing.assert_allclose(g.grad_b[1], [HAND["d11"], HAND["d12"]], rtol=0, atol=FULL)


def test_new_weights_and_fixed_biases(seed: StepResult) -> None:
    (W1_new, b1_new), (W2_new, b2_new) = seed.new
    np.testing.assert_allclose(W1_new, SEED_W1_NEW, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(W2_new, SEED_W2_NEW, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(
        W1_new, [[HAND["W1_11"], HAND["W1_12"]], [HAND["W1_21"], HAND["W1_22"]]], rtol=0, atol=FULL
    )
    np.testing.assert_allclose(W2_new, [[HAND["W2_1"], HAND["W2_2"]]], rtol=0, atol=FULL)
    # train_biases = false in the seed example: biases stay exactly 0, as in the notebook
    np.testing.assert_array_equal(b1_new, [0.0, 0.0])
    np.testing.assert_array_equal(b2_new, [0.0])
    # the old weights are the notebook's initial ones (the step did not touch them first)
    np.testing.assert_array_equal(seed.old[0][0], [[0.2, 0.2], [0.3, 0.3]])
    np.testing.assert_array_equal(seed.old[1][0], [[0.3, 0.9]])


def test_with_train_biases_the_biases_move_by_minus_eta_delta() -> None:
    spec = load_spec("seed")
    data = spec.model_dump(exclude_none=True)
    data["train_biases"] = True
    result = _step(parse_spec(data))
    (W1_new, b1_new), (W2_new, b2_new) = result.new
    np.testing.assert_allclose(b1_new, [-HAND["d11"], -HAND["d12"]], rtol=0, atol=FULL)
    np.testing.assert_allclose(b2_new, [-HAND["d2"]], rtol=0, atol=FULL)
    assert b2_new[0] == pytest.approx(SEED_DELTA2, abs=PRINTED)  # 0 + η·(the seed's δ), η = 1
    # the weights do not depend on whether the biases train (both use the same old parameters)
    np.testing.assert_allclose(W1_new, SEED_W1_NEW, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(W2_new, SEED_W2_NEW, rtol=0, atol=PRINTED)


def test_the_trace_json_carries_the_same_numbers() -> None:
    spec = load_spec("seed")
    X, Y = spec.arrays()
    trace, _ = trace_steps(spec.build_mlp(), X, Y, SGD(spec.learning_rate))
    step = to_dict(trace, explanation=False)["steps"][0]
    assert step["input"] == [[0.35], [0.7]]
    assert step["target"] == [[0.5]]
    assert step["cost"] == pytest.approx(SEED_COST, abs=FULL)
    assert [r["layer"] for r in step["forward"]] == [1, 2]
    assert [r["layer"] for r in step["backward"]] == [2, 1]
    assert step["forward"][1]["a"][0][0] == pytest.approx(SEED_Y_HAT, abs=FULL)
    backward2, backward1 = step["backward"]
    assert backward2["delta"][0][0] == pytest.approx(HAND["d2"], abs=FULL)
    assert np.allclose(backward1["grad_W"], -np.array(SEED_GRAD_W1), rtol=0, atol=PRINTED)
    assert np.allclose(backward1["grad_b"], [[HAND["d11"]], [HAND["d12"]]], rtol=0, atol=FULL)
    update1, update2 = step["update"]
    assert np.allclose(update1["W_new"], SEED_W1_NEW, rtol=0, atol=PRINTED)
    assert np.allclose(update2["W_new"], SEED_W2_NEW, rtol=0, atol=PRINTED)
    assert update1["b_new"] == [[0.0], [0.0]] and update2["b_new"] == [[0.0]]
