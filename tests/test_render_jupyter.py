"""Jupyter reprs of a trace: HTML fragment, Markdown and LaTeX displays."""

from __future__ import annotations

from gradtrace.render import jupyter
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec


def test_reprs() -> None:
    trace = trace_spec(load_spec("seed"))
    html = jupyter.repr_html(trace)
    assert html.startswith('<div class="gradtrace-trace">') and "<html" not in html
    assert "<math" in html and "<svg" in html
    assert "## Forward pass" in jupyter.repr_markdown(trace)
    latex = jupyter.repr_latex(trace)
    assert latex.startswith("$$") and latex.count("$$") % 2 == 0
    assert "\\begin{bmatrix} 0.279691 & 0.878743 \\end{bmatrix}" in latex
