"""Big networks print in reasonable time and honestly: the neuron view folds a quantity past
NEURON_FOLD scalar equations into one counted line in every printed format (the first equations
printed exactly as before), and a diagram of wide layers labels its neurons without mathtext."""

from __future__ import annotations

import re

import pytest

from gradtrace.render import html, latex, markdown, text
from gradtrace.render.options import RenderOptions
from gradtrace.render.wording import NEURON_FOLD
from gradtrace.spec import parse_spec
from gradtrace.trace.model import Trace
from gradtrace.workflow import trace_spec

WIDE = {  # 3 inputs, 8 hidden units: W1 has 24 weight equations, past the fold of 16
    "name": "wide", "sizes": [3, 8, 1], "activations": ["tanh", "sigmoid"], "seed": 2,
    "data": {"input": [[0.5, -0.25, 1.0]], "target": [[1.0]]},
}


@pytest.fixture(scope="module")
def trace() -> Trace:
    return trace_spec(parse_spec(WIDE))


def grad_w1(trace: Trace) -> int:
    return next(len(q.neuron) for q in trace.steps[0].quantities() if q.key == "grad_W1")


@pytest.mark.parametrize("renderer", [text.render, markdown.render, latex.render, html.render])
def test_past_the_fold_one_line_says_how_many_more(renderer: object, trace: Trace) -> None:
    assert grad_w1(trace) == 24 > NEURON_FOLD
    page = renderer(trace, RenderOptions(view="neuron", width=200))  # type: ignore[operator]
    assert f"{24 - NEURON_FOLD:,} more equations like these" in page
    if renderer is html.render:  # the gradient's own article: entries are <mn>row,col</mn>
        page = re.search(r'data-key="grad_W1".*?</article>', page, re.DOTALL).group(0)  # type: ignore[union-attr]
    # W1 is 8 x 3: the first NEURON_FOLD gradient entries run to [6,1]; [6,2] is past the fold
    entry = {text.render: "∂C/∂W1[{}]", html.render: "<mn>{}</mn>"}.get(
        renderer, "\\partial W^{{(1)}}_{{{}}}}}")  # type: ignore[call-overload]
    assert entry.format("6,1") in page  # two indices are always separated, in every format
    assert entry.format("6,2") not in page


def test_under_the_fold_nothing_is_folded() -> None:
    small = trace_spec(parse_spec({**WIDE, "sizes": [2, 2, 1],
                                   "data": {"input": [[0.5, -0.25]], "target": [[1.0]]}}))
    assert "more equations like these" not in text.render(small, RenderOptions(view="neuron"))


def test_a_diagram_of_wide_layers_labels_neurons_in_unicode_not_mathtext() -> None:
    from gradtrace.render.diagram import figure

    wide = trace_spec(parse_spec({**WIDE, "sizes": [3, 12, 1]}))  # 12 > MAX_SHOWN: elided
    labels = [t.get_text() for t in figure(wide).axes[0].texts]
    assert "a₁⁽¹⁾" in labels and "a₁₂⁽¹⁾" in labels
    assert not [label for label in labels if "$" in label]
    narrow = trace_spec(parse_spec(WIDE))  # 8 units, all shown: mathtext as before
    assert "$a^{(1)}_{8}$" in [t.get_text() for t in figure(narrow).axes[0].texts]
