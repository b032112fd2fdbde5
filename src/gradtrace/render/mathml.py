"""MathML from the LaTeX that gradtrace.render.math prints (one source of truth for formulas).

Browsers render MathML natively (MathML Core in Chromium, Firefox, Safari): no script, no network.
The conversion is latex2mathml's, after rewriting the few constructs it does not take.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

XMLNS = ' xmlns="http://www.w3.org/1998/Math/MathML"'


def _prepare(latex: str) -> str:
    """LaTeX that latex2mathml accepts: align* rows instead of aligned, primes in superscripts."""
    latex = latex.replace("\\begin{aligned}", "\\begin{align*}")
    latex = latex.replace("\\end{aligned}", "\\end{align*}")
    return re.sub(r"'\^\{", r"^{\\prime ", latex)  # W'^{(1)}: one superscript, not two


def to_mathml(latex: str, display: bool = True) -> str:
    """A ``<math>`` element for HTML (no namespace attribute: HTML5 knows <math>)."""
    try:
        markup = convert(_prepare(latex), display="block" if display else "inline")
    except Exception:  # any converter failure: show the LaTeX source rather than nothing
        return f'<pre class="latex">{html.escape(latex)}</pre>'
    return markup.replace(XMLNS, "")
