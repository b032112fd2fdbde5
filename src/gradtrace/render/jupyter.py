"""Rich display of a Trace in Jupyter: HTML (MathML + SVG), Markdown and LaTeX reprs.

Attach as ``Trace._repr_html_ = repr_html`` etc.; each takes the trace and uses default options.
"""

from __future__ import annotations

from gradtrace.render import html, markdown, wording
from gradtrace.render.options import RenderOptions
from gradtrace.trace.model import Trace


def repr_html(trace: Trace) -> str:
    """The derivation as an HTML fragment (what JupyterLab and VS Code show by default)."""
    return html.fragment(trace, RenderOptions())


def repr_markdown(trace: Trace) -> str:
    """The derivation as Markdown with $$ maths (for front ends that prefer Markdown)."""
    return markdown.render(trace, RenderOptions())


def repr_latex(trace: Trace) -> str:
    """Every quantity of every step in the matrix view, as $$ displays for MathJax."""
    options = RenderOptions()
    displays = []
    for step in trace.steps:
        for _, quantities in wording.sections(step):
            for quantity in quantities:
                text = wording.heading(quantity, options).replace("\\", "")
                latex = wording.blocks(quantity, options)[0].latex
                displays.append(f"$$\n\\text{{{text}}}\\qquad {latex}\n$$")
    return "\n\n".join(displays)
