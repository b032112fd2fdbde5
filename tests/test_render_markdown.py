"""The Markdown renderer: an exact-string golden file for the seed example, and its options.

Regenerate the golden file after an intended change with
GRADTRACE_UPDATE_GOLDEN=1 pytest tests/test_render_markdown.py, then read the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gradtrace.render.markdown import render
from gradtrace.render.options import RenderOptions
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec

GOLDEN = Path(__file__).parent / "golden" / "seed.md"


def seed_markdown(**options: object) -> str:
    return render(trace_spec(load_spec("seed")), RenderOptions(**options))  # type: ignore[arg-type]


def test_seed_markdown_matches_golden() -> None:
    text = seed_markdown(view="both", precision=6)
    if os.environ.get("GRADTRACE_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_sections_in_order_and_math_delimited() -> None:
    text = seed_markdown()
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == ["Given", "Forward pass", "Cost", "Backpropagation", "Update"]
    assert text.count("$$") % 2 == 0  # every display is closed
    # formula, numbers plugged in and result of the seed's new weight W2[1,2]
    assert "W'^{(2)} &= W^{(2)} - \\eta \\frac{\\partial C}{\\partial W^{(2)}}" in text
    assert "\\begin{bmatrix} 0.279691 & 0.878743 \\end{bmatrix}" in text


def test_views_and_notation() -> None:
    neuron = seed_markdown(view="neuron")
    assert "W'^{(1)}_{1,1} &= W^{(1)}_{1,1} - \\eta" in neuron  # two indices, separated
    assert "\\begin{bmatrix} 0.2 & 0.2 \\\\ 0.3 & 0.3 \\end{bmatrix} \\begin{bmatrix}" not in neuron
    assert "\\mathrm{net}^{(1)} &= W^{(1)} \\mathrm{out}^{(0)}" in seed_markdown(notation="net-out")
    assert "0.6650736395" in seed_markdown(precision=10)
