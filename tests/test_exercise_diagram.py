"""The givens diagram an exercise sheet draws: only what the sheet gives, "?" where it asks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from gradtrace.render import diagram
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    return ["".join(node.itertext()).strip() for node in root.iter(f"{SVG}text")]


def test_givens_shows_inputs_weights_biases_target_and_marks_the_rest() -> None:
    # seed: a0 = [0.35; 0.7], W1 = [0.2 0.2; 0.3 0.3], W2 = [0.3 0.9], b = 0, y = 0.5;
    # computed: a1 = [0.552; 0.578], a2 = 0.665, C = 0.0136
    texts = svg_texts(diagram.render_bytes(trace_spec(load_spec("seed")), "svg",
                                           show="givens").decode("utf-8"))
    assert {"0.35", "0.7", "0.2", "0.3", "0.9", "b = 0", "y = 0.5"} <= set(texts)
    assert texts.count("?") == 3  # two hidden neurons and the output
    assert not {"0.552", "0.578", "0.665"} & set(texts)
    assert not any("C =" in text for text in texts)  # the cost is asked, not given
    assert any("given inputs" in text for text in texts)


def test_label_functions_in_the_givens_view() -> None:
    trace = trace_spec(load_spec("seed"))
    step = trace.steps[0]
    symbol, value = diagram._neuron_value(step, 0, 1, "givens")
    assert value == 0.7 and "a" in symbol
    _, hidden = diagram._neuron_value(step, 1, 0, "givens")
    assert np.isnan(hidden) and diagram.fmt(hidden, 3) == diagram.UNKNOWN
    assert diagram._edge_label(step, 2, 0, 1, "givens", 3) == "0.9"
    assert diagram._bias_label(step, 1, 0, "givens", 3) == "b = 0"
    assert "C =" not in diagram._title(trace, step, "givens", 3)
    # the other views still write the computed numbers
    assert diagram._neuron_value(step, 2, 0, "values")[1] == float(step.activation(2)[0, 0])
    assert "C = 0.0136" in diagram._title(trace, step, "values", 3)
