"""Hand arithmetic: ``--round N`` computes as a person with a calculator, ``--decimals N`` prints
fixed decimal places.

Part 1 pins the rounding rule (half away from zero, a tie tested). Part 2 is the property: rounding
to 12 decimals is exact arithmetic to 1e-10 (of the step's scale). Part 3 reproduces two published
worked examples: Han, Kamber & Pei's Example 9.1, which rounds to 3 decimals as it goes, and Matt
Mazur's, which carries 9. Part 4 is the trace (exact values beside rounded ones, JSON /1 and /2),
Part 5 the formats and the command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from conftest import Case, cases
from gradtrace.core.network import hand_rounder
from gradtrace.core.optimizers import SGD, Momentum
from gradtrace.errors import SpecError
from gradtrace.render.math import number
from gradtrace.render.options import RenderOptions, renderer
from gradtrace.render.wording import DRIFT_TITLE
from gradtrace.spec import load_spec, parse_spec
from gradtrace.trace.json import dumps, from_dict, schema, to_dict
from gradtrace.trace.model import Step, Trace
from gradtrace.trace.record import trace_steps
from gradtrace.workflow import trace_spec

# ---- Part 1: the rounding rule -----------------------------------------------------------------


def test_a_tie_rounds_half_away_from_zero_not_to_even() -> None:
    # 0.125 and 2.5 are exact binary ties; numpy's round would give 0.12 and 2 (half to even)
    two, zero = hand_rounder(2), hand_rounder(0)
    assert two(np.array([0.125, -0.125, 0.135])).tolist() == [0.13, -0.13, 0.14]
    assert zero(np.array([2.5, -2.5, 3.5])).tolist() == [3.0, -3.0, 4.0]
    assert np.round(0.125, 2) == 0.12  # the rule we did not take
    # 0.12345 is stored just below the tie, but a calculator shows 0.12345 and a person writes 0.1235
    assert hand_rounder(4)(np.array([0.12345])).tolist() == [0.1235]


def test_rounding_keeps_what_has_no_more_decimals() -> None:
    rounder = hand_rounder(4)
    values = np.array([np.inf, -np.inf, 1e300, 2.0**60 + 1024, 0.0])
    assert np.array_equal(rounder(values), values)
    assert np.isnan(rounder(np.array([np.nan]))[0])
    assert rounder(np.array([0.123456], dtype=np.float32)).dtype == np.float32


# ---- Part 2: rounding to 12 decimals is exact arithmetic to 1e-10 ------------------------------

KINKS = (-1.0, 0.0, 1.0)  # relu/leaky_relu at 0, hardtanh at ±1


def _quantities(step: Step) -> list[np.ndarray]:
    arrays = [np.array(step.cost)]
    arrays += [array for r in step.forward for array in (r.z, r.a)]
    arrays += [array for r in step.backward for array in (r.delta, r.grad_W, r.grad_b)]
    return arrays + [array for u in step.update for array in (u.W_new, u.b_new)]


# HAND_EXAMPLES=600 for a longer search (600 take about a minute)
@settings(max_examples=int(os.environ.get("HAND_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_round_12_equals_exact_arithmetic(case: Case) -> None:
    """Away from a kink (where the derivative jumps, so any change of z may flip it), every
    quantity of two steps rounded to 12 decimals is within 1e-10 of exact arithmetic, on the
    step's own scale: an error of 5e-13 in a1 grows with each layer's gain (three linear layers of
    5 units, |W| ≤ 1.5, |x| ≤ 2 reach values near 1e4 and errors near 2e-7: 4e-13 of the scale)."""
    mlp = case.mlp()
    exact, _ = trace_steps(mlp, case.X, case.Y, SGD(0.1), steps=2)
    for step in exact.steps:
        assume(all(np.min(np.abs(r.z - k)) > 1e-6 for r in step.forward for k in KINKS))
        assume(np.min(np.abs(step.forward[-1].a - step.target)) > 1e-6)  # mae's kink
    rounded, _ = trace_steps(mlp, case.X, case.Y, SGD(0.1), steps=2, round_to=12)
    for hand, true in zip(rounded.steps, exact.steps, strict=True):
        scale = max(1.0, *(float(np.max(np.abs(array))) for array in _quantities(true)))
        for mine, theirs in zip(_quantities(hand), _quantities(true), strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-10 * scale)
        # the exact run kept beside the rounded one is the plain run, bit for bit
        assert hand.exact is not None
        for mine, theirs in zip(_quantities(hand.exact), _quantities(true), strict=True):
            assert np.array_equal(mine, theirs)


def test_every_quantity_is_rounded_optimiser_state_included() -> None:
    spec = load_spec("xor")
    X, Y = spec.arrays()
    trace, trained = trace_steps(spec.build_mlp(), X, Y, Momentum(0.5, momentum=0.9), steps=3,
                                 round_to=4)
    for step in trace.steps:
        arrays = _quantities(step) + [s.new for u in step.update for s in u.state]
        for array in arrays:
            assert np.array_equal(array, hand_rounder(4)(array))
        assert step.exact is not None and step.exact.cost != step.cost
    assert np.array_equal(trained.layers[0].W, trace.steps[-1].update[0].W_new)


# ---- Part 3: published examples that round as they go ------------------------------------------
#
# Han, Kamber & Pei, "Data Mining: Concepts and Techniques", 3rd ed. (2012), Example 9.1 (built in
# as `hankamber`): a 3-2-1 sigmoid network with biases θ, x = (1, 0, 1), target 1, η = 0.9. The
# book's tables, every number rounded to 3 decimals before it is used:
#   Table 9.2  unit 4: I = 0.2 + 0 − 0.5 − 0.4 = −0.7, O = 1/(1 + e^0.7) = 0.332
#              unit 5: I = −0.3 + 0 + 0.2 + 0.2 = 0.1, O = 0.525
#              unit 6: I = (−0.3)(0.332) − (0.2)(0.525) + 0.1 = −0.105, O = 0.474
#   Table 9.3  Err6 = (0.474)(1 − 0.474)(1 − 0.474) = 0.1311
#              Err5 = (0.525)(1 − 0.525)(0.1311)(−0.2) = −0.0065
#              Err4 = (0.332)(1 − 0.332)(0.1311)(−0.3) = −0.0087
#   Table 9.4  w46 = −0.261, w56 = −0.138, w14 = 0.192, w15 = −0.306, w24 = 0.4, w25 = 0.1,
#              w34 = −0.508, w35 = 0.194, θ6 = 0.218, θ5 = 0.194, θ4 = −0.408
# The book's Err is −δ (its update is w + η Err O); it prints Err with 4 decimals, which rounded
# to 3, half away from zero, are gradtrace's −δ.

HAN_ERRORS = {2: [0.1311], 1: [-0.0087, -0.0065]}  # by layer: Err6; Err4, Err5


def test_han_kamber_example_9_1_rounding_to_3_decimals() -> None:
    spec = load_spec("hankamber").with_options({"round": ("--round", 3)})
    step = trace_spec(spec).steps[0]
    assert step.forward_of(1).z.ravel().tolist() == [-0.7, 0.1]
    assert step.forward_of(1).a.ravel().tolist() == [0.332, 0.525]
    assert step.forward_of(2).z.ravel().tolist() == [-0.105]
    assert step.forward_of(2).a.ravel().tolist() == [0.474]
    three = hand_rounder(3)
    for layer, errors in HAN_ERRORS.items():
        assert (-step.backward_of(layer).delta.ravel()).tolist() == three(np.array(errors)).tolist()
    first, second = step.update_of(1), step.update_of(2)
    assert first.W_new.tolist() == [[0.192, 0.4, -0.508], [-0.306, 0.1, 0.194]]
    assert first.b_new.ravel().tolist() == [-0.408, 0.194]
    assert second.W_new.tolist() == [[-0.261, -0.138]]
    assert second.b_new.ravel().tolist() == [0.218]
    # exact arithmetic gives other numbers: 1/(1 + e^0.7) = 0.33181...
    assert step.exact is not None and step.exact.forward_of(1).a[0, 0] != 0.332


# Matt Mazur, "A Step by Step Backpropagation Example" (2015; built in as `mattmazur`) carries 9
# decimals: out_h1 = 0.593269992, out_h2 = 0.596884378, out_o1 = 0.75136507, out_o2 = 0.772928465,
# E_total = 0.298371109, w5+ = 0.35891648, w6+ = 0.408666186, w7+ = 0.511301270,
# w8+ = 0.561370121; the hidden weights are printed with 8: w1+ = 0.149780716,
# w2+ = 0.19956143, w3+ = 0.24975114, w4+ = 0.29950229.


def test_mattmazur_published_numbers_are_round_9() -> None:
    step = trace_spec(load_spec("mattmazur").with_options({"round": ("--round", 9)})).steps[0]
    assert step.forward_of(1).a.ravel().tolist() == [0.593269992, 0.596884378]
    assert step.forward_of(2).a.ravel().tolist() == [0.75136507, 0.772928465]
    assert step.cost == 0.298371109
    assert step.update_of(2).W_new.tolist() == [[0.35891648, 0.408666186],
                                                [0.51130127, 0.561370121]]
    hidden = hand_rounder(8)(np.array(step.update_of(1).W_new))
    assert hidden.tolist() == [[0.14978072, 0.19956143], [0.24975114, 0.29950229]]
    # w1+ is published as 0.149780716 (9 decimals) and is matched exactly
    assert step.update_of(1).W_new[0, 0] == 0.149780716


# ---- Part 4: the trace and its JSON ------------------------------------------------------------


def _han(round_to: int | None = 3) -> Trace:
    spec = load_spec("hankamber")
    return trace_spec(spec.with_options({"round": ("--round", round_to), "steps": ("--steps", 2)}))


@pytest.mark.parametrize("version", [1, 2])
def test_json_holds_rounded_values_and_exact_ones(version: int) -> None:
    trace = _han()
    data = json.loads(dumps(trace, version=version))
    jsonschema.validate(data, schema(version))
    assert data["round"] == 3
    step = data["steps"][0]
    assert step["forward"][0]["a"] == [[0.332], [0.525]]
    assert step["exact"]["forward"][0]["a"][0][0] == pytest.approx(0.3318122278318339, abs=1e-15)
    assert set(step["exact"]) == {"forward", "cost", "per_sample_cost", "backward", "update"}
    back = from_dict(data)
    assert back.rounding == 3
    for mine, theirs in zip(back.steps, trace.steps, strict=True):
        assert mine.exact is not None and theirs.exact is not None
        assert mine.exact.cost == theirs.exact.cost
        assert np.array_equal(mine.exact.update_of(1).W_new, theirs.exact.update_of(1).W_new)
        assert np.array_equal(mine.update_of(1).W_new, theirs.update_of(1).W_new)


def test_without_rounding_the_trace_has_no_exact_fields() -> None:
    data = to_dict(_han(None), explanation=False)
    assert "round" not in data and all("exact" not in step for step in data["steps"])


def test_the_spec_field_round_and_its_limits() -> None:
    text = load_spec("hankamber").model_dump(exclude_unset=True) | {"round": 3}
    spec = parse_spec(text)
    assert spec.round == 3 and trace_spec(spec).steps[0].forward_of(2).a[0, 0] == 0.474
    with pytest.raises(SpecError, match="round"):
        parse_spec(text | {"round": -1})
    with pytest.raises(SpecError, match="--round"):
        spec.with_options({"round": ("--round", 16)})


# ---- Part 5: formats and the command line ------------------------------------------------------


def test_decimals_keep_trailing_zeros_in_text_and_latex() -> None:
    assert number(0.19, 6, decimals=4) == "0.1900"
    assert number(-0.19, 6, decimals=4) == "−0.1900"
    assert number(-0.19, 6, "latex", decimals=4) == "-0.1900"
    assert number(-0.00001, 6, decimals=4) == "0.0000"  # never −0.0000
    assert number(2.0, 6, decimals=0) == "2"
    assert number(3e20, 6, decimals=2) == "3e20"  # not 21 digits: significant digits from 1e15


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html", "ipynb"])
def test_every_format_ends_with_the_drift(fmt: str) -> None:
    options = RenderOptions(decimals=3)
    rounded = renderer(fmt)(_han(), options)
    assert isinstance(rounded, str)
    assert DRIFT_TITLE in rounded
    # Markdown and LaTeX escape some characters with a backslash
    assert "Step 2: cost C = 0.118, exact 0.117492" in rounded.replace("\\", "")
    assert rounded.rfind(DRIFT_TITLE) > rounded.rfind("Update")
    plain = renderer(fmt)(_han(None), options)
    assert isinstance(plain, str) and DRIFT_TITLE not in plain


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "gradtrace", *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def test_cli_round_prints_hand_work_and_its_drift() -> None:
    result = run_cli("step", "hankamber", "--round", "3", "--view", "neuron", "--width", "200")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # --round 3 alone shows 3 fixed decimals; the numbers plugged in are the rounded ones, in the
    # book's own conventions (w_ij rows, so W2[2,1] is w56; w ← w + η Err O)
    assert ("z2[1] = W2[1,1] a1[1] + W2[2,1] a1[2] + b2[1] = (−0.300)·0.332 + (−0.200)·0.525 + "
            "0.100 = −0.105") in lines
    assert "W2'[1,1] = W2[1,1] + η·Err2[1] a1[1] = −0.300 + 0.900·0.131·0.332 = −0.261" in lines
    assert lines[-3] == f"── {DRIFT_TITLE}"
    assert lines[-1].startswith("Step 1: cost C = 0.138, exact 0.138396, drift −0.000396;")


def test_cli_decimals() -> None:
    result = run_cli("step", "seed", "--decimals", "4")
    assert result.returncode == 0, result.stderr
    assert "   = [0.2100; 0.3150]" in result.stdout.splitlines()
    assert DRIFT_TITLE not in result.stdout


@pytest.mark.parametrize("args, words", [
    (("--precision", "3", "--decimals", "2"), "give one of the two"),
    (("--round", "16"), "--round"),
    (("--decimals", "-1"), "--decimals"),
])
def test_cli_refuses_in_one_line(args: tuple[str, ...], words: str) -> None:
    result = run_cli("step", "seed", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr
    assert "Traceback" not in result.stderr
