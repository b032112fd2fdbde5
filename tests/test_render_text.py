"""The terminal renderer, compared as exact strings at a fixed width (golden files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradtrace.render.options import RenderOptions
from gradtrace.render.text import render
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(("view", "golden"), [("matrix", "seed.txt"), ("neuron", "seed-neuron.txt")])
def test_seed_text_matches_golden(view: str, golden: str) -> None:
    trace = trace_spec(load_spec("seed"))
    text = render(trace, RenderOptions(view=view, width=100))  # type: ignore[arg-type]
    assert text == (GOLDEN / golden).read_text(encoding="utf-8")


def test_seed_text_shows_formula_numbers_and_result() -> None:
    text = render(trace_spec(load_spec("seed")), RenderOptions(view="neuron", width=200))
    # the textbook line: z1[1] = 0.2·0.35 + 0.2·0.7 + 0 = 0.21
    assert "z1[1] = W1[1,1] a0[1] + W1[1,2] a0[2] + b1[1] = 0.2·0.35 + 0.2·0.7 + 0 = 0.21" in text
    assert "a2[1] = σ(z2[1]) = σ(0.685987) = 0.665074" in text
    assert "W2'[1,2] = W2[1,2] − η ∂C/∂W2[1,2] = 0.9 − 1·0.0212571 = 0.878743" in text


def test_precision_option_changes_digits() -> None:
    text = render(trace_spec(load_spec("seed")), RenderOptions(precision=10, width=200))
    assert "0.6650736395" in text


def test_net_out_notation() -> None:
    text = render(trace_spec(load_spec("seed")), RenderOptions(notation="net-out", width=200))
    assert "net1 = W1 out0 + b1" in text
