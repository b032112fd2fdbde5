"""The gradient checker itself: float64 whatever the network's dtype, and its vectorised central
differences held against the one-entry-at-a-time loop (the definition)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import Case, cases
from gradtrace.core import gradcheck
from gradtrace.core.gradcheck import (
    DEFAULT_STEP,
    as_float64,
    check_gradients,
    numerical_gradient,
    vectorised_gradient,
)
from gradtrace.core.network import forward
from gradtrace.spec import Spec, load_spec
from gradtrace.workflow import check_spec


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_layers=3, max_width=4, max_batch=3))
def test_vectorised_central_differences_equal_the_loop(case: Case) -> None:
    mlp = case.mlp()
    fwd = forward(mlp, case.X)
    for l, layer in enumerate(mlp.layers, start=1):
        for name, param in (("W", layer.W), ("b", layer.b)):
            loop = numerical_gradient(mlp, case.X, case.Y, param, DEFAULT_STEP)
            batched = vectorised_gradient(mlp, fwd, case.Y, l, name, DEFAULT_STEP)
            # both are (C+ - C-)/2h of the same costs; they differ only by the costs' round-off
            # (about ε·C/h ≈ 1e-10), never by an entry or a sign
            np.testing.assert_allclose(batched, loop, rtol=1e-6, atol=1e-8)


def test_chunks_give_the_same_estimate_as_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_spec("xor")
    X, Y = spec.arrays()
    whole = check_gradients(spec.build_mlp(), X, Y)
    monkeypatch.setattr(gradcheck, "CHUNK_FLOATS", 1)  # one entry a chunk
    seen: list[int] = []
    chunked = check_gradients(spec.build_mlp(), X, Y, progress=seen.append)
    assert [c.numerical for c in chunked] == pytest.approx([c.numerical for c in whole],
                                                           rel=1e-12, abs=1e-14)
    assert seen == [1] * len(whole)  # progress: one call per chunk, with its entry count


def test_progress_counts_every_parameter_once() -> None:
    spec = load_spec("softmax")
    X, Y = spec.arrays()
    seen: list[int] = []
    comparisons = check_gradients(spec.build_mlp(), X, Y, progress=seen.append)
    assert sum(seen) == len(comparisons) == 4 * 3 + 4 + 3 * 4 + 3


@pytest.mark.parametrize("example", ["seed", "xor", "softmax", "mattmazur"])
def test_float32_specs_check_ok(example: str) -> None:
    # in float32, a central difference with h = 1e-6 is mostly round-off (ε·C/h ≈ 0.1): the check
    # must run in float64 or it reports a false MISMATCH for every entry of a correct network
    data = load_spec(example).model_dump()
    data["dtype"] = "float32"
    spec = Spec.model_validate(data)
    assert spec.build_mlp().dtype == np.float32
    comparisons = check_spec(spec, DEFAULT_STEP)
    assert comparisons and all(c.passes() for c in comparisons)


def test_float64_copy_leaves_the_network_alone() -> None:
    spec = load_spec("seed")
    data = spec.model_dump()
    data["dtype"] = "float32"
    mlp = Spec.model_validate(data).build_mlp()
    copy = as_float64(mlp)
    assert copy.dtype == np.float64 and mlp.dtype == np.float32
    copy.layers[0].W[0, 0] = 5.0
    assert mlp.layers[0].W[0, 0] == np.float32(0.2)


# ---- through the CLI ---------------------------------------------------------------------------

FLOAT32_NET = """
name = "wide32"
loss = "half_sse"
dtype = "float32"
sizes = [20, 24, 1]
activations = ["tanh", "sigmoid"]
seed = 3
[data]
input = [[0.1, -0.2, 0.3, 0.0, 0.5, -0.1, 0.2, 0.4, -0.3, 0.1,
          0.2, 0.1, -0.4, 0.3, 0.0, 0.2, -0.2, 0.1, 0.3, -0.1]]
target = [[1.0]]
"""


def test_check_cli_on_a_large_float32_spec_passes_in_float64(tmp_path: Path) -> None:
    from test_cli_errors import run_cli

    path = tmp_path / "wide32.toml"
    path.write_text(FLOAT32_NET, encoding="utf-8")
    result = run_cli("check", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "central differences, both in float64" in lines[0]
    # 24·21 + 25 = 529 parameters: past the rich table, one plain row each, all ok
    rows = [line for line in lines if line.startswith(("W", "b"))]
    assert len(rows) == 24 * 21 + 25 and all(row.endswith(" ok") for row in rows)
    assert "all 529 gradients agree" in lines[-1]
