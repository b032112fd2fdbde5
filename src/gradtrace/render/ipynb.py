"""A Jupyter notebook (nbformat 4): the derivation in Markdown cells, each quantity recomputed in code.

The code cells rebuild the network from the trace (weights before the step, activations, loss,
input, target, learning rate) with gradtrace.core and compute every quantity in the column view
the derivation uses: ``z1 = W1 @ a0 + b1``, one column per sample. Each variable is named after its
quantity's key (z1, delta2, grad_W1, W1_new, cost), so a student can change a number and rerun.
"""

from __future__ import annotations

import base64
import json
from html import escape as escape_attribute
from typing import Any

from gradtrace.render import diagram
from gradtrace.render.markdown import describe, drift_section, escape, quantity_lines
from gradtrace.render.markdown import render as render_markdown
from gradtrace.render.options import RenderOptions
from gradtrace.render.wording import (
    NETWORK_CAPTION,
    PHASE_TITLES,
    phase_intro,
    sections,
    title,
)
from gradtrace.trace.model import Array, Quantity, Step, Trace

Cell = dict[str, Any]
NBFORMAT, NBFORMAT_MINOR = 4, 5  # 4.5: cells carry ids


def _array(value: Array) -> str:
    """A numpy literal at full precision (repr round-trips)."""
    rows = ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in value)
    return f"np.array([{rows}])"


def _vector(value: Array) -> str:
    return "np.array([" + ", ".join(repr(float(v)) for v in value.ravel()) + "])"


def _setup_code(step: Step) -> str:
    network = step.network
    lines = ["import numpy as np", "",
             "from gradtrace.core import MLP, SGD, Layer, get_activation, get_loss, train_step",
             "", "np.set_printoptions(precision=6, suppress=True)", "",
             "# The network before the step: W (n_out, n_in), b (n_out,)"]
    layers = []
    for l, (info, update) in enumerate(zip(network.layers, step.update, strict=True), start=1):
        # every parameter of the activation (elu's alpha too), so the cell rebuilds this very network
        given = info.params or ((("slope", info.slope),) if info.slope is not None else ())
        params = "".join(f", {key}={value!r}" for key, value in given)
        lines += [f"W{l} = {_array(update.W_old)}", f"b{l} = {_vector(update.b_old)}",
                  f"act{l} = get_activation({info.activation!r}{params})"]
        trainable = "" if info.trainable else ", trainable=False"
        layers.append(f"Layer(W{l}.copy(), b{l}.copy(), act{l}{trainable})")
    lines += [
        f"loss = get_loss({network.loss!r})",
        f"mlp = MLP([{', '.join(layers)}], loss, train_biases={network.train_biases})",
        "",
        "# The data: rows are samples here; the derivation uses columns (a0 = X.T)",
        f"X = {_array(step.input.T)}",
        f"Y = {_array(step.target.T)}",
        f"learning_rate = {step.learning_rate!r}",
        "m = X.shape[0]  # batch size",
    ]
    return "\n".join(lines)


def _code(quantity: Quantity, step: Step) -> str:
    """numpy that recomputes one quantity (column view), then prints it."""
    key, l = quantity.key, quantity.layer or 0  # layer None only for the cost
    L = len(step.network.layers)
    reduction = step.network.batch_reduction  # "mean" or "sum": numpy's method of that name
    if key == "a0":
        body = "a0 = X.T  # (n_0, m)"
    elif quantity.kind == "z":
        body = f"z{l} = W{l} @ a{l - 1} + b{l}[:, None]  # (n_{l}, m)"
    elif quantity.kind == "a":
        body = f"a{l} = act{l}.forward(z{l}.T).T  # the engine works on rows: transpose in and out"
    elif key == "cost":
        body = (f"cost = loss.cost(a{L}.T, Y).{reduction}()  # the {reduction} over samples of each "
                "sample's cost")
    elif quantity.kind == "grad_a" and l < L:
        body = f"grad_a{l} = W{l + 1}.T @ delta{l + 1}  # (n_{l}, m), W{l + 1} before the update"
    elif quantity.kind == "grad_a":
        body = f"grad_a{L} = loss.gradient(a{L}.T, Y).T  # dC_s/da per sample"
    elif quantity.kind == "delta" and l == L:
        body = (f"delta{L} = loss.fused_delta(a{L}.T, Y).T  # a − y (scaled)"
                if step.backward_of(L).grad_a is None else
                f"delta{L} = act{L}.backward(z{L}.T, a{L}.T, grad_a{L}.T).T")
    elif quantity.kind == "delta":
        body = (f"delta{l} = act{l}.backward(z{l}.T, a{l}.T, grad_a{l}.T).T"
                f"  # ∂C/∂a{l} ⊙ σ'(z{l})")
    elif quantity.kind == "grad_W":
        over_m = " / m" if reduction == "mean" else ""
        body = f"grad_W{l} = delta{l} @ a{l - 1}.T{over_m}  # the {reduction} over the batch of δ aᵀ"
    elif quantity.kind == "grad_b":
        body = f"grad_b{l} = delta{l}.{reduction}(axis=1)  # the {reduction} of δ over the samples"
    else:
        body = _update_code(quantity, step)
    return f"{body}\nprint({key!r}, '=')\nprint({key})"


def _update_code(quantity: Quantity, step: Step) -> str:
    l = quantity.layer
    assert l is not None
    parameter = quantity.kind.removesuffix("_new")
    record = step.update_of(l)
    trained = record.W_trained if parameter == "W" else record.b_trained
    plain_sgd = step.optimizer.name == "sgd" and not any(
        value for name, value in step.optimizer.hyperparameters if name == "weight_decay")
    if not trained:
        return f"{quantity.key} = {parameter}{l}.copy()  # not updated"
    if plain_sgd:
        return f"{quantity.key} = {parameter}{l} - learning_rate * grad_{parameter}{l}"
    index = 0 if parameter == "W" else 1
    return (f"{quantity.key} = engine_step.new[{l - 1}][{index}]  "
            f"# {step.optimizer.name}: see the update rule above")


def _optimizer_code(step: Step) -> str | None:
    """For optimisers beyond plain SGD, take the update from the engine itself."""
    if step.optimizer.name == "sgd" and not any(
            value for name, value in step.optimizer.hyperparameters if name == "weight_decay"):
        return None
    settings = ", ".join(f"{name}={value!r}" for name, value in step.optimizer.hyperparameters
                         if name != "learning_rate")
    return ("from gradtrace.core.optimizers import make_optimizer\n\n"
            f"optimizer = make_optimizer({step.optimizer.name!r}, learning_rate"
            f"{', ' + settings if settings else ''})\n"
            "engine_step = train_step(mlp.copy(), X, Y, optimizer)")


CHECK_CODE = """# The same step by the engine, to check every number above
check = train_step(mlp.copy(), X, Y, SGD(learning_rate))
for l, (W_new, b_new) in enumerate(check.new, start=1):
    assert np.allclose(W_new, globals()[f"W{l}_new"]), f"W{l}"
    assert np.allclose(b_new, globals()[f"b{l}_new"]), f"b{l}"
assert np.isclose(check.cost, cost)
print("train_step agrees with every update above")"""


def render(trace: Trace, options: RenderOptions) -> str:
    """The notebook as JSON text (nbformat 4), for the first step of the trace."""
    options = options.for_trace(trace)
    step = trace.steps[0]
    cells: list[Cell] = [
        _markdown_cell(
            f"# {escape(title(trace, options))}\n\n{escape(describe(step))}\n\n"
            "Run the cells in order; change a weight or the input in the next cell and run "
            "them again to see every number change."),
        _code_cell(_setup_code(step)),
        _diagram_cell(trace),
    ]
    optimizer = _optimizer_code(step)
    for phase, quantities in sections(step):
        cells.append(_markdown_cell(
            f"## {PHASE_TITLES[phase]}\n\n{escape(phase_intro(phase, step.network))}"))
        if phase == "update" and optimizer:
            cells.append(_code_cell(optimizer))
        for quantity in quantities:
            cells.append(_markdown_cell(
                "\n".join(quantity_lines(quantity, options, "###")).rstrip()))
            cells.append(_code_cell(_code(quantity, step)))
    if optimizer is None:
        cells.append(_code_cell(CHECK_CODE))
    if len(trace.steps) > 1:
        cells.append(_markdown_cell(
            f"The trace has {len(trace.steps)} steps; this notebook works through the first. "
            "The later steps, in full:\n\n" + _later_steps(trace, options)))
    drift = drift_section(trace)
    if drift:  # the code cells compute in float64: the hand-rounded numbers are the text's
        cells.append(_markdown_cell(
            "\n".join(drift).rstrip() + "\n\nThe code cells above compute exactly, without "
            "rounding; the equations show the hand-rounded numbers."))
    for number, cell in enumerate(cells):
        cell["id"] = f"gradtrace-{number}"  # stable ids: the same trace gives the same file
    notebook = {"cells": cells, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }, "nbformat": NBFORMAT, "nbformat_minor": NBFORMAT_MINOR}
    return _writes(notebook) + "\n"


# The notebook is written as nbformat.v4.writes writes it (tests check byte for byte, and validate
# it), without importing nbformat: its import and per-cell schema checks cost half a second.

def _markdown_cell(source: str) -> Cell:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def _code_cell(source: str) -> Cell:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source}


def _writes(notebook: dict[str, Any]) -> str:
    """nbformat's JSON: sources as lists of lines, keys sorted, one space of indent."""
    cells = [{**cell, "source": cell["source"].splitlines(True)} for cell in notebook["cells"]]
    return json.dumps({**notebook, "cells": cells}, sort_keys=True, indent=1,
                      separators=(",", ": "), ensure_ascii=False)


def _diagram_cell(trace: Trace) -> Cell:
    """The network drawn as SVG in an ``<img>`` data URL.

    JupyterLab shows an SVG this way, but neither as a Markdown attachment nor as inline ``<svg>``
    (jupyterlab#10464); the SVG writer needs no matplotlib, which costs seconds to draw a PNG.
    """
    svg = diagram.inline_svg(trace, "values", 0, 4)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return _markdown_cell(
        f'<img src="data:image/svg+xml;base64,{data}" alt="{escape_attribute(NETWORK_CAPTION)}">')


def _later_steps(trace: Trace, options: RenderOptions) -> str:
    from gradtrace.trace.model import Trace as TraceType

    later = TraceType(trace.network, trace.steps[1:], trace.name)
    text = render_markdown(later, options)
    return text.split("\n", 1)[1] if text.startswith("# ") else text
