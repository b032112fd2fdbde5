"""The terminal renderer, compared as exact strings at a fixed width (golden files)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from gradtrace.render.options import RenderOptions
from gradtrace.render.text import fold, render
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


# Characters of the text renderer's output, spaces in runs, and one rich measures as two cells.
FOLD_ALPHABET = " 0123456789.−-=[],()abδσ∂ηᵀ⊙·₁₂⁽¹⁾→⋮…"


@settings(max_examples=400, deadline=None)
@given(text=st.lists(st.text(FOLD_ALPHABET, max_size=40) | st.sampled_from(["   ", "\n", "x" * 45]),
                     max_size=20).map("".join),
       width=st.integers(1, 40))
def test_fold_prints_what_rich_prints(text: str, width: int) -> None:
    """render() wraps lines itself (rich measures each word cell by cell, slow at the cap): the
    lines are rich's own, character for character, as ``write`` prints them without colour."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False, highlight=False,
            emoji=False, soft_wrap=False).print(Text(text), overflow="fold")
    lines = fold(text, width)
    assert lines is not None
    assert "".join(line + "\n" for line in lines) == buffer.getvalue()


def test_fold_leaves_wide_characters_to_rich() -> None:
    assert fold("12 漢字 34", 5) is None  # two cells each: rich lays the line out
